import DLMGraph

/// Reverse-mode differentiation as a graph transformation: appends to a
/// graph the ops that compute a scalar's gradient with respect to chosen
/// values. Every node on a path from those values to the scalar is visited
/// once, last to first, and its op's gradient rule (in its `OpDefinition`)
/// emits ordinary IR for its operands' cotangents; cotangents reaching a
/// value along several paths are summed in a fixed order. The result is a
/// plain graph that the usual passes fuse and plan like any other.
public enum ReverseMode {
    /// Appends the gradient of `loss` (a floating-point scalar) with respect
    /// to each of `values` to `graph`, and returns them in order (zeros for
    /// values the loss does not depend on). Throws `OpError`, located at the
    /// node, for an op on the path that has no gradient.
    public static func gradients(of loss: ValueID, withRespectTo values: [ValueID], in graph: Graph) throws -> [ValueID] {
        let lossType = graph.type(of: loss)
        guard lossType.shape.rank == 0, lossType.dtype.isFloatingPoint else {
            throw OpError("can only differentiate a floating-point scalar, not \(lossType)")
        }
        let nodes = graph.nodes
        let active = activeValues(from: values, nodes: nodes, in: graph)
        var cotangents: [ValueID: ValueID] = [:]
        let seedBuilder = GraphBuilder(graph)
        cotangents[loss] = try seedBuilder.filled(1, like: loss)

        for node in nodes.reversed() {
            let resultCotangents = node.results.map { cotangents[$0] }
            guard resultCotangents.contains(where: { $0 != nil }), node.operands.contains(where: active.contains) else { continue }
            guard let gradient = node.op.definition.gradient else {
                throw OpError("'\(node.op.rawValue)' has no gradient rule yet, so the model cannot be trained through it", location: node.location)
            }
            guard case .rule(let rule) = gradient else {
                if case .none(let reason) = gradient {
                    throw OpError("cannot differentiate through '\(node.op.rawValue)': \(reason)", location: node.location)
                }
                continue
            }
            let context = GradientContext(builder: GraphBuilder(graph, location: node.location), node: node, resultCotangents: resultCotangents)
            let operandCotangents = try rule(context)
            guard operandCotangents.count == node.operands.count else {
                throw OpError("internal: the gradient rule of '\(node.op.rawValue)' returned \(operandCotangents.count) cotangents for \(node.operands.count) operands", location: node.location)
            }
            for (operand, cotangent) in zip(node.operands, operandCotangents) {
                guard let cotangent, active.contains(operand) else { continue }
                guard graph.type(of: cotangent) == graph.type(of: operand) else {
                    throw OpError("internal: the gradient rule of '\(node.op.rawValue)' gave \(graph.type(of: cotangent)) for an operand of type \(graph.type(of: operand))", location: node.location)
                }
                if let existing = cotangents[operand] {
                    cotangents[operand] = try context.builder.add(existing, cotangent)
                } else {
                    cotangents[operand] = cotangent
                }
            }
        }
        return try values.map { value in try cotangents[value] ?? seedBuilder.zeros(like: value) }
    }

    /// Floating-point values that depend on any of `sources` (the sources included).
    static func activeValues(from sources: [ValueID], nodes: [Node], in graph: Graph) -> Set<ValueID> {
        var active = Set(sources.filter { graph.type(of: $0).dtype.isFloatingPoint })
        for node in nodes where node.operands.contains(where: active.contains) {
            for result in node.results where graph.type(of: result).dtype.isFloatingPoint { active.insert(result) }
        }
        return active
    }
}
