import DLMGraph

/// Merges pure nodes that compute the same op on the same operands with the
/// same attributes (a zero constant broadcast twice, a reshape repeated).
public struct CommonSubexpressionElimination: GraphPass {
    public let name = "cse"
    public let summary = "merge ops that compute the same value"

    public init() {}

    private struct Key: Hashable {
        let op: OpCode
        let operands: [ValueID]
        let attributes: [String: Attribute]
        let types: [TensorType]
    }

    public func run(on graph: Graph, mode: CompilationMode) throws -> PassStatistics {
        var seen: [Key: [ValueID]] = [:]
        var replacements: [ValueID: ValueID] = [:]
        var kept: [Node] = []
        var removed = 0
        for var node in graph.nodes {
            node.operands = node.operands.map { replacements[$0] ?? $0 }
            for region in node.regions { removed += try run(on: region, mode: mode).opsRemoved }
            guard GraphEditing.isPure(node.op) else {
                kept.append(node)
                continue
            }
            let key = Key(op: node.op, operands: node.operands, attributes: node.attributes, types: node.results.map { graph.type(of: $0) })
            if let existing = seen[key] {
                for (result, previous) in zip(node.results, existing) { replacements[result] = previous }
                removed += 1
            } else {
                seen[key] = node.results
                kept.append(node)
            }
        }
        if !replacements.isEmpty {
            graph.outputs = graph.outputs.map { replacements[$0] ?? $0 }
            graph.replaceNodes(kept)
        }
        return PassStatistics(opsRemoved: removed)
    }
}
