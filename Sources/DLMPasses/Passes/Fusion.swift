import DLMGraph

/// Forms fusion groups and replaces each with one `fused` node whose body
/// holds the group's ops:
///
/// - chains of elementwise ops, with the `broadcast`s, `slice`s of values
///   computed elsewhere and splat constants that feed them (a broadcast or a
///   slice becomes an indexed load, never a copy: a recurrent cell's gates
///   read their columns of the step's GEMM in place);
/// - an elementwise epilogue (bias, activation, residual add) on a `matmul`
///   or `conv2d`, which then writes its output once.
///
/// A producer joins its consumer's group only when the consumer is its sole
/// user, so no work is ever duplicated and every group is convex (a tree
/// rooted at the op whose result leaves the group).
public struct Fusion: GraphPass {
    public let name = "fuse"
    public let summary = "group elementwise chains and GEMM/convolution epilogues into fused kernels"

    public init() {}

    enum Role {
        case elementwise, broadcastLoad, splatConstant, head, other
    }

    static func role(of node: Node, in graph: Graph) -> Role {
        if node.op.isElementwise { return .elementwise }
        switch node.op {
        case .broadcast, .slice: return .broadcastLoad
        case .constant:
            if case .floats(let values)? = node.attributes["values"], values.count == 1 { return .splatConstant }
            return .other
        case .matmul, .conv2d: return .head
        default: return .other
        }
    }

