/// The catalog of lexer and parser diagnostics. One factory per message, so
/// every wording lives here and each has a stable identifier.
extension DiagnosticMessage {
    // MARK: Lexing

    static func unexpectedCharacter(_ text: String) -> Self {
        .init(id: "lex_unexpected_character", text: "unexpected character '\(text)' in source")
    }
    static let invalidUTF8 = Self(id: "lex_invalid_utf8", text: "source is not valid UTF-8")
    static let unterminatedString = Self(id: "lex_unterminated_string", text: "unterminated string literal")
    static func invalidEscape(_ text: String) -> Self {
        .init(id: "lex_invalid_escape", text: "invalid escape sequence '\\\(text)' in string (use \\\", \\\\, \\n or \\t)")
    }
    static func malformedNumber(_ text: String) -> Self {
        .init(id: "lex_malformed_number", text: "malformed number '\(text)'")
    }

    // MARK: Parsing

    static func expected(_ what: String, found: String) -> Self {
        .init(id: "expected_token", text: "expected \(what), found \(found)")
    }
    static func expectedDeclaration(found: String) -> Self {
        .init(id: "expected_declaration", text: "expected 'model', 'layer' or 'train' declaration, found \(found)")
    }
    static func expectedStatement(found: String) -> Self {
        .init(id: "expected_statement", text: "expected a statement ('name = …', 'param …' or 'return …'), found \(found)")
    }
    static func expectedStatementEnd(found: String) -> Self {
        .init(id: "expected_statement_end", text: "expected the statement to end (a new line or ';'), found \(found)")
    }
    static func expectedExpression(found: String) -> Self {
        .init(id: "expected_expression", text: "expected an expression, found \(found)")
    }
    static func reservedWord(_ word: String, context: String) -> Self {
        .init(id: "reserved_word", text: "'\(word)' is a reserved word and cannot be used as a \(context)")
    }
    static let unusedExpression = Self(id: "unused_expression", text: "expression result is unused")
    static let positionalAfterKeyword = Self(id: "positional_after_keyword", text: "positional argument follows a keyword argument")
    static let chainedComparison = Self(id: "chained_comparison", text: "comparisons cannot be chained")
    static let emptyResult = Self(id: "empty_result", text: "a result tuple needs at least one type")
    static func nestingTooDeep(_ limit: Int) -> Self {
        .init(id: "nesting_too_deep", text: "expression is nested too deeply (more than \(limit) levels)")
    }
    static func integerTooLarge(_ text: String) -> Self {
        .init(id: "integer_too_large", text: "integer literal '\(text)' is too large")
    }
    static func floatOutOfRange(_ text: String) -> Self {
        .init(id: "float_out_of_range", text: "number '\(text)' is out of range")
    }
}
