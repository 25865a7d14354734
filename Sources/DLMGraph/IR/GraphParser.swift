import DLMSyntax

/// Parses one graph in the textual IR (the form `GraphPrinter` writes).
/// Throws `IRParseError` with the line and column of the problem; never
/// traps on malformed text. The result is not verified: call `verify`.
public func parseGraph(_ text: String) throws -> Graph {
    var parser = try GraphParser(text)
    return try parser.parseTopLevel()
}

/// Recursive-descent parser for the textual IR; each method's comment gives its rule.
struct GraphParser {
    private var tokens: [IRToken]
    private var index = 0
    private var depth = 0
    private var locationFiles: [String: SourceFile] = [:]
    static let maximumDepth = 100

    init(_ text: String) throws { tokens = try IRLexer.tokenize(text) }

    // MARK: Token helpers

    private var current: IRToken { tokens[Swift.min(index, tokens.count - 1)] }

    private mutating func advance() { if index < tokens.count - 1 { index += 1 } }

    private func error(_ message: String, at token: IRToken? = nil) -> IRParseError {
        let token = token ?? current
        let found = token.kind == .end ? "end of input" : "'\(token.kind == .percentName ? "%" : token.kind == .atName ? "@" : "")\(token.text)'"
        return IRParseError("\(message), found \(found)", line: token.line, column: token.column)
    }

    private func isPunctuation(_ text: String) -> Bool { current.kind == .punctuation && current.text == text }

    private func isKeyword(_ text: String) -> Bool { current.kind == .identifier && current.text == text }

    private mutating func consume(_ text: String) -> Bool {
        if isPunctuation(text) || (current.kind == .arrow && text == "->") {
            advance()
            return true
        }
        return false
    }

    private mutating func expect(_ text: String, _ context: String) throws {
        guard consume(text) else { throw error("expected '\(text)' \(context)") }
    }

    private mutating func expectKeyword(_ text: String) throws {
        guard isKeyword(text) else { throw error("expected '\(text)'") }
        advance()
    }

    private mutating func expectName(_ kind: IRToken.Kind, _ what: String) throws -> IRToken {
        guard current.kind == kind else { throw error("expected \(what)") }
        let token = current
        advance()
        return token
    }

    /// `item (',' item)*` up to a closing punctuation, which is consumed.
    private mutating func list(closedBy close: String, _ context: String, _ item: (inout GraphParser) throws -> Void) throws {
        if consume(close) { return }
        repeat { try item(&self) } while consume(",")
        try expect(close, context)
    }

    private mutating func nested<T>(_ body: (inout GraphParser) throws -> T) throws -> T {
        guard depth < GraphParser.maximumDepth else { throw error("nesting is too deep") }
        depth += 1
        defer { depth -= 1 }
        return try body(&self)
    }

    // MARK: Graphs

    /// `graph ::= 'graph' @name '(' inputs ')' '->' '(' outputs ')' '{' body '}'`
    mutating func parseTopLevel() throws -> Graph {
        try expectKeyword("graph")
        let name = try expectName(.atName, "a graph name like '@Model'")
        let graph = Graph(name: name.text)
        var scope: [String: ValueID] = [:]
        try expect("(", "after the graph name")
        try parseInputs(into: graph, scope: &scope)
        try expect("->", "before the output types")
        try expect("(", "before the output types")
        var declared: [(name: String?, type: TensorType)] = []
        try list(closedBy: ")", "after the output types") { parser in
            var outputName: String?
            if parser.current.kind == .percentName {
                outputName = parser.current.text
                parser.advance()
                try parser.expect(":", "after the output name")
            }
            declared.append((outputName, try parser.parseType()))
        }
        try expect("{", "to open the graph body")
        let returnToken = try parseBody(into: graph, scope: &scope)
        try expect("}", "to close the graph")
        try expectEnd()
        guard declared.count == graph.outputs.count else {
            throw error("return has \(graph.outputs.count) values but the header declares \(declared.count)", at: returnToken)
        }
        for (position, output) in graph.outputs.enumerated() where graph.type(of: output) != declared[position].type {
            throw error("returned value \(position) has type \(graph.type(of: output)), but the header declares \(declared[position].type)", at: returnToken)
        }
        graph.outputNames = declared.map(\.name)
        return graph
    }

