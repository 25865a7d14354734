import DLMGraph

/// Rewrites that hold only when running, not training: dropout is the identity.
public struct InferenceCleanup: GraphPass {
    public let name = "inference-cleanup"
    public let summary = "drop training-only ops (dropout becomes the identity) when compiling for inference"

    public init() {}

    public func run(on graph: Graph, mode: CompilationMode) throws -> PassStatistics {
        guard mode == .inference else { return PassStatistics() }
        var replacements: [ValueID: ValueID] = [:]
        var kept: [Node] = []
        var removed = 0
        for node in graph.nodes {
            for region in node.regions { removed += try run(on: region, mode: mode).opsRemoved }
            if node.op == .dropout {
                replacements[node.results[0]] = node.operands[0]
                removed += 1
            } else {
                kept.append(node)
            }
        }
        if !replacements.isEmpty {
            graph.replaceNodes(GraphEditing.substitute(replacements, in: graph, nodes: kept))
        }
        return PassStatistics(opsRemoved: removed)
    }
}
