/// A token of the textual IR.
struct IRToken: Sendable {
    enum Kind: Sendable, Equatable {
        case identifier, percentName, atName, integer, float, string, punctuation, arrow, end
    }
    var kind: Kind
    /// Identifier or name text (without `%`/`@`), literal text, decoded string, or the punctuation.
    var text: String
    var line: Int
    var column: Int
}

/// Splits IR text into tokens; `//` starts a comment to the end of the line.
struct IRLexer {
    private let scalars: [Unicode.Scalar]
    private var position = 0
    private var line = 1
    private var column = 1

    init(_ text: String) { scalars = Array(text.unicodeScalars) }

    static func tokenize(_ text: String) throws -> [IRToken] {
        var lexer = IRLexer(text)
        var tokens: [IRToken] = []
        while true {
            let token = try lexer.next()
            tokens.append(token)
            if token.kind == .end { return tokens }
        }
    }

    private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        scalars.indices.contains(position + offset) ? scalars[position + offset] : nil
    }

    private mutating func advance() {
        guard let scalar = peek() else { return }
        position += 1
        if scalar == "\n" {
            line += 1
            column = 1
        } else {
            column += 1
        }
    }

    static func isDigit(_ scalar: Unicode.Scalar?) -> Bool {
        guard let scalar else { return false }
        return ("0"..."9").contains(scalar)
    }

    static func isNameStart(_ scalar: Unicode.Scalar?) -> Bool {
        guard let scalar, scalar.isASCII else { return false }
        return scalar == "_" || scalar.properties.isAlphabetic
    }

    static func isNameChar(_ scalar: Unicode.Scalar?) -> Bool {
        isNameStart(scalar) || isDigit(scalar) || scalar == "."
    }

    private mutating func skipTrivia() {
        while let scalar = peek() {
            if scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" {
                advance()
            } else if scalar == "/", peek(1) == "/" {
                while let next = peek(), next != "\n" { advance() }
            } else {
                return
            }
        }
    }

    private mutating func readName() -> String {
        var text = ""
        while IRLexer.isNameChar(peek()), let scalar = peek() {
            text.unicodeScalars.append(scalar)
            advance()
        }
        return text
    }

    mutating func next() throws -> IRToken {
        skipTrivia()
        let (startLine, startColumn) = (line, column)
        func token(_ kind: IRToken.Kind, _ text: String) -> IRToken {
            IRToken(kind: kind, text: text, line: startLine, column: startColumn)
        }
        guard let scalar = peek() else { return token(.end, "") }
        if scalar == "%" || scalar == "@" {
            advance()
            let name = readName()
            guard !name.isEmpty else {
                throw IRParseError("expected a name after '\(scalar)'", line: startLine, column: startColumn)
            }
            return token(scalar == "%" ? .percentName : .atName, name)
        }
        if IRLexer.isNameStart(scalar) { return token(.identifier, readName()) }
        if IRLexer.isDigit(scalar) { return readNumber(token) }
        if scalar == "\"" { return token(.string, try readString(startLine, startColumn)) }
        if scalar == "-", peek(1) == ">" {
            advance()
            advance()
            return token(.arrow, "->")
        }
        if "()[]{},:=+-*/".unicodeScalars.contains(scalar) {
            advance()
            return token(.punctuation, String(scalar))
        }
        throw IRParseError("unexpected character '\(scalar.escaped(asASCII: true))'", line: startLine, column: startColumn)
    }

    private mutating func readNumber(_ token: (IRToken.Kind, String) -> IRToken) -> IRToken {
        var text = ""
        var isFloat = false
        func take() {
            if let scalar = peek() { text.unicodeScalars.append(scalar) }
            advance()
        }
        while IRLexer.isDigit(peek()) { take() }
        if peek() == ".", IRLexer.isDigit(peek(1)) {
            isFloat = true
            take()
            while IRLexer.isDigit(peek()) { take() }
        }
        if peek() == "e" || peek() == "E" {
            let signed = peek(1) == "+" || peek(1) == "-"
            if IRLexer.isDigit(peek(signed ? 2 : 1)) {
                isFloat = true
                take()
                if signed { take() }
                while IRLexer.isDigit(peek()) { take() }
            }
        }
        return token(isFloat ? .float : .integer, text)
    }

    private mutating func readString(_ startLine: Int, _ startColumn: Int) throws -> String {
        advance()
        var text = ""
        while let scalar = peek() {
            advance()
            switch scalar {
            case "\"":
                return text
            case "\\":
                guard let escaped = peek() else { break }
                advance()
                switch escaped {
                case "n": text += "\n"
                case "t": text += "\t"
                case "\"", "\\": text.unicodeScalars.append(escaped)
                default:
                    throw IRParseError("unknown escape '\\\(escaped.escaped(asASCII: true))' in string", line: line, column: column - 1)
                }
            case "\n":
                throw IRParseError("unterminated string", line: startLine, column: startColumn)
            default:
                text.unicodeScalars.append(scalar)
            }
        }
        throw IRParseError("unterminated string", line: startLine, column: startColumn)
    }
}
