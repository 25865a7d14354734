/// Reverse-mode differentiation as a graph transformation: appends to a
/// graph the ops that compute cotangents of chosen values. Every node on a
/// path from those values to the seeded outputs is visited once, last to
/// first, and its op's gradient rule (in its `OpDefinition`) emits ordinary
/// IR for its operands' cotangents; cotangents reaching a value along
/// several paths are summed in a fixed order. The result is a plain graph
/// that the usual passes fuse and plan like any other.
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
        let builder = GraphBuilder(graph)
        let seed = try builder.filled(1, like: loss)
        let cotangents = try vectorJacobianProduct(seeds: [(loss, seed)], withRespectTo: values, in: graph)
        return try zip(values, cotangents).map { value, cotangent in try cotangent ?? builder.zeros(like: value) }
    }

    /// Appends to `graph` the cotangents of `values` given the cotangents
    /// (`seeds`) of some of its values: the vector-Jacobian product. `nil`
    /// for values no seeded value depends on.
    public static func vectorJacobianProduct(seeds: [(value: ValueID, cotangent: ValueID)], withRespectTo values: [ValueID],
                                             in graph: Graph) throws -> [ValueID?] {
        let active = activeValues(from: values, nodes: graph.nodes, in: graph)
        try exposeResiduals(active: active, in: graph)
        let nodes = graph.nodes
        var cotangents: [ValueID: ValueID] = [:]
        let seedBuilder = GraphBuilder(graph)
        for (value, cotangent) in seeds {
            cotangents[value] = try cotangents[value].map { try seedBuilder.add($0, cotangent) } ?? cotangent
        }
        for node in nodes.reversed() {
            let resultCotangents = node.results.map { cotangents[$0] }
            guard resultCotangents.contains(where: { $0 != nil }), node.operands.contains(where: active.contains) else { continue }
            let rule: @Sendable (GradientContext) throws -> [ValueID?]
            switch node.op.definition.gradient {
            case nil:
                throw OpError("'\(node.op.rawValue)' has no gradient rule yet, so the model cannot be trained through it", location: node.location)
            case .none(let reason)?:
                throw OpError("cannot differentiate through '\(node.op.rawValue)': \(reason)", location: node.location)
            case .rule(let body)?, .withResiduals(_, let body)?:
                rule = body
            }
            let context = GradientContext(builder: GraphBuilder(graph, location: node.location), node: node,
                                          resultCotangents: resultCotangents, needsGradient: node.operands.map(active.contains))
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
        return values.map { cotangents[$0] }
    }

    /// Rewrites, in place, every active node whose op keeps residuals so that
    /// it also returns them (a scan then stores its per-step intermediates).
    static func exposeResiduals(active: Set<ValueID>, in graph: Graph) throws {
        var nodes = graph.nodes
        var changed = false
        for (index, node) in nodes.enumerated() where node.operands.contains(where: active.contains) {
            guard case .withResiduals(let expose, _)? = node.op.definition.gradient else { continue }
            nodes[index] = try expose(node, graph)
            changed = true
        }
        if changed { graph.replaceNodes(nodes) }
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
