import DLMGraph

/// Fuses row-wise computations — softmax, log-softmax, layer norm, mean and
/// variance — into one kernel each. A row group is a connected set of ops
/// over tensors shaped `[L..., N]` (a row of N values per leading index) or
/// `[L..., 1]` (one value per row): elementwise ops, reductions over the
/// last axis with `keepdims`, and broadcasts of per-row values, of `[N]`
/// vectors or of scalars. Each row then runs start to finish in cache.
/// Values the rest of the graph reads become extra outputs of the group.
public struct RowFusion: GraphPass {
    public let name = "fuse-rows"
    public let summary = "fuse softmax, layer norm and other last-axis reductions with their elementwise neighbours into one kernel per row"

    public init() {}

    /// The row structure of a value: its leading dims and row length.
    private struct RowShape: Hashable {
        let leading: [Dim]
        let length: Dim
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
        var producer: [ValueID: Int] = [:]
        for (index, node) in nodes.enumerated() { for result in node.results { producer[result] = index } }

        // The row shape each reduction seeds, and which nodes fit it.
        func rowShape(ofReduce node: Node) -> RowShape? {
            guard node.op == .reduce, case .ints(let axes)? = node.attributes["axes"], case .bool(true)? = node.attributes["keepdims"],
                  let kind = node.attributes["kind"], kind != .string("prod") else { return nil }
            let input = graph.type(of: node.operands[0])
            guard input.dtype == .f32, input.shape.rank >= 2, axes == [input.shape.rank - 1] else { return nil }
            return RowShape(leading: Array(input.shape.dims.dropLast()), length: input.shape.dims[input.shape.rank - 1])
        }
        func fits(_ node: Node, _ row: RowShape) -> Bool {
            guard node.results.count == 1 else { return false }
            let type = graph.type(of: node.results[0])
            guard type.dtype == .f32 || type.dtype == .bool, type.shape.rank == row.leading.count + 1,
                  Array(type.shape.dims.dropLast()) == row.leading else { return false }
            let last = type.shape.dims[type.shape.rank - 1]
            guard last == row.length || last == .constant(1) else { return false }
            switch node.op {
            case .reduce: return rowShape(ofReduce: node) == row
            case .broadcast:
                let operand = graph.type(of: node.operands[0]).shape
                let perRow = operand.rank == row.leading.count + 1 && Array(operand.dims.dropLast()) == row.leading && operand.dims.last == .constant(1)
                let vector = operand.rank == 1 && operand.dims[0] == row.length
                return perRow || vector || operand.rank == 0
            default:
                return node.op.isElementwise && node.operands.allSatisfy { graph.type(of: $0).dtype == .f32 || graph.type(of: $0).dtype == .bool }
            }
        }

        var groupOf = [Int?](repeating: nil, count: nodes.count)
        var groups: [[Int]] = []
        for (seed, node) in nodes.enumerated() where groupOf[seed] == nil {
            guard let row = rowShape(ofReduce: node) else { continue }
            // Grow through producers and consumers that fit the same rows.
            var members: Set<Int> = [seed]
            var work = [seed]
            var consumers: [ValueID: [Int]] = [:]
            for (index, n) in nodes.enumerated() { for operand in n.operands { consumers[operand, default: []].append(index) } }
            while let current = work.popLast() {
                var neighbours: [Int] = nodes[current].operands.compactMap { producer[$0] }
                for result in nodes[current].results { neighbours += consumers[result] ?? [] }
                for neighbour in neighbours where !members.contains(neighbour) && groupOf[neighbour] == nil && fits(nodes[neighbour], row) {
                    members.insert(neighbour)
                    work.append(neighbour)
                }
            }
            guard members.count > 1, isConvex(members, nodes: nodes, producer: producer) else { continue }
            for m in members { groupOf[m] = groups.count }
            groups.append(members.sorted())
        }
        guard !groups.isEmpty else { return PassStatistics(opsFused: fusedCount, bytesSaved: saved) }

        var uses: [ValueID: [Int]] = [:]
        for (index, node) in nodes.enumerated() { for operand in node.operands { uses[operand, default: []].append(index) } }
        let outputs = Set(graph.outputs)
        var result: [Node] = []
        for (index, node) in nodes.enumerated() {
            guard let g = groupOf[index] else {
                result.append(node)
                continue
            }
            guard index == groups[g].last else { continue }
            let members = groups[g]
            let memberSet = Set(members)
            // Values read outside the group (or returned) leave it as outputs.
            let exported = members.flatMap { nodes[$0].results }.filter { value in
                outputs.contains(value) || (uses[value] ?? []).contains { !memberSet.contains($0) }
            }
            result.append(makeGroup(members.map { nodes[$0] }, exported: exported, in: graph))
            fusedCount += members.count
            let exportedSet = Set(exported)
            saved = saved + GraphEditing.bytes(of: members.flatMap { nodes[$0].results }.filter { !exportedSet.contains($0) }, in: graph)
        }
        graph.replaceNodes(result)
        return PassStatistics(opsRemoved: nodes.count - result.count, opsFused: fusedCount, bytesSaved: saved)
    }

    /// No path may leave the group and come back: every node outside it that
    /// depends on a member must not feed a member.
    private func isConvex(_ members: Set<Int>, nodes: [Node], producer: [ValueID: Int]) -> Bool {
        guard let first = members.min(), let last = members.max() else { return true }
        // Nodes between the first and last member that are outside the group but reachable from it.
        var tainted: Set<ValueID> = []
        for index in first...last {
            let node = nodes[index]
            let fromGroup = node.operands.contains { tainted.contains($0) || producer[$0].map(members.contains) == true }
            if members.contains(index) {
                if node.operands.contains(where: { tainted.contains($0) }) { return false }
            } else if fromGroup {
                tainted.formUnion(node.results)
            }
        }
        return true
    }

    private func makeGroup(_ group: [Node], exported: [ValueID], in graph: Graph) -> Node {
        let defined = Set(group.flatMap(\.results))
        let body = Graph(name: "rows")
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
        body.setOutputs(exported.compactMap { mapping[$0] })
        return Node(op: .fused, operands: operands, results: exported, attributes: ["kind": .string("rows")],
                    regions: [body], location: group.last?.location)
    }
}
