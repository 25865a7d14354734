/// A recursive-descent parser for `Grammar/dlm.ebnf`. Each method's doc
/// comment quotes the production it implements.
///
/// Errors are reported to the diagnostic engine and the parser recovers at
/// the next statement or declaration, so independent mistakes are all
/// reported in one run. It never traps: nesting deeper than
/// `maximumNestingDepth` is an error, not a stack overflow.
public struct Parser {
    /// Deepest allowed nesting of parentheses, brackets and unary operators.
    public static let maximumNestingDepth = 200

    private let file: SourceFile
    private let diagnostics: DiagnosticEngine
    /// Tokens without doc comments; `docs[i]` holds the doc lines before token i.
    private var tokens: [Token] = []
    private var docs: [Int: [String]] = [:]
    private var index = 0
    private var depth = 0
    /// Reserved words already reported as bound names; their uses parse as names.
    private var reservedNames: Set<Keyword> = []

    /// Thrown internally to unwind to the nearest recovery point after an
    /// error has been reported.
    private struct Recover: Error {}

    /// Creates a parser over a file.
    public init(file: SourceFile, diagnostics: DiagnosticEngine) {
        self.file = file
        self.diagnostics = diagnostics
        var lexer = Lexer(file: file, diagnostics: diagnostics)
        var pending: [String] = []
        for token in lexer.tokenize() {
            if token.kind == .docComment {
                pending.append(token.text)
                continue
            }
            if !pending.isEmpty {
                docs[tokens.count] = pending
                pending = []
            }
            tokens.append(token)
        }
    }

    /// Parses a whole file; the result holds every declaration that parsed.
    public static func parse(_ file: SourceFile, diagnostics: DiagnosticEngine) -> SourceUnit {
        var parser = Parser(file: file, diagnostics: diagnostics)
        return parser.parseFile()
    }

    // MARK: - Token cursor

    private var current: Token { tokens[index] }
    private var previous: Token { tokens[max(0, index - 1)] }

    private func peek(_ offset: Int) -> Token { tokens[min(index + offset, tokens.count - 1)] }

    @discardableResult
    private mutating func advance() -> Token {
        let token = current
        if index < tokens.count - 1 { index += 1 }
        return token
    }

    private func check(_ p: Punctuation) -> Bool { current.kind == .punctuation(p) }
    private func check(_ k: Keyword) -> Bool { current.kind == .keyword(k) }

    private mutating func accept(_ p: Punctuation) -> Token? {
        check(p) ? advance() : nil
    }

    /// Consumes `p` or reports "expected 'p' <context>" and unwinds.
    @discardableResult
    private mutating func expect(_ p: Punctuation, _ context: String, notes: [DiagnosticNote] = []) throws -> Token {
        if let token = accept(p) { return token }
        failFound(.expected("'\(p.rawValue)' \(context)", found: current.userDescription), at: errorRange, notes: notes)
        throw Recover()
    }

    private mutating func expectIdentifier(_ context: String) throws -> Identifier {
        if current.kind == .identifier {
            let token = advance()
            return Identifier(token.text, range: token.range)
        }
        if case .keyword(let keyword) = current.kind {
            fail(.reservedWord(keyword.rawValue, context: context), at: current.range)
        } else {
            failFound(.expected(context, found: current.userDescription), at: errorRange)
        }
        throw Recover()
    }

    /// Where a "found X" error points: the offending token, or just past the
    /// previous token when the offending token is on a later line (so a
    /// missing ')' is reported at the end of the line it belongs to).
    private var errorRange: SourceRange {
        if current.kind == .endOfFile || (current.startsLine && index > 0) {
            return previous.range.endPoint
        }
        return current.range
    }

    private func fail(_ message: DiagnosticMessage, at range: SourceRange, notes: [DiagnosticNote] = []) {
        diagnostics.error(message, at: range, notes: notes)
    }

    /// Reports an "expected …, found <current token>" error, unless the current
    /// token is text the lexer already rejected: one mistake, one error.
    private func failFound(_ message: DiagnosticMessage, at range: SourceRange, notes: [DiagnosticNote] = []) {
        if current.kind == .invalid { return }
        fail(message, at: range, notes: notes)
    }