    /// Requires that all input has been read.
    mutating func expectEnd() throws {
        guard current.kind == .end else { throw error("expected end of input") }
    }

    /// `inputs ::= (%name ':' type (',' %name ':' type)*)? ')'`
    private mutating func parseInputs(into graph: Graph, scope: inout [String: ValueID]) throws {
        try list(closedBy: ")", "after the inputs") { parser in
            let name = try parser.expectName(.percentName, "an input like '%x: f32[B, 4]'")
            try parser.expect(":", "after the input name")
            let type = try parser.parseType()
            guard scope[name.text] == nil else { throw parser.error("redefinition of '%\(name.text)'", at: name) }
            scope[name.text] = graph.addInput(name: name.text, type: type)
        }
    }

    /// `body ::= (param | node)* 'return' values`; returns the `return` token.
    private mutating func parseBody(into graph: Graph, scope: inout [String: ValueID]) throws -> IRToken {
        while true {
            if isKeyword("param") {
                try parseParameter(into: graph)
            } else if isKeyword("return") {
                let returnToken = current
                advance()
                var outputs: [ValueID] = []
                if !isPunctuation("}") {
                    repeat { outputs.append(try parseReference(in: graph, scope: scope)) } while consume(",")
                }
                graph.setOutputs(outputs)
                return returnToken
            } else {
                try parseNode(into: graph, scope: &scope)
            }
        }
    }

    /// `param ::= 'param' 'frozen'? @name ':' type '=' initializer`
    private mutating func parseParameter(into graph: Graph) throws {
        advance()
        var trainable = true
        if isKeyword("frozen") {
            trainable = false
            advance()
        }
        let name = try expectName(.atName, "a parameter name like '@fc.weight'")
        try expect(":", "after the parameter name")
        let type = try parseType()
        try expect("=", "before the initializer")
        let initializer = try parseInitializer()
        do {
            try graph.addParameter(name: name.text, type: type, initializer: initializer, isTrainable: trainable)
        } catch {
            throw self.error("redefinition of parameter '@\(name.text)'", at: name)
        }
    }

    /// `initializer ::= name ('(' number (',' number)* ')')?`
    private mutating func parseInitializer() throws -> Initializer {
        let name = try expectName(.identifier, "an initializer like 'zeros' or 'uniform(-0.05, 0.05)'")
        var arguments: [Double] = []
        if consume("(") {
            try list(closedBy: ")", "after the initializer arguments") { parser in
                arguments.append(try parser.parseNumber())
            }
        }
        guard let initializer = Initializer.named(name.text, arguments: arguments) else {
            throw error("unknown initializer '\(name.text)' with \(arguments.count) argument(s)", at: name)
        }
        return initializer
    }