    public func run(on graph: Graph, mode: CompilationMode) throws -> PassStatistics {
        var fusedCount = 0
        var saved: Dim = 0
        for node in graph.nodes {
            for region in node.regions where node.op != .fused {
                let inner = try run(on: region, mode: mode)
                fusedCount += inner.opsFused
                saved = saved + inner.bytesSaved
            }
        }
        let nodes = graph.nodes
        let uses = GraphEditing.useCounts(graph, nodes: nodes)
        var producerIndex: [ValueID: Int] = [:]
        for (index, node) in nodes.enumerated() { for result in node.results { producerIndex[result] = index } }

        // Union-find over node indices; a group is its root's set.
        var parent = Array(nodes.indices)
        func find(_ i: Int) -> Int {
            var i = i
            while parent[i] != i { parent[i] = parent[parent[i]]; i = parent[i] }
            return i
        }
        var hasHead = [Bool](repeating: false, count: nodes.count)
        // The dtype of a group's head: the head writes into the group's output
        // buffer, so every op that becomes the group's root must keep it.
        var headType = [DType?](repeating: nil, count: nodes.count)
        let roles = nodes.map { Self.role(of: $0, in: graph) }
        for index in nodes.indices where roles[index] == .head {
            hasHead[index] = true
            headType[index] = nodes[index].results.first.map { graph.type(of: $0).dtype }
        }

        // Walk consumers in order; pull in single-use producers.
        for (index, node) in nodes.enumerated() where roles[index] == .elementwise {
            for operand in node.operands {
                guard let p = producerIndex[operand], uses[operand] == 1, nodes[p].results.count == 1 else { continue }
                let groupOfConsumer = find(index), groupOfProducer = find(p)
                guard groupOfConsumer != groupOfProducer else { continue }
                let groupHeadType = headType[groupOfConsumer] ?? headType[groupOfProducer]
                if let groupHeadType, graph.type(of: node.results[0]).dtype != groupHeadType { continue }
                switch roles[p] {
                case .broadcastLoad where nodes[p].op == .slice:
                    // A slice reads a value from outside the group (its own index map), never one the group computes.
                    if let source = producerIndex[nodes[p].operands[0]], find(source) == groupOfConsumer { continue }
                    if hasHead[groupOfProducer] && hasHead[groupOfConsumer] { continue }
                case .elementwise, .broadcastLoad, .splatConstant:
                    // A producer group joins only if it brings no second head.
                    if hasHead[groupOfProducer] && hasHead[groupOfConsumer] { continue }
                case .head:
                    if hasHead[groupOfConsumer] { continue }
                    // The epilogue must keep the head's shape (no broadcast of the GEMM result).
                    guard graph.type(of: operand).shape == graph.type(of: node.results[0]).shape else { continue }
                case .other:
                    continue
                }
                let merged = hasHead[groupOfConsumer] || hasHead[groupOfProducer]
                parent[groupOfProducer] = groupOfConsumer
                hasHead[groupOfConsumer] = merged
                headType[groupOfConsumer] = groupHeadType
            }
        }

        // Collect groups with at least two ops, keyed by their root (the last node, in order).
        var members: [Int: [Int]] = [:]
        for index in nodes.indices { members[find(index), default: []].append(index) }
        var groupOf: [Int: Int] = [:]   // node index -> root, for nodes in real groups
        for (root, indices) in members where indices.count > 1 && indices.contains(where: { nodes[$0].op.isElementwise || nodes[$0].op == .matmul || nodes[$0].op == .conv2d }) {
            // A group of only loads (broadcast + constant) is not worth a kernel.
            guard indices.contains(where: { nodes[$0].op.isElementwise }) else { continue }
            // A kernel learns its sizes from its operands: a group that spreads scalars to a
            // symbolic shape (a gradient of a mean over the batch) has none to learn them from.
            let defined = Set(indices.flatMap { nodes[$0].results })
            let known = indices.flatMap { nodes[$0].operands }.filter { !defined.contains($0) }
                .reduce(into: Set<String>()) { $0.formUnion(graph.type(of: $1).shape.symbols) }
            guard nodes[root].results.allSatisfy({ graph.type(of: $0).shape.symbols.isSubset(of: known) }) else { continue }
            for i in indices { groupOf[i] = root }
        }

        var result: [Node] = []
        for (index, node) in nodes.enumerated() {
            guard let root = groupOf[index] else {
                result.append(node)
                continue
            }
            guard index == members[root]?.max() else { continue }   // emit the group where its last op was
            let group = (members[root] ?? []).sorted()
            result.append(makeFusedNode(group.map { nodes[$0] }, in: graph))
            fusedCount += group.count
            // Every result but the root's now lives only inside the kernel.
            saved = saved + GraphEditing.bytes(of: group.dropLast().flatMap { nodes[$0].results }, in: graph)
        }
        if result.count != nodes.count { graph.replaceNodes(result) }
        return PassStatistics(opsRemoved: nodes.count - result.count, opsFused: fusedCount, bytesSaved: saved)
    }

    /// Builds the `fused` node for a group (nodes in topological order; the last is the root).
    private func makeFusedNode(_ group: [Node], in graph: Graph) -> Node {
        let defined = Set(group.flatMap(\.results))
        let body = Graph(name: "group")
        var operands: [ValueID] = []
        var mapping: [ValueID: ValueID] = [:]
        for node in group {
            for operand in node.operands where !defined.contains(operand) && mapping[operand] == nil {
                mapping[operand] = body.addInput(name: "in\(operands.count)", type: graph.type(of: operand))
                operands.append(operand)
            }
        }
        var bodyNodes: [Node] = []
        for node in group {
            var copy = node
            copy.operands = node.operands.map { mapping[$0] ?? $0 }
            copy.results = node.results.map { result in
                let value = body.makeValue(graph.type(of: result))
                mapping[result] = value
                return value
            }
            bodyNodes.append(copy)
        }
        body.replaceNodes(bodyNodes)
        let root = group[group.count - 1]
        body.setOutputs(root.results.compactMap { mapping[$0] })
        let kind = group.contains { $0.op == .conv2d } ? "conv" : group.contains { $0.op == .matmul } ? "gemm" : "elementwise"
        return Node(op: .fused, operands: operands, results: root.results, attributes: ["kind": .string(kind)],
                    regions: [body], location: root.location)
    }
}
