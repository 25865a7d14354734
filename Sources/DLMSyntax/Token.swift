/// The kinds of token the lexer produces.
public enum TokenKind: Hashable, Sendable {
    case identifier
    case integer
    case float
    case string
    /// A reserved word (`model`, `layer`, `train`, `param`, `return`, `true`, `false`).
    case keyword(Keyword)
    /// Punctuation or an operator, spelled as in the source.
    case punctuation(Punctuation)
    /// A `##` doc comment line (the lexer hands these to the parser, which
    /// attaches them to the next declaration).
    case docComment
    /// Text the lexer could not turn into a token (already reported); the
    /// parser skips the statement it appears in without a second error.
    case invalid
    case endOfFile
}

/// Reserved words of the language.
public enum Keyword: String, CaseIterable, Sendable {
    case model, layer, train, param, `return`, `true`, `false`
}

/// Punctuation and operator tokens, keyed by their spelling.
public enum Punctuation: String, CaseIterable, Sendable {
    case leftParen = "(", rightParen = ")", leftBracket = "[", rightBracket = "]"
    case leftBrace = "{", rightBrace = "}", comma = ",", colon = ":", semicolon = ";"
    case equal = "=", arrow = "->", pipe = "|>", at = "@"
    case plus = "+", minus = "-", star = "*", slash = "/"
    case equalEqual = "==", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
}

/// One token with its source range and text.
public struct Token: Sendable {
    /// What the token is.
    public let kind: TokenKind
    /// Where it is.
    public let range: SourceRange
    /// Its spelling (for strings: the decoded value; for doc comments: the text after `##`).
    public let text: String
    /// Whether the token is the first on its line (used to resynchronise after errors).
    public let startsLine: Bool

    /// Creates a token.
    public init(kind: TokenKind, range: SourceRange, text: String, startsLine: Bool = false) {
        self.kind = kind
        self.range = range
        self.text = text
        self.startsLine = startsLine
    }

    /// A short description of the token for diagnostics ("'}'", "identifier 'x'", "end of file").
    public var userDescription: String {
        switch kind {
        case .identifier: "identifier '\(text)'"
        case .integer, .float: "number '\(text)'"
        case .string: "string literal"
        case .keyword(let k): "'\(k.rawValue)'"
        case .punctuation(let p): "'\(p.rawValue)'"
        case .docComment: "doc comment"
        case .invalid: "invalid text"
        case .endOfFile: "end of file"
        }
    }
}