    /// `node ::= (%r (',' %r)* '=')? op '(' values ')' ('{' attrs '}')? ':' types loc? ('{' region '}')?`
    private mutating func parseNode(into graph: Graph, scope: inout [String: ValueID]) throws {
        var resultNames: [IRToken] = []
        if current.kind == .percentName {
            repeat { resultNames.append(try expectName(.percentName, "a result name")) } while consume(",")
            try expect("=", "after the result names")
        }
        let opToken = try expectName(.identifier, "an op name, 'param' or 'return'")
        guard let op = OpRegistry.op(named: opToken.text) else {
            throw error("unknown op '\(opToken.text)'", at: opToken)
        }
        try expect("(", "after the op name")
        var operands: [ValueID] = []
        try list(closedBy: ")", "after the operands") { parser in
            operands.append(try parser.parseReference(in: graph, scope: scope))
        }
        var attributes: [String: Attribute] = [:]
        if consume("{") {
            try list(closedBy: "}", "after the attributes") { parser in
                let key = try parser.expectName(.identifier, "an attribute name")
                try parser.expect("=", "after the attribute name")
                guard attributes[key.text] == nil else { throw parser.error("duplicate attribute '\(key.text)'", at: key) }
                let value = try parser.parseAttributeValue()
                let kind = op.definition.attributeSpec(named: key.text)?.kind
                attributes[key.text] = kind.flatMap { value.coerced(to: $0) } ?? value
            }
        }
        try expect(":", "before the result types")
        var types: [TensorType] = []
        if consume("(") {
            try expect(")", "for an empty result list")
        } else {
            repeat { types.append(try parseType()) } while consume(",")
        }
        guard resultNames.count == types.count else {
            throw error("\(resultNames.count) result name(s) but \(types.count) result type(s)", at: opToken)
        }
        let location = try parseLocation()
        var regions: [Graph] = []
        if consume("{") {
            try nested { parser in
                while parser.isKeyword("body") { regions.append(try parser.parseRegion()) }
            }
            try expect("}", "to close the regions")
        }
        if let normalized = try? op.definition.normalize(attributes) { attributes = normalized }
        let results = graph.appendUnverified(op, operands, resultTypes: types, attributes: attributes,
                                             regions: regions, location: location)
        for (name, value) in zip(resultNames, results) {
            guard scope[name.text] == nil else { throw error("redefinition of '%\(name.text)'", at: name) }
            scope[name.text] = value
        }
    }

    /// `region ::= 'body' '(' inputs ')' '{' body '}'`
    private mutating func parseRegion() throws -> Graph {
        advance()
        let graph = Graph(name: "body")
        var scope: [String: ValueID] = [:]
        try expect("(", "after 'body'")
        try parseInputs(into: graph, scope: &scope)
        try expect("{", "to open the body")
        _ = try parseBody(into: graph, scope: &scope)
        try expect("}", "to close the body")
        return graph
    }

    /// `location ::= 'loc' '(' string ':' int ':' int ')'`
    private mutating func parseLocation() throws -> SourceRange? {
        guard isKeyword("loc") else { return nil }
        advance()
        try expect("(", "after 'loc'")
        let path = try expectName(.string, "a quoted file name")
        try expect(":", "after the file name")
        let lineToken = current
        let line = try parseInteger()
        try expect(":", "after the line")
        let column = try parseInteger()
        try expect(")", "after the location")
        guard (1...100_000).contains(line), (1...10_000).contains(column) else {
            throw error("location \(line):\(column) is out of range", at: lineToken)
        }
        // Rebuild a stand-in file whose layout puts the offset at line:column.
        let key = "\(line):\(column):\(path.text)"
        let file = locationFiles[key] ?? SourceFile(
            path: path.text,
            bytes: Array(repeating: UInt8(ascii: "\n"), count: line - 1) + Array(repeating: UInt8(ascii: " "), count: column - 1))
        locationFiles[key] = file
        let offset = line - 1 + column - 1
        return SourceRange(file: file, start: offset, end: offset)
    }

    // MARK: Values and types

    /// `value ::= %name | @name`
    private mutating func parseReference(in graph: Graph, scope: [String: ValueID]) throws -> ValueID {
        let token = current
        switch token.kind {
        case .percentName:
            advance()
            guard let value = scope[token.text] else { throw error("use of undefined value '%\(token.text)'", at: token) }
            return value
        case .atName:
            advance()
            guard let parameter = graph.parameter(named: token.text) else {
                throw error("use of undefined parameter '@\(token.text)'", at: token)
            }
            return parameter.value
        default:
            throw error("expected a value like '%0' or '@fc.weight'")
        }
    }

    /// `type ::= dtype '[' (dim (',' dim)*)? ']'`
    mutating func parseType() throws -> TensorType {
        let token = try expectName(.identifier, "a tensor type like 'f32[B, 4]'")
        guard let dtype = DType(rawValue: token.text) else { throw error("unknown dtype '\(token.text)'", at: token) }
        try expect("[", "after the dtype")
        var dims: [Dim] = []
        try list(closedBy: "]", "after the dims") { parser in dims.append(try parser.parseDim()) }
        return TensorType(dtype, Shape(dims))
    }

