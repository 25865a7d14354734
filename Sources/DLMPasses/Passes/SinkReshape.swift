import DLMGraph

/// Moves a reshape below the elementwise op that consumes it when the
/// reshape only regroups leading dims and the op's other operands are
/// broadcasts over those leading dims (a bias row, a scalar):
///
///     add(reshape(matmul(a, w)) : [B, T, N], broadcast(b) : [B, T, N])
///       →  reshape(add(matmul(a, w), broadcast(b) : [B*T, N]))
///
/// The elementwise op then sits right after the matmul, so fusion makes it
/// the GEMM's epilogue, and the reshape that remains is a view (the memory
/// planner gives it its operand's buffer). Dense layers on sequences lower
/// to exactly this shape.
public struct SinkReshape: GraphPass {
    public let name = "sink-reshape"
    public let summary = "move reshapes of leading dims below elementwise ops, so bias and activation fuse into GEMMs"

    public init() {}

    public func run(on graph: Graph, mode: CompilationMode) throws -> PassStatistics {
        for node in graph.nodes { for region in node.regions { _ = try run(on: region, mode: mode) } }
        var producer: [ValueID: Node] = [:]
        var result: [Node] = []
        var replacements: [ValueID: ValueID] = [:]
        var sunk = 0
        for var node in graph.nodes {
            node.operands = node.operands.map { replacements[$0] ?? $0 }
            if let rewritten = sink(node, in: graph, producer: producer) {
                for new in rewritten.nodes {
                    for value in new.results { producer[value] = new }
                    result.append(new)
                }
                replacements[node.results[0]] = rewritten.value
                sunk += 1
                continue
            }
            for value in node.results { producer[value] = node }
            result.append(node)
        }
        guard sunk > 0 else { return PassStatistics() }
        graph.replaceNodes(GraphEditing.substitute(replacements, in: graph, nodes: result))
        return PassStatistics()
    }

    /// The replacement nodes (new broadcasts, the op, the reshape) and the value standing for the node's result.
    private func sink(_ node: Node, in graph: Graph, producer: [ValueID: Node]) -> (nodes: [Node], value: ValueID)? {
        guard node.op.isElementwise, node.results.count == 1, !node.operands.isEmpty else { return nil }
        let shape = graph.type(of: node.results[0]).shape
        guard let last = shape.dims.last else { return nil }
        // The common source of the reshapes: same shape, same last dim as the result.
        var source: Shape?
        for operand in node.operands {
            guard let p = producer[operand], p.op == .reshape else { continue }
            let from = graph.type(of: p.operands[0]).shape
            guard from.dims.last == last, from.elementCount == shape.elementCount, source == nil || source == from else { return nil }
            source = from
        }
        guard let source, source != shape else { return nil }
        var nodes: [Node] = []
        var operands: [ValueID] = []
        for operand in node.operands {
            let p = producer[operand]
            if let p, p.op == .reshape {
                operands.append(p.operands[0])
                continue
            }
            // Otherwise a broadcast of something that varies only along the last dim (or not at all).
            guard let p, p.op == .broadcast else { return nil }
            let inner = graph.type(of: p.operands[0])
            guard inner.shape.rank <= source.rank, inner.shape.dims.dropLast().allSatisfy({ $0 == 1 }),
                  inner.shape.rank == 0 || inner.shape.dims.last == last || inner.shape.dims.last == 1 else { return nil }
            let value = graph.makeValue(TensorType(inner.dtype, source))
            nodes.append(Node(op: .broadcast, operands: [p.operands[0]], results: [value],
                              attributes: ["shape": .dims(source.dims)], location: p.location))
            operands.append(value)
        }
        let dtype = graph.type(of: node.results[0]).dtype
        let computed = graph.makeValue(TensorType(dtype, source))
        var moved = node
        moved.operands = operands
        moved.results = [computed]
        nodes.append(moved)
        let reshaped = graph.makeValue(TensorType(dtype, shape))
        nodes.append(Node(op: .reshape, operands: [computed], results: [reshaped], attributes: ["shape": .dims(shape.dims)],
                          location: node.location))
        return (nodes, reshaped)
    }
}
