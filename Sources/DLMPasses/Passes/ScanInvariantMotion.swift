import DLMGraph

/// Moves transposes of a scan's captured values (weights) out of its body:
/// the gradient of `h @ W` inside a recurrence reads `Wᵀ`, and computed in
/// the body it would be copied again at every step (an LSTM's backward scan:
/// a 512×128 transpose a step). Outside, it is computed once and captured.
public struct ScanInvariantMotion: GraphPass {
    public let name = "hoist-scan-invariants"
    public let summary = "compute transposes of a scan's captured values once, outside its body"

    public init() {}

    public func run(on graph: Graph, mode: CompilationMode) throws -> PassStatistics {
        var moved = 0
        var nodes: [Node] = []
        for node in graph.nodes {
            for region in node.regions where node.op != .fused { _ = try run(on: region, mode: mode) }
            guard node.op == .scan, let body = node.regions.first,
                  case .int(let sequences)? = node.attributes["sequences"], case .int(let carries)? = node.attributes["carries"] else {
                nodes.append(node)
                continue
            }
            // Body capture input → the outer value it holds.
            var outer: [ValueID: ValueID] = [:]
            for (input, operand) in zip(body.inputs.dropFirst(sequences + carries), node.operands.dropFirst(sequences + carries)) {
                outer[input] = operand
            }
            var replacements: [ValueID: ValueID] = [:]
            var kept: [Node] = []
            var scan = node
            for inner in body.nodes {
                guard inner.op == .transpose, let source = outer[inner.operands[0]] else {
                    kept.append(inner)
                    continue
                }
                let hoisted = graph.appendCopy(of: inner, from: body, operands: [source])
                nodes.append(graph.nodes[graph.nodes.count - 1])
                let capture = body.addInput(name: "hoisted\(moved)", type: body.type(of: inner.results[0]))
                replacements[inner.results[0]] = capture
                scan.operands.append(hoisted[0])
                moved += 1
            }
            guard !replacements.isEmpty else {
                nodes.append(node)
                continue
            }
            body.replaceNodes(GraphEditing.substitute(replacements, in: body, nodes: kept))
            nodes.append(scan)
        }
        if moved > 0 { graph.replaceNodes(nodes) }
        return PassStatistics()
    }
}