    private func range(from start: SourceRange) -> SourceRange {
        start.union(previous.range)
    }

    // MARK: - Declarations

    /// `file = { declaration } ;`
    public mutating func parseFile() -> SourceUnit {
        var declarations: [Declaration] = []
        while current.kind != .endOfFile && !diagnostics.isFull {
            let doc = docs[index] ?? []
            do {
                switch current.kind {
                case .keyword(.model): declarations.append(.model(try parseFunction(.model, doc: doc)))
                case .keyword(.layer): declarations.append(.layer(try parseFunction(.layer, doc: doc)))
                case .keyword(.train): declarations.append(.train(try parseTrain(doc: doc)))
                default:
                    failFound(.expectedDeclaration(found: current.userDescription), at: current.range)
                    throw Recover()
                }
            } catch {
                synchronizeToDeclaration()
            }
        }
        return SourceUnit(file: file, declarations: declarations)
    }

    /// Skips to the next `model`, `layer` or `train` keyword at the start of a line.
    private mutating func synchronizeToDeclaration() {
        advance()
        while current.kind != .endOfFile {
            if current.startsLine, check(.model) || check(.layer) || check(.train) { return }
            advance()
        }
    }

    /// `model decl = "model" identifier "(" [ parameter list ] ")" "->" result type block ;`
    /// `layer decl = "layer" identifier "(" [ parameter list ] ")" "->" result type block ;`
    private mutating func parseFunction(_ kind: FunctionDecl.Kind, doc: [String]) throws -> FunctionDecl {
        let keyword = advance()
        let name = try expectIdentifier("\(kind.rawValue) name")
        let open = try expect(.leftParen, "after \(kind.rawValue) name")
        var parameters: [ParameterDecl] = []
        if !check(.rightParen) {
            parameters = try parseParameterList(open: open)
        }
        try expect(.rightParen, "to close the parameter list", notes: [DiagnosticNote("to match this '('", at: open.range)])
        try expect(.arrow, "and a result type after the parameter list")
        let result = try parseResultType()
        let (body, closing) = try parseBlock(owner: "\(kind.rawValue) '\(name.name)'")
        return FunctionDecl(kind: kind, name: name, doc: doc, parameters: parameters, result: result,
                            body: body, range: keyword.range.union(closing), closingBrace: closing)
    }

    /// `parameter list = parameter { "," parameter } [ "," ] ;`
    private mutating func parseParameterList(open: Token) throws -> [ParameterDecl] {
        var parameters = [try parseParameter()]
        while accept(.comma) != nil {
            if check(.rightParen) { break }
            parameters.append(try parseParameter())
        }
        return parameters
    }

    /// `parameter = identifier ":" type [ "=" expression ] ;`
    private mutating func parseParameter() throws -> ParameterDecl {
        let name = try expectIdentifier("parameter name")
        try expect(.colon, "and a type after parameter '\(name.name)'")
        let type = try parseType()
        let defaultValue = accept(.equal) != nil ? try parseExpression() : nil
        return ParameterDecl(name: name, type: type, defaultValue: defaultValue)
    }

    /// `result type = type | "(" result element { "," result element } [ "," ] ")" ;`
    /// `result element = [ identifier ":" ] type ;`
    private mutating func parseResultType() throws -> ResultType {
        let start = current.range
        guard let open = accept(.leftParen) else {
            let type = try parseType()
            return ResultType(elements: [(nil, type)], isTuple: false, range: type.range)
        }
        var elements: [(name: Identifier?, type: TypeExpr)] = []
        repeat {
            if check(.rightParen) { break }
            var label: Identifier?
            if current.kind == .identifier, peek(1).kind == .punctuation(.colon) {
                label = Identifier(current.text, range: advance().range)
                advance()
            }
            elements.append((label, try parseType()))
        } while accept(.comma) != nil
        try expect(.rightParen, "to close the result types", notes: [DiagnosticNote("to match this '('", at: open.range)])
        if elements.isEmpty {
            fail(.emptyResult, at: range(from: start))
            throw Recover()
        }
        return ResultType(elements: elements, isTuple: true, range: range(from: start))
    }

