import DLMGraph

/// Removes nodes none of whose results reach an output (scan bodies included).
public struct DeadCodeElimination: GraphPass {
    public let name = "dce"
    public let summary = "remove ops whose results are never used"

    public init() {}

    public func run(on graph: Graph, mode: CompilationMode) throws -> PassStatistics {
        var live = Set(graph.outputs)
        var kept: [Node] = []
        for node in graph.nodes.reversed() {
            guard node.results.contains(where: live.contains) else { continue }
            kept.append(node)
            live.formUnion(node.operands)
        }
        var removed = graph.nodes.count - kept.count
        for node in kept {
            for region in node.regions { removed += try run(on: region, mode: mode).opsRemoved }
        }
        if kept.count != graph.nodes.count { graph.replaceNodes(kept.reversed()) }
        return PassStatistics(opsRemoved: removed)
    }
}
