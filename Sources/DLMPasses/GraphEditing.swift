import DLMGraph

/// Small helpers passes share: value substitution, use counts, reading constants.
enum GraphEditing {
    /// Rewrites operands and outputs through `replacements` (followed transitively).
    static func substitute(_ replacements: [ValueID: ValueID], in graph: Graph, nodes: [Node]) -> [Node] {
        guard !replacements.isEmpty else { return nodes }
        func resolve(_ value: ValueID) -> ValueID {
            var current = value
            var steps = 0
            while let next = replacements[current], steps < replacements.count {
                current = next
                steps += 1
            }
            return current
        }
        let rewritten = nodes.map { node -> Node in
            var copy = node
            copy.operands = node.operands.map(resolve)
            return copy
        }
        graph.outputs = graph.outputs.map(resolve)
        return rewritten
    }

    /// The total size in bytes of some values, symbolic in the graph's dims.
    static func bytes(of values: some Sequence<ValueID>, in graph: Graph) -> Dim {
        values.reduce(Dim.constant(0)) { total, value in
            let type = graph.type(of: value)
            return total + type.shape.elementCount * .constant(type.dtype.byteSize)
        }
    }

    /// How many times each value is used as an operand or output.
    static func useCounts(_ graph: Graph, nodes: [Node]) -> [ValueID: Int] {
        var counts: [ValueID: Int] = [:]
        for node in nodes {
            for operand in node.operands { counts[operand, default: 0] += 1 }
        }
        for output in graph.outputs { counts[output, default: 0] += 1 }
        return counts
    }

    /// The splat value of a value defined by a one-value `constant`, looking
    /// through `broadcast` and `reshape` (which do not change a splat).
    static func splatValue(of value: ValueID, in graph: Graph) -> Double? {
        guard let index = graph.definingNode(of: value) else { return nil }
        let node = graph.nodes[index]
        switch node.op {
        case .constant:
            if case .floats(let values)? = node.attributes["values"], let first = values.first,
               values.allSatisfy({ $0 == first || ($0.isNaN && first.isNaN) }) {
                return first
            }
            return nil
        case .broadcast, .reshape:
            return splatValue(of: node.operands[0], in: graph)
        default:
            return nil
        }
    }

    /// Whether an op may be removed, merged or evaluated at compile time:
    /// no regions, no randomness.
    static func isPure(_ op: OpCode) -> Bool {
        op != .scan && op != .dropout
    }
}