    /// `train decl = "train" identifier "{" { setting } "}" ;`
    /// `setting = identifier "=" expression [ ";" ] ;`
    private mutating func parseTrain(doc: [String]) throws -> TrainDecl {
        let keyword = advance()
        let model = try expectIdentifier("model name after 'train'")
        let open = try expect(.leftBrace, "to begin the train block")
        var settings: [TrainSetting] = []
        while !check(.rightBrace) && current.kind != .endOfFile && !diagnostics.isFull {
            do {
                let key = try expectIdentifier("setting name (data, loss, optimizer, epochs, …)")
                try expect(.equal, "after setting '\(key.name)'")
                let value = try parseExpression()
                settings.append(TrainSetting(key: key, value: value))
                try endStatement()
            } catch {
                synchronizeToStatement()
            }
        }
        let close = try expect(.rightBrace, "to close the train block", notes: [DiagnosticNote("to match this '{'", at: open.range)])
        return TrainDecl(model: model, doc: doc, settings: settings, range: keyword.range.union(close.range))
    }

    // MARK: - Types

    /// `type = identifier [ shape ] ;`
    /// `shape = "[" [ dimension { "," dimension } [ "," ] ] "]" ;`
    private mutating func parseType() throws -> TypeExpr {
        let name = try expectIdentifier("type (f32, f64, i32, i64, bool)")
        guard let open = accept(.leftBracket) else {
            return TypeExpr(name: name, shape: nil, range: name.range)
        }
        var dims: [DimExpr] = []
        while !check(.rightBracket) {
            dims.append(try parseDimension())
            if accept(.comma) == nil { break }
        }
        try expect(.rightBracket, "to close the shape", notes: [DiagnosticNote("to match this '['", at: open.range)])
        return TypeExpr(name: name, shape: dims, range: range(from: name.range))
    }

    /// `dimension = dim term { ( "+" | "-" ) dim term } ;`
    private mutating func parseDimension() throws -> DimExpr {
        var lhs = try parseDimTerm()
        while let op = accept(.plus) ?? accept(.minus) {
            let rhs = try parseDimTerm()
            lhs = .binary(op.text == "+" ? .add : .subtract, lhs, rhs, lhs.range.union(rhs.range))
        }
        return lhs
    }

    /// `dim term = dim factor { ( "*" | "/" ) dim factor } ;`
    private mutating func parseDimTerm() throws -> DimExpr {
        var lhs = try parseDimFactor()
        while let op = accept(.star) ?? accept(.slash) {
            let rhs = try parseDimFactor()
            lhs = .binary(op.text == "*" ? .multiply : .divide, lhs, rhs, lhs.range.union(rhs.range))
        }
        return lhs
    }

    /// `dim factor = integer | identifier | "(" dimension ")" ;`
    private mutating func parseDimFactor() throws -> DimExpr {
        switch current.kind {
        case .integer:
            let token = advance()
            guard let value = Self.integerValue(token.text) else {
                fail(.integerTooLarge(token.text), at: token.range)
                throw Recover()
            }
            return .integer(value, token.range)
        case .identifier:
            let token = advance()
            return .symbol(Identifier(token.text, range: token.range))
        case .punctuation(.leftParen):
            let open = advance()
            try enterNesting(at: open.range)
            defer { depth -= 1 }
            let inner = try parseDimension()
            try expect(.rightParen, "to close the dimension", notes: [DiagnosticNote("to match this '('", at: open.range)])
            return inner
        default:
            failFound(.expected("a dimension (a size like 28 or a name like B)", found: current.userDescription), at: errorRange)
            throw Recover()
        }
    }

    // MARK: - Statements

    /// `block = "{" { statement } "}" ;`
    private mutating func parseBlock(owner: String) throws -> ([Statement], SourceRange) {
        let open = try expect(.leftBrace, "to begin the body of \(owner)")
        var statements: [Statement] = []
        while !check(.rightBrace) && current.kind != .endOfFile && !diagnostics.isFull {
            // A declaration keyword at the start of a line means this block lost
            // its '}' (unless it is misused as a name: `model = …`).
            if current.startsLine, check(.model) || check(.layer) || check(.train),
               peek(1).kind != .punctuation(.equal) { break }
            do {
                statements.append(try parseStatement())
                try endStatement()
            } catch {
                synchronizeToStatement()
            }
        }
        let close = try expect(.rightBrace, "to close the body of \(owner)", notes: [DiagnosticNote("to match this '{'", at: open.range)])
        return (statements, close.range)
    }