    /// `dim ::= '-'? term (('+' | '-') term)*`
    mutating func parseDim() throws -> Dim {
        try nested { parser in
            let negate = parser.consume("-")
            var value = try parser.parseDimTerm()
            if negate { value = -value }
            while true {
                if parser.consume("+") {
                    value = value + (try parser.parseDimTerm())
                } else if parser.consume("-") {
                    value = value - (try parser.parseDimTerm())
                } else {
                    return value
                }
            }
        }
    }

    /// `term ::= factor (('*' factor) | ('/' int))*`
    private mutating func parseDimTerm() throws -> Dim {
        var value = try parseDimFactor()
        while true {
            if consume("*") {
                value = value * (try parseDimFactor())
            } else if isPunctuation("/") {
                let slash = current
                advance()
                let divisor = try parseInteger()
                guard divisor > 0 else { throw error("dim divisor must be positive", at: slash) }
                value = value.floorDivided(by: divisor)
            } else {
                return value
            }
        }
    }

    /// `factor ::= int | symbol | '(' dim ')'`
    private mutating func parseDimFactor() throws -> Dim {
        if current.kind == .integer { return .constant(try parseInteger()) }
        if current.kind == .identifier {
            let name = current.text
            advance()
            return .symbol(name)
        }
        if consume("(") {
            let value = try parseDim()
            try expect(")", "to close the dim")
            return value
        }
        throw error("expected a dim like 'B', '28' or 'B*T'")
    }

    private mutating func parseInteger() throws -> Int {
        guard current.kind == .integer else { throw error("expected an integer") }
        guard let value = Int(current.text) else { throw error("integer literal is too large") }
        advance()
        return value
    }

    /// `number ::= '-'? (int | float | 'inf' | 'nan')`
    private mutating func parseNumber() throws -> Double {
        let negative = consume("-")
        let token = current
        let magnitude: Double
        switch token.kind {
        case .integer, .float:
            guard let value = Double(token.text) else { throw error("malformed number") }
            magnitude = value
        case .identifier where token.text == "inf":
            magnitude = .infinity
        case .identifier where token.text == "nan":
            magnitude = .nan
        default:
            throw error("expected a number")
        }
        advance()
        return negative ? -magnitude : magnitude
    }

    // MARK: Attributes

    /// True if the next tokens start a float: `-`? (float | inf | nan).
    private func startsFloat() -> Bool {
        var token = current
        if token.kind == .punctuation, token.text == "-", index + 1 < tokens.count { token = tokens[index + 1] }
        return token.kind == .float || (token.kind == .identifier && (token.text == "inf" || token.text == "nan"))
    }

    /// `attr-value ::= number | dim | 'true' | 'false' | string | dtype | '[' (item (',' item)*)? ']'`
    private mutating func parseAttributeValue() throws -> Attribute {
        if current.kind == .string {
            let text = current.text
            advance()
            return .string(text)
        }
        if consume("[") {
            let open = current
            var items: [(number: Double?, dim: Dim?)] = []
            try list(closedBy: "]", "after the list") { parser in
                items.append(parser.startsFloat() ? (try parser.parseNumber(), nil) : (nil, try parser.parseDim()))
            }
            let dims = items.compactMap(\.dim)
            let constants = dims.compactMap(\.constantValue)
            if dims.count < items.count {
                guard constants.count == dims.count else { throw error("a list mixes numbers and symbolic dims", at: open) }
                return .floats(items.map { $0.number ?? Double($0.dim?.constantValue ?? 0) })
            }
            return constants.count == dims.count ? .ints(constants) : .dims(dims)
        }
        if startsFloat() { return .float(try parseNumber()) }
        if current.kind == .identifier {
            switch current.text {
            case "true":
                advance()
                return .bool(true)
            case "false":
                advance()
                return .bool(false)
            default:
                if let dtype = DType(rawValue: current.text) {
                    advance()
                    return .dtype(dtype)
                }
            }
        }
        let dim = try parseDim()
        guard let value = dim.constantValue else { throw error("expected an attribute value") }
        return .int(value)
    }
}
