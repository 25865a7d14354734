/// Prints a graph in the textual IR, which `parseGraph` reads back:
///
/// ```
/// graph @Name(%x: f32[B, 4]) -> (%y: f32[B, 2]) {
///   param @fc.weight: f32[4, 2] = glorot_uniform
///   %0 = matmul(%x, @fc.weight) : f32[B, 2]
///   return %0
/// }
/// ```
/// Attributes print sorted by name; values are named by `ValueNamer` (node
/// results `%0`, `%1`, ... in definition order; inputs by name; parameters as `@name`).
public struct GraphPrinter: Sendable {
    /// Whether to append `loc("file":line:col)` to nodes that have a location.
    public var printsLocations: Bool

    /// Creates a printer.
    public init(printsLocations: Bool = false) { self.printsLocations = printsLocations }

    /// The text of a graph, ending in a newline.
    public func print(_ graph: Graph) -> String {
        var output = ""
        let namer = ValueNamer(graph)
        let inputs = graph.inputs.map { "\(namer.name(of: $0)): \(graph.type(of: $0))" }
        let results = graph.outputs.enumerated().map { index, value -> String in
            let type = graph.type(of: value).description
            if index < graph.outputNames.count, let name = graph.outputNames[index] {
                return "%\(name): \(type)"
            }
            return type
        }
        output += "graph @\(graph.name)(\(inputs.joined(separator: ", "))) -> (\(results.joined(separator: ", "))) {\n"
        printBody(graph, namer: namer, indent: "  ", into: &output)
        output += "}\n"
        return output
    }

    private func printBody(_ graph: Graph, namer: ValueNamer, indent: String, into output: inout String) {
        for parameter in graph.parameters {
            let frozen = parameter.isTrainable ? "" : "frozen "
            output += "\(indent)param \(frozen)@\(parameter.name): \(parameter.type) = \(parameter.initializer)\n"
        }
        for node in graph.nodes {
            printNode(node, in: graph, namer: namer, indent: indent, into: &output)
        }
        output += "\(indent)return \(graph.outputs.map(namer.name(of:)).joined(separator: ", "))\n"
    }

    private func printNode(_ node: Node, in graph: Graph, namer: ValueNamer, indent: String, into output: inout String) {
        var line = indent
        if !node.results.isEmpty {
            line += node.results.map(namer.name(of:)).joined(separator: ", ") + " = "
        }
        line += "\(node.op.rawValue)(\(node.operands.map(namer.name(of:)).joined(separator: ", ")))"
        let definition = node.op.definition
        // Attributes marked quiet are left out at their default (the parser fills them back in).
        let shown = node.attributes.filter { key, value in
            guard let spec = definition.attributeSpec(named: key), spec.isQuietAtDefault else { return true }
            return value != spec.defaultValue
        }
        if !shown.isEmpty {
            let items = shown.keys.sorted().compactMap { key in
                shown[key].map { "\(key) = \(GraphPrinter.text(of: $0))" }
            }
            line += " {\(items.joined(separator: ", "))}"
        }
        line += " : " + (node.results.isEmpty ? "()" : node.results.map { graph.type(of: $0).description }.joined(separator: ", "))
        if printsLocations, let location = node.location {
            let (lineNumber, column) = location.file.lineAndColumn(of: location.start)
            line += " loc(\(GraphPrinter.quoted(location.file.path)):\(lineNumber):\(column))"
        }
        output += line
        if node.regions.isEmpty {
            output += "\n"
            return
        }
        output += " {\n"
        let inner = indent + "  "
        for region in node.regions {
            let regionNamer = ValueNamer(region)
            let inputs = region.inputs.map { "\(regionNamer.name(of: $0)): \(region.type(of: $0))" }
            output += "\(inner)body(\(inputs.joined(separator: ", "))) {\n"
            printBody(region, namer: regionNamer, indent: inner + "  ", into: &output)
            output += "\(inner)}\n"
        }
        output += "\(indent)}\n"
    }

    /// The IR spelling of an attribute value.
    static func text(of attribute: Attribute) -> String {
        switch attribute {
        case .int(let value): "\(value)"
        case .float(let value): "\(value)"
        case .bool(let value): value ? "true" : "false"
        case .string(let value): quoted(value)
        case .ints(let values): "[" + values.map { "\($0)" }.joined(separator: ", ") + "]"
        case .floats(let values): "[" + values.map { "\($0)" }.joined(separator: ", ") + "]"
        case .dims(let dims): Shape(dims).description
        case .dtype(let dtype): dtype.rawValue
        }
    }

    /// A double-quoted string with `\"`, `\\`, `\n` and `\t` escaped.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for character in text {
            switch character {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            default: result.append(character)
            }
        }
        return result + "\""
    }
}
