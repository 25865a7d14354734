/// A syntax or name error in textual IR, with its 1-based line and column.
public struct IRParseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Lowercase message, e.g. `expected ':' after input name`.
    public var message: String
    /// 1-based line in the IR text.
    public var line: Int
    /// 1-based column (in Unicode scalars) in the IR text.
    public var column: Int

    /// Creates an error.
    public init(_ message: String, line: Int, column: Int) {
        self.message = message
        self.line = line
        self.column = column
    }

    /// `line:col: message`.
    public var description: String { "\(line):\(column): \(message)" }
}
