/// Checks a graph and its scan bodies; returns every problem found (empty
/// when the graph is valid). Never traps, whatever the graph holds.
///
/// Checks: SSA (operands defined before use, each value defined once),
/// operand arity, attributes (known, right kind, all present), result types
/// equal to what the op's type rule infers, scan bodies (recursively),
/// outputs defined, input and parameter names unique, and symbolic dims
/// only using symbols that appear in the graph inputs' types.
public func verify(_ graph: Graph) -> [VerificationError] {
    var verifier = GraphVerifier(graph: graph)
    verifier.run()
    return verifier.errors
}

/// Throws the first verification error, if any.
public func verifyOrThrow(_ graph: Graph) throws {
    if let first = verify(graph).first { throw first }
}

struct GraphVerifier {
    let graph: Graph
    var errors: [VerificationError] = []
    var defined = Set<ValueID>()
    var allowedSymbols = Set<String>()
    let namer: ValueNamer

    init(graph: Graph) {
        self.graph = graph
        self.namer = ValueNamer(graph)
    }

    func name(_ value: ValueID) -> String { namer.name(of: value) }

    mutating func report(_ message: String, node: Int? = nil) {
        let entry = node.flatMap { graph.nodes.indices.contains($0) ? graph.nodes[$0] : nil }
        errors.append(VerificationError(message, graphName: graph.name, op: entry?.op, nodeIndex: node, location: entry?.location))
    }

    mutating func run() {
        if !GraphVerifier.isName(graph.name) {
            report("graph name '\(graph.name)' must use only letters, digits, '_' and '.'")
        }
        checkInputs()
        checkParameters()
        for index in graph.nodes.indices { checkNode(index) }
        checkOutputs()
    }

    mutating func checkInputs() {
        var names = Set<String>()
        for input in graph.inputs {
            guard let type = graph.validType(of: input) else {
                report("input \(name(input)) is not a value of the graph")
                continue
            }
            guard let inputName = graph.name(of: input) else {
                report("input \(input) has no name")
                continue
            }
            if !GraphVerifier.isValueName(inputName) {
                report("input name '\(inputName)' must use only letters, digits, '_' and '.', and not be a number")
            }
            if !names.insert(inputName).inserted { report("duplicate input name '\(inputName)'") }
            if !defined.insert(input).inserted { report("input '%\(inputName)' is listed twice") }
            checkSymbols(type, what: "input '%\(inputName)'", node: nil, checkBinding: false)
            allowedSymbols.formUnion(type.shape.symbols)
        }
    }

    mutating func checkParameters() {
        var names = Set<String>()
        for parameter in graph.parameters {
            if !names.insert(parameter.name).inserted { report("duplicate parameter '\(parameter.name)'") }
            if !GraphVerifier.isName(parameter.name) {
                report("parameter name '\(parameter.name)' must use only letters, digits, '_' and '.'")
            }
            guard graph.validType(of: parameter.value) == parameter.type else {
                report("parameter '\(parameter.name)' does not match its value's type")
                continue
            }
            if !defined.insert(parameter.value).inserted { report("parameter '\(parameter.name)' reuses a defined value") }
            checkSymbols(parameter.type, what: "parameter '\(parameter.name)'", node: nil)
        }
    }

    mutating func checkSymbols(_ type: TensorType, what: String, node: Int?, checkBinding: Bool = true) {
        for symbol in type.shape.symbols.sorted() where !GraphVerifier.isSymbolName(symbol) {
            report("\(what) uses symbol '\(symbol)', which is not a valid dim name", node: node)
        }
        let unknown = type.shape.symbols.subtracting(allowedSymbols)
        if checkBinding, !unknown.isEmpty {
            report("\(what) has type \(type), whose symbol(s) \(unknown.sorted().map { "'\($0)'" }.joined(separator: ", ")) appear in no input type", node: node)
        }
    }

    mutating func checkNode(_ index: Int) {
        let node = graph.nodes[index]
        let definition = node.op.definition
        var operandTypes: [TensorType] = []
        var operandsValid = true
        for operand in node.operands {
            if let type = graph.validType(of: operand), defined.contains(operand) {
                operandTypes.append(type)
                continue
            }
            operandsValid = false
            if let definer = graph.definingNode(of: operand), definer >= index {
                report("operand \(name(operand)) is used before its definition (node \(definer))", node: index)
            } else {
                report("operand \(name(operand)) is not defined", node: index)
            }
        }
        var resultTypes: [TensorType] = []
        for result in node.results {
            guard let type = graph.validType(of: result), graph.definingNode(of: result) == index,
                  defined.insert(result).inserted else {
                report("result \(name(result)) is defined more than once or does not belong to the graph", node: index)
                continue
            }
            resultTypes.append(type)
            checkSymbols(type, what: "result \(name(result))", node: index)
        }
        let attributesValid = checkAttributes(node, definition, index)
        for (regionIndex, region) in node.regions.enumerated() {
            for error in verify(region) {
                report("in region \(regionIndex): \(error.description)", node: index)
            }
        }
        guard operandsValid, attributesValid, resultTypes.count == node.results.count else { return }
        do {
            let inferred = try definition.check(operandTypes, node.attributes, node.regions)
            if inferred != resultTypes {
                let want = inferred.map(\.description).joined(separator: ", ")
                let have = resultTypes.map(\.description).joined(separator: ", ")
                report("result types (\(have)) differ from the inferred (\(want))", node: index)
            }
        } catch let error as OpError {
            report(error.message, node: index)
        } catch {
            report("\(error)", node: index)
        }
    }

    mutating func checkAttributes(_ node: Node, _ definition: OpDefinition, _ index: Int) -> Bool {
        var valid = true
        for key in node.attributes.keys.sorted() {
            guard let spec = definition.attributeSpec(named: key) else {
                report("\(definition.name): unknown attribute '\(key)'", node: index)
                valid = false
                continue
            }
            if let value = node.attributes[key], value.kind != spec.kind {
                report("\(definition.name): attribute '\(key)' must be \(spec.kind.rawValue), not \(value.kind.rawValue)", node: index)
                valid = false
            }
        }
        for spec in definition.attributes where node.attributes[spec.name] == nil {
            report("\(definition.name): missing attribute '\(spec.name)'", node: index)
            valid = false
        }
        return valid
    }

    mutating func checkOutputs() {
        for output in graph.outputs where !defined.contains(output) {
            report("output \(name(output)) is not defined")
        }
        for case let outputName? in graph.outputNames where !GraphVerifier.isName(outputName) {
            report("output name '\(outputName)' must use only letters, digits, '_' and '.'")
        }
        if graph.outputNames.count != graph.outputs.count {
            report("\(graph.outputNames.count) output names for \(graph.outputs.count) outputs")
        }
    }

    /// A non-empty name of ASCII letters, digits, `_` and `.` (what follows `%` or `@` in the IR).
    static func isName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy { IRLexer.isNameChar($0) }
    }

    /// A dim symbol: a name starting with a letter or `_`.
    static func isSymbolName(_ name: String) -> Bool {
        isName(name) && IRLexer.isNameStart(name.unicodeScalars.first)
    }

    /// A name that cannot be mistaken for a numbered node result (`%0`).
    static func isValueName(_ name: String) -> Bool {
        isName(name) && !name.unicodeScalars.allSatisfy { IRLexer.isDigit($0) }
    }
}