    /// Statements end at ';', at '}', or where the next token starts a new line.
    private mutating func endStatement() throws {
        if accept(.semicolon) != nil || check(.rightBrace) || current.startsLine || current.kind == .endOfFile { return }
        failFound(.expectedStatementEnd(found: current.userDescription), at: current.range)
        throw Recover()
    }

    /// Skips to the start of the next statement: past a ';', before a '}' of
    /// this block, or at the first token of a later line outside brackets.
    private mutating func synchronizeToStatement() {
        var nesting = 0
        if current.kind != .endOfFile && !check(.rightBrace) { advance() }
        while current.kind != .endOfFile {
            switch current.kind {
            case .punctuation(.leftParen), .punctuation(.leftBracket), .punctuation(.leftBrace):
                nesting += 1
            case .punctuation(.rightParen), .punctuation(.rightBracket):
                nesting = max(0, nesting - 1)
            case .punctuation(.rightBrace):
                if nesting == 0 { return }
                nesting -= 1
            case .punctuation(.semicolon) where nesting == 0:
                advance()
                return
            default:
                break
            }
            if current.startsLine && nesting == 0 && !startsContinuation { return }
            if current.startsLine, check(.model) || check(.layer) || check(.train) { return }
            advance()
        }
    }

    /// A line starting with an infix operator continues the previous statement.
    private var startsContinuation: Bool {
        switch current.kind {
        case .punctuation(.pipe), .punctuation(.plus), .punctuation(.star), .punctuation(.slash), .punctuation(.at),
             .punctuation(.leftParen), .punctuation(.leftBrace):
            return true
        default:
            return false
        }
    }

    /// `statement = ( param stmt | return stmt | assignment ) [ ";" ] ;`
    private mutating func parseStatement() throws -> Statement {
        // `param = …`: a reserved word used as a name. Report it once and
        // parse on with it as the name, so its uses do not cascade.
        if case .keyword(let keyword) = current.kind, keyword != .true, keyword != .false,
           peek(1).kind == .punctuation(.equal) {
            let token = advance()
            fail(.reservedWord(keyword.rawValue, context: "value name"), at: token.range)
            reservedNames.insert(keyword)
            advance()
            let value = try parseExpression()
            return .assign(targets: [Identifier(token.text, range: token.range)], isTuple: false, value: value,
                           range: token.range.union(value.range))
        }
        switch current.kind {
        case .keyword(.param): return .param(try parseParam())
        case .keyword(.return):
            let keyword = advance()
            let value = try parseExpression()
            return .return(value, range: keyword.range.union(value.range))
        default: return try parseAssignment()
        }
    }

    /// `param stmt = "param" identifier ":" type "=" expression ;`
    private mutating func parseParam() throws -> ParamDecl {
        let doc = docs[index] ?? []
        let keyword = advance()
        let name = try expectIdentifier("parameter name after 'param'")
        try expect(.colon, "and a type after 'param \(name.name)'")
        let type = try parseType()
        try expect(.equal, "and an initializer (zeros, glorot_uniform, …) after the type of '\(name.name)'")
        let initializer = try parseExpression()
        return ParamDecl(name: name, doc: doc, type: type, initializer: initializer, range: keyword.range.union(initializer.range))
    }

    /// `assignment = target "=" expression ;`
    /// `target = identifier | "(" identifier { "," identifier } [ "," ] ")" ;`
    private mutating func parseAssignment() throws -> Statement {
        let start = current.range
        var targets: [Identifier] = []
        var isTuple = false
        if let open = accept(.leftParen) {
            isTuple = true
            repeat {
                if check(.rightParen) { break }
                targets.append(try expectIdentifier("name to bind"))
            } while accept(.comma) != nil
            try expect(.rightParen, "to close the names being bound", notes: [DiagnosticNote("to match this '('", at: open.range)])
        } else if current.kind == .identifier, peek(1).kind == .punctuation(.equal) {
            targets.append(Identifier(current.text, range: advance().range))
        } else {
            // An expression on its own line: say what a statement must look like.
            if current.kind == .identifier || current.kind == .integer || current.kind == .float {
                let expr = try parseExpression()
                fail(.unusedExpression, at: expr.range, notes: [DiagnosticNote("bind it with 'name = …' or return it with 'return …'")])
            } else {
                failFound(.expectedStatement(found: current.userDescription), at: current.range)
            }
            throw Recover()
        }
        try expect(.equal, "after the name\(targets.count == 1 ? "" : "s") being bound")
        let value = try parseExpression()
        return .assign(targets: targets, isTuple: isTuple, value: value, range: start.union(value.range))
    }

