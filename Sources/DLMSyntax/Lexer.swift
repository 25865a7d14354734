/// Turns a source file into tokens. Never fails: malformed input becomes a
/// diagnostic and the lexer skips ahead, so the parser always sees a token
/// stream ending in `.endOfFile`.
public struct Lexer {
    private let file: SourceFile
    private let bytes: [UInt8]
    private var position = 0
    private let diagnostics: DiagnosticEngine
    private var sawNewline = false

    /// Creates a lexer over a file, reporting problems to `diagnostics`.
    public init(file: SourceFile, diagnostics: DiagnosticEngine) {
        self.file = file
        self.bytes = file.bytes
        self.diagnostics = diagnostics
    }

    /// Lexes the whole file.
    public mutating func tokenize() -> [Token] {
        var tokens: [Token] = []
        tokens.reserveCapacity(bytes.count / 3)
        while true {
            sawNewline = position == 0
            let token = next()
            tokens.append(Token(kind: token.kind, range: token.range, text: token.text, startsLine: sawNewline))
            if token.kind == .endOfFile { return tokens }
        }
    }

    private func range(_ start: Int) -> SourceRange {
        SourceRange(file: file, start: start, end: position)
    }

    private func peek(_ offset: Int = 0) -> UInt8? {
        let index = position + offset
        return index < bytes.count ? bytes[index] : nil
    }

    private mutating func next() -> Token {
        while true {
            skipTrivia()
            let start = position
            guard let byte = peek() else {
                return Token(kind: .endOfFile, range: range(start), text: "")
            }
            if byte == UInt8(ascii: "#") { return docComment() }
            if Self.isIdentifierStart(byte) { return identifier() }
            if Self.isDigit(byte) { return number() }
            if byte == UInt8(ascii: "\"") { return string() }
            if let punctuation = punctuation() {
                return Token(kind: .punctuation(punctuation), range: range(start), text: punctuation.rawValue)
            }
            skipUnknownRun()
            return Token(kind: .invalid, range: range(start), text: file.text(of: range(start)))
        }
    }

    /// Reports a run of characters that cannot start a token as one error and skips it.
    private mutating func skipUnknownRun() {
        let start = position
        var sawInvalidUTF8 = false
        repeat {
            let scalarStart = position
            position += 1
            while let b = peek(), b & 0xC0 == 0x80 { position += 1 }
            if bytes[scalarStart] >= 0x80, !Self.isValidUTF8(bytes[scalarStart..<position]) { sawInvalidUTF8 = true }
        } while position - start < 64 && peek().map(startsUnknown) == true
        if sawInvalidUTF8 {
            diagnostics.error(.invalidUTF8, at: range(start))
        } else {
            diagnostics.error(.unexpectedCharacter(file.text(of: range(start))), at: range(start))
        }
    }

    private func startsUnknown(_ byte: UInt8) -> Bool {
        if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") { return false }
        if byte == UInt8(ascii: "#") || byte == UInt8(ascii: "\"") || Self.isIdentifierStart(byte) || Self.isDigit(byte) { return false }
        return Punctuation(rawValue: String(decoding: [byte], as: UTF8.self)) == nil && byte != UInt8(ascii: "!") && byte != UInt8(ascii: "|")
    }

    /// Skips whitespace and ordinary `#` comments (not `##` doc comments).
    private mutating func skipTrivia() {
        while let byte = peek() {
            switch byte {
            case UInt8(ascii: "\n"):
                sawNewline = true
                position += 1
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                position += 1
            case UInt8(ascii: "#") where peek(1) != UInt8(ascii: "#"):
                while let b = peek(), b != UInt8(ascii: "\n") { position += 1 }
            default:
                return
            }
        }
    }

    private mutating func docComment() -> Token {
        let start = position
        position += 2
        let textStart = position
        while let b = peek(), b != UInt8(ascii: "\n") { position += 1 }
        let raw = file.text(of: SourceRange(file: file, start: textStart, end: position))
        let text = raw.hasPrefix(" ") ? String(raw.dropFirst()) : raw
        return Token(kind: .docComment, range: range(start), text: text.trimmingTrailingWhitespace())
    }

