import DLMGraph

/// Identities that remove work: x+0, x-0, x*1, x/1, -(-x), casts and
/// broadcasts to the type a value already has, transpose∘transpose,
/// reshape∘reshape, full slices, one-operand concats. A rewrite applies only
/// when the replacement has exactly the node's result type.
public struct AlgebraicSimplification: GraphPass {
    public let name = "simplify"
    public let summary = "apply algebraic identities (x*1, x+0, transpose∘transpose, reshape∘reshape, no-op casts)"

    public init() {}

    public func run(on graph: Graph, mode: CompilationMode) throws -> PassStatistics {
        var removed = 0
        var changed = true
        // Iterate to a fixed point: one rewrite can expose another (reshape of a reshape of a reshape).
        while changed {
            changed = false
            var replacements: [ValueID: ValueID] = [:]
            var nodes: [Node] = []
            var producers: [ValueID: Int] = [:]
            for node in graph.nodes {
                var node = node
                node.operands = node.operands.map { replacements[$0] ?? $0 }
                for region in node.regions { removed += try run(on: region, mode: mode).opsRemoved }
                let pending = Producers(nodes: nodes, index: producers)
                if let replacement = identityReplacement(node, in: graph, pending: pending), node.results.count == 1,
                   graph.type(of: replacement) == graph.type(of: node.results[0]) {
                    replacements[node.results[0]] = replacement
                    removed += 1
                    changed = true
                    continue
                }
                if let merged = merged(node, in: graph, pending: pending) {
                    node = merged
                    changed = true
                }
                for result in node.results { producers[result] = nodes.count }
                nodes.append(node)
            }
            if changed {
                graph.replaceNodes(GraphEditing.substitute(replacements, in: graph, nodes: nodes))
            }
        }
        return PassStatistics(opsRemoved: removed)
    }

    /// The nodes kept so far, indexed by the values they define.
    private struct Producers {
        let nodes: [Node]
        let index: [ValueID: Int]
    }

    /// The node the operand is defined by, among the nodes kept so far.
    private func producer(_ value: ValueID, in graph: Graph, pending: Producers) -> Node? {
        pending.index[value].map { pending.nodes[$0] }
    }

    /// A value the node's result equals, if the node is an identity.
    private func identityReplacement(_ node: Node, in graph: Graph, pending: Producers) -> ValueID? {
        let operands = node.operands
        func splat(_ i: Int) -> Double? { GraphEditing.splatValue(of: operands[i], in: graph) }
        switch node.op {
        case .add:
            if splat(1) == 0 { return operands[0] }
            if splat(0) == 0 { return operands[1] }
        case .sub:
            if splat(1) == 0 { return operands[0] }
        case .mul:
            if splat(1) == 1 { return operands[0] }
            if splat(0) == 1 { return operands[1] }
        case .div:
            if splat(1) == 1 { return operands[0] }
        case .neg:
            if let inner = producer(operands[0], in: graph, pending: pending), inner.op == .neg { return inner.operands[0] }
        case .cast, .broadcast, .reshape:
            return operands[0]   // accepted only if the type is unchanged (checked by the caller)
        case .transpose:
            if case .ints(let p)? = node.attributes["permutation"], p == Array(p.indices) { return operands[0] }
        case .slice:
            if case .dims(let starts)? = node.attributes["starts"], case .ints(let steps)? = node.attributes["steps"],
               starts.allSatisfy({ $0 == .constant(0) }), steps.allSatisfy({ $0 == 1 }) {
                return operands[0]
            }
        case .concat:
            if operands.count == 1 { return operands[0] }
        default:
            break
        }
        return nil
    }

    /// A single node replacing the node and its producer (transpose∘transpose, reshape∘reshape, broadcast∘broadcast).
    private func merged(_ node: Node, in graph: Graph, pending: Producers) -> Node? {
        guard [.reshape, .broadcast, .transpose].contains(node.op), let operand = node.operands.first,
              let inner = producer(operand, in: graph, pending: pending), inner.op == node.op else { return nil }
        var result = node
        switch node.op {
        case .reshape, .broadcast:
            // The outer op's shape wins; broadcasting a broadcast is a broadcast of the original.
            result.operands = [inner.operands[0]]
        case .transpose:
            guard case .ints(let first)? = inner.attributes["permutation"], case .ints(let second)? = node.attributes["permutation"] else { return nil }
            result.operands = [inner.operands[0]]
            result.attributes["permutation"] = .ints(second.map { first[$0] })
        default:
            return nil
        }
        return result
    }
}