    // MARK: - Expressions

    private mutating func enterNesting(at range: SourceRange) throws {
        depth += 1
        if depth > Self.maximumNestingDepth {
            fail(.nestingTooDeep(Self.maximumNestingDepth), at: range)
            // Skip the rest of the file: recovering inside such input only repeats the error.
            index = tokens.count - 1
            throw Recover()
        }
    }

    /// `expression = pipeline ;`
    public mutating func parseExpression() throws -> Expr {
        try parsePipeline()
    }

    /// `pipeline = comparison { "|>" pipe stage } ;`
    /// `pipe stage = identifier [ "(" [ argument list ] ")" ] ;`
    private mutating func parsePipeline() throws -> Expr {
        var value = try parseComparison()
        while accept(.pipe) != nil {
            let callee = try expectIdentifier("layer or function name after '|>'")
            var arguments = [Argument(label: nil, value: value)]
            if let open = accept(.leftParen) {
                arguments += try parseArguments(open: open)
            }
            value = .call(callee: callee, arguments: arguments, isPipelined: true, range: value.range.union(previous.range))
        }
        return value
    }

    /// `comparison = additive [ ( "==" | "!=" | "<" | "<=" | ">" | ">=" ) additive ] ;`
    private mutating func parseComparison() throws -> Expr {
        let lhs = try parseAdditive()
        let operators: [Punctuation: BinaryOperator] = [
            .equalEqual: .equal, .notEqual: .notEqual, .less: .less,
            .lessEqual: .lessEqual, .greater: .greater, .greaterEqual: .greaterEqual,
        ]
        guard case .punctuation(let p) = current.kind, let op = operators[p] else { return lhs }
        let opToken = advance()
        let rhs = try parseAdditive()
        if case .punctuation(let next) = current.kind, operators[next] != nil {
            fail(.chainedComparison, at: current.range, notes: [DiagnosticNote("compare two values at a time")])
            throw Recover()
        }
        return .binary(op, lhs, rhs, operatorRange: opToken.range, range: lhs.range.union(rhs.range))
    }

    /// `additive = multiplicative { ( "+" | "-" ) multiplicative } ;`
    private mutating func parseAdditive() throws -> Expr {
        var lhs = try parseMultiplicative()
        while let opToken = accept(.plus) ?? accept(.minus) {
            let rhs = try parseMultiplicative()
            lhs = .binary(opToken.text == "+" ? .add : .subtract, lhs, rhs, operatorRange: opToken.range, range: lhs.range.union(rhs.range))
        }
        return lhs
    }

    /// `multiplicative = unary { ( "*" | "/" | "@" ) unary } ;`
    private mutating func parseMultiplicative() throws -> Expr {
        var lhs = try parseUnary()
        while let opToken = accept(.star) ?? accept(.slash) ?? accept(.at) {
            let op: BinaryOperator = opToken.text == "*" ? .multiply : opToken.text == "/" ? .divide : .matmul
            let rhs = try parseUnary()
            lhs = .binary(op, lhs, rhs, operatorRange: opToken.range, range: lhs.range.union(rhs.range))
        }
        return lhs
    }

    /// `unary = "-" unary | postfix ;`
    private mutating func parseUnary() throws -> Expr {
        guard let minus = accept(.minus) else { return try parsePostfix() }
        try enterNesting(at: minus.range)
        defer { depth -= 1 }
        let operand = try parseUnary()
        return .negate(operand, range: minus.range.union(operand.range))
    }

