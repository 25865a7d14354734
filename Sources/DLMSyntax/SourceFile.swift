/// A source file held in memory, with the line table needed to turn byte
/// offsets into line/column positions.
public final class SourceFile: Sendable {
    /// The path shown in diagnostics (as the user wrote it).
    public let path: String
    /// The file's bytes. Invalid UTF-8 is kept as is; the lexer reports it.
    public let bytes: [UInt8]
    /// Byte offset of the first byte of each line.
    private let lineStarts: [Int]

    /// Creates a source file from raw bytes.
    public init(path: String, bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes
        var starts = [0]
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
            starts.append(index + 1)
        }
        self.lineStarts = starts
    }

    /// Creates a source file from text (used by tests and the REPL).
    public convenience init(path: String, text: String) {
        self.init(path: path, bytes: Array(text.utf8))
    }

    /// The 1-based line and column (in characters, counting a tab as one) of a byte offset.
    public func lineAndColumn(of offset: Int) -> (line: Int, column: Int) {
        let clamped = max(0, min(offset, bytes.count))
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= clamped { low = mid } else { high = mid - 1 }
        }
        let start = lineStarts[low]
        // Columns count Unicode scalars, not bytes: skip UTF-8 continuation bytes.
        var column = 1
        var index = start
        while index < clamped {
            if bytes[index] & 0xC0 != 0x80 { column += 1 }
            index += 1
        }
        if clamped < bytes.count, bytes[clamped] & 0xC0 == 0x80 { column -= 1 }
        return (low + 1, max(1, column))
    }

    /// The text of a 1-based line, without its newline; invalid UTF-8 is repaired.
    public func lineText(_ line: Int) -> String {
        guard line >= 1, line <= lineStarts.count else { return "" }
        let start = lineStarts[line - 1]
        var end = line < lineStarts.count ? lineStarts[line] - 1 : bytes.count
        if end > start, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        return String(decoding: bytes[start..<max(start, end)], as: UTF8.self)
    }

    /// The number of lines in the file.
    public var lineCount: Int { lineStarts.count }

    /// The source text of a range, with invalid UTF-8 repaired.
    public func text(of range: SourceRange) -> String {
        let start = max(0, min(range.start, bytes.count))
        let end = max(start, min(range.end, bytes.count))
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}

/// A half-open byte range in one source file.
public struct SourceRange: Hashable, Sendable {
    /// The file the range belongs to.
    public let file: SourceFile
    /// The first byte of the range.
    public let start: Int
    /// One past the last byte of the range.
    public let end: Int

    /// Creates a range; `end` is clamped to be at least `start`.
    public init(file: SourceFile, start: Int, end: Int) {
        self.file = file
        self.start = start
        self.end = max(start, end)
    }

    /// The smallest range covering both ranges (which must be in the same file).
    public func union(_ other: SourceRange) -> SourceRange {
        SourceRange(file: file, start: min(start, other.start), end: max(end, other.end))
    }

    /// An empty range at the start of this one.
    public var startPoint: SourceRange { SourceRange(file: file, start: start, end: start) }

    /// An empty range at the end of this one.
    public var endPoint: SourceRange { SourceRange(file: file, start: end, end: end) }

    /// `file:line:col` of the start, the form diagnostics and the IR print.
    public var description: String {
        let (line, column) = file.lineAndColumn(of: start)
        return "\(file.path):\(line):\(column)"
    }

    public static func == (lhs: SourceRange, rhs: SourceRange) -> Bool {
        lhs.file === rhs.file && lhs.start == rhs.start && lhs.end == rhs.end
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(ObjectIdentifier(file))
        hasher.combine(start)
        hasher.combine(end)
    }
}