    private mutating func identifier() -> Token {
        let start = position
        while let b = peek(), Self.isIdentifierStart(b) || Self.isDigit(b) { position += 1 }
        let text = file.text(of: range(start))
        if let keyword = Keyword(rawValue: text) {
            return Token(kind: .keyword(keyword), range: range(start), text: text)
        }
        return Token(kind: .identifier, range: range(start), text: text)
    }

    private mutating func number() -> Token {
        let start = position
        var isFloat = false
        skipDigits()
        if peek() == UInt8(ascii: "."), let after = peek(1), Self.isDigit(after) {
            isFloat = true
            position += 1
            skipDigits()
        }
        if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            var lookahead = 1
            if let sign = peek(1), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { lookahead = 2 }
            if let digit = peek(lookahead), Self.isDigit(digit) {
                isFloat = true
                position += lookahead
                skipDigits()
            }
        }
        // A letter glued to a number (`3x`) is a typo worth naming.
        if let b = peek(), Self.isIdentifierStart(b) {
            while let c = peek(), Self.isIdentifierStart(c) || Self.isDigit(c) { position += 1 }
            diagnostics.error(.malformedNumber(file.text(of: range(start))), at: range(start))
        }
        let text = file.text(of: range(start))
        return Token(kind: isFloat ? .float : .integer, range: range(start), text: text)
    }

    private mutating func skipDigits() {
        while let b = peek(), Self.isDigit(b) || b == UInt8(ascii: "_") { position += 1 }
    }

    private mutating func string() -> Token {
        let start = position
        position += 1
        var value: [UInt8] = []
        while true {
            guard let b = peek(), b != UInt8(ascii: "\n") else {
                // `name: "head)`: the quote belongs before the closing brackets the line ends with.
                var close = position
                while close > start + 1, Self.closesLine(bytes[close - 1]) { close -= 1 }
                diagnostics.error(.unterminatedString, at: SourceRange(file: file, start: start, end: start + 1),
                                  notes: [DiagnosticNote("add '\"' to close the string", at: SourceRange(file: file, start: close, end: close))])
                return Token(kind: .invalid, range: range(start), text: file.text(of: range(start)))
            }
            position += 1
            if b == UInt8(ascii: "\"") { break }
            if b == UInt8(ascii: "\\") {
                let escapeStart = position - 1
                guard let e = peek(), e != UInt8(ascii: "\n") else { continue }
                position += 1
                switch e {
                case UInt8(ascii: "\""): value.append(e)
                case UInt8(ascii: "\\"): value.append(e)
                case UInt8(ascii: "n"): value.append(UInt8(ascii: "\n"))
                case UInt8(ascii: "t"): value.append(UInt8(ascii: "\t"))
                default:
                    diagnostics.error(.invalidEscape(String(decoding: [e], as: UTF8.self)),
                                      at: SourceRange(file: file, start: escapeStart, end: position))
                }
            } else {
                value.append(b)
            }
        }
        if !Self.isValidUTF8(value[...]) {
            diagnostics.error(.invalidUTF8, at: range(start))
        }
        return Token(kind: .string, range: range(start), text: String(decoding: value, as: UTF8.self))
    }

    private mutating func punctuation() -> Punctuation? {
        guard let first = peek() else { return nil }
        if let second = peek(1) {
            let pair = String(decoding: [first, second], as: UTF8.self)
            if let p = Punctuation(rawValue: pair) {
                position += 2
                return p
            }
        }
        if let p = Punctuation(rawValue: String(decoding: [first], as: UTF8.self)) {
            position += 1
            return p
        }
        return nil
    }

    static func isIdentifierStart(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z")) || b == UInt8(ascii: "_")
    }

    /// Closing punctuation and blanks that usually end a line after a string.
    static func closesLine(_ b: UInt8) -> Bool {
        [UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: ","), UInt8(ascii: ";"),
         UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r")].contains(b)
    }

    static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    static func isValidUTF8(_ bytes: ArraySlice<UInt8>) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }
}

extension String {
    func trimmingTrailingWhitespace() -> String {
        var s = Substring(self)
        while let last = s.last, last == " " || last == "\t" || last == "\r" { s.removeLast() }
        return String(s)
    }
}