    /// `postfix = primary | identifier "(" [ argument list ] ")" ;`
    private mutating func parsePostfix() throws -> Expr {
        // A '(' on a later line starts a new statement, not a call.
        if current.kind == .identifier, peek(1).kind == .punctuation(.leftParen), !peek(1).startsLine {
            let callee = Identifier(current.text, range: advance().range)
            let open = advance()
            let arguments = try parseArguments(open: open)
            return .call(callee: callee, arguments: arguments, isPipelined: false, range: callee.range.union(previous.range))
        }
        return try parsePrimary()
    }

    /// `argument list = argument { "," argument } [ "," ] ;`
    /// `argument = [ identifier ":" ] expression ;`
    ///
    /// Parses from just after '(' through the closing ')'.
    private mutating func parseArguments(open: Token) throws -> [Argument] {
        try enterNesting(at: open.range)
        defer { depth -= 1 }
        var arguments: [Argument] = []
        var sawKeyword = false
        while !check(.rightParen) {
            var label: Identifier?
            if current.kind == .identifier, peek(1).kind == .punctuation(.colon) {
                label = Identifier(current.text, range: advance().range)
                advance()
                sawKeyword = true
            }
            let value = try parseExpression()
            if label == nil && sawKeyword {
                fail(.positionalAfterKeyword, at: value.range)
            }
            arguments.append(Argument(label: label, value: value))
            if accept(.comma) == nil { break }
        }
        try expect(.rightParen, "to close the argument list", notes: [DiagnosticNote("to match this '('", at: open.range)])
        return arguments
    }

    /// `primary = integer | float | string | "true" | "false" | identifier | parenthesised | list ;`
    private mutating func parsePrimary() throws -> Expr {
        let token = current
        switch token.kind {
        case .integer:
            advance()
            guard let value = Self.integerValue(token.text) else {
                fail(.integerTooLarge(token.text), at: token.range)
                throw Recover()
            }
            return .integer(value, token.range)
        case .float:
            advance()
            guard let value = Double(token.text.replacingUnderscores()), value.isFinite else {
                fail(.floatOutOfRange(token.text), at: token.range)
                throw Recover()
            }
            return .float(value, token.range)
        case .string:
            advance()
            return .string(token.text, token.range)
        case .keyword(.true), .keyword(.false):
            advance()
            return .bool(token.kind == .keyword(.true), token.range)
        case .keyword(let keyword) where reservedNames.contains(keyword):
            advance()
            return .name(Identifier(token.text, range: token.range))
        case .identifier:
            advance()
            return .name(Identifier(token.text, range: token.range))
        case .punctuation(.leftParen):
            return try parseParenthesised()
        case .punctuation(.leftBracket):
            return try parseList()
        default:
            failFound(.expectedExpression(found: token.userDescription), at: errorRange)
            throw Recover()
        }
    }

    /// `parenthesised = "(" expression [ "," [ expression { "," expression } [ "," ] ] ] ")" ;`
    private mutating func parseParenthesised() throws -> Expr {
        let open = advance()
        try enterNesting(at: open.range)
        defer { depth -= 1 }
        let first = try parseExpression()
        guard accept(.comma) != nil else {
            try expect(.rightParen, "to close the parenthesis", notes: [DiagnosticNote("to match this '('", at: open.range)])
            return first
        }
        var elements = [first]
        while !check(.rightParen) {
            elements.append(try parseExpression())
            if accept(.comma) == nil { break }
        }
        try expect(.rightParen, "to close the tuple", notes: [DiagnosticNote("to match this '('", at: open.range)])
        return .tuple(elements, range: range(from: open.range))
    }

    /// `list = "[" [ expression { "," expression } [ "," ] ] "]" ;`
    private mutating func parseList() throws -> Expr {
        let open = advance()
        try enterNesting(at: open.range)
        defer { depth -= 1 }
        var elements: [Expr] = []
        while !check(.rightBracket) {
            elements.append(try parseExpression())
            if accept(.comma) == nil { break }
        }
        try expect(.rightBracket, "to close the list", notes: [DiagnosticNote("to match this '['", at: open.range)])
        return .list(elements, range: range(from: open.range))
    }

    static func integerValue(_ text: String) -> Int? {
        Int(text.replacingUnderscores())
    }
}

extension String {
    func replacingUnderscores() -> String {
        String(filter { $0 != "_" })
    }
}
