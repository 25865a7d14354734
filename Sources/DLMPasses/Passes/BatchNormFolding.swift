import DLMGraph

/// Folds an inference-mode batch norm into the convolution or dense layer
/// before it: `bn(conv(x, W) + b)` becomes `conv(x, W·s) + ((b - mean)·s + beta)`
/// with `s = gamma · rsqrt(variance + epsilon)`. The new weight and bias are
/// computed from parameters only, so the interpreter evaluates them once
/// and the per-call work is a plain convolution with a bias.
///
/// Matches the ops `batchnorm` lowers to:
/// `add(mul(mul(sub(y, bcast(mean)), bcast(inv)), bcast(gamma)), bcast(beta))`
/// where `y = add(conv2d|matmul(x, W), bcast(b))` over the last axis.
public struct BatchNormFolding: GraphPass {
    public let name = "fold-batchnorm"
    public let summary = "fold inference batch norm into the preceding convolution or dense layer"

    public init() {}

    public func run(on graph: Graph, mode: CompilationMode) throws -> PassStatistics {
        guard mode == .inference else { return PassStatistics() }
        let nodes = graph.nodes
        var producer: [ValueID: Int] = [:]
        for (index, node) in nodes.enumerated() { for result in node.results { producer[result] = index } }
        let uses = GraphEditing.useCounts(graph, nodes: nodes)
        func node(_ value: ValueID, _ op: OpCode) -> Node? {
            guard let index = producer[value], nodes[index].op == op else { return nil }
            return nodes[index]
        }
        func singleUse(_ value: ValueID) -> Bool { uses[value] == 1 }
        /// The vector a `broadcast` spreads over the last axis.
        func vector(_ value: ValueID) -> ValueID? {
            guard let b = node(value, .broadcast), graph.type(of: b.operands[0]).shape.rank == 1 else { return nil }
            return b.operands[0]
        }

        var folded = 0
        var additions: [Int: [Node]] = [:]     // new nodes to insert before a node index
        var replacements: [Int: Node] = [:]
        var removed: Set<Int> = []
        for (rootIndex, root) in nodes.enumerated() where root.op == .add {
            guard let beta = vector(root.operands[1]), let scaled = node(root.operands[0], .mul), singleUse(root.operands[0]),
                  let gamma = vector(scaled.operands[1]), let normalized = node(scaled.operands[0], .mul), singleUse(scaled.operands[0]),
                  let inverse = vector(normalized.operands[1]), let centered = node(normalized.operands[0], .sub), singleUse(normalized.operands[0]),
                  let mean = vector(centered.operands[1]), singleUse(centered.operands[0]),
                  let biased = node(centered.operands[0], .add), let bias = vector(biased.operands[1]),
                  let headIndex = producer[biased.operands[0]], singleUse(biased.operands[0]),
                  nodes[headIndex].op == .conv2d || (nodes[headIndex].op == .matmul && graph.type(of: nodes[headIndex].results[0]).shape.rank == 2)
            else { continue }
            let head = nodes[headIndex]
            let weight = head.operands[1]
            let weightType = graph.type(of: weight)
            let vectorType = graph.type(of: bias)
            guard weightType.shape.dims.last == vectorType.shape.dims.first, graph.type(of: inverse) == vectorType,
                  graph.type(of: mean) == vectorType, graph.type(of: gamma) == vectorType, graph.type(of: beta) == vectorType else { continue }

            // s = gamma * inv; W' = W * broadcast(s); b' = (b - mean) * s + beta
            var new: [Node] = []
            func op(_ code: OpCode, _ operands: [ValueID], _ type: TensorType, _ attributes: [String: Attribute] = [:]) -> ValueID {
                let result = graph.makeValue(type)
                new.append(Node(op: code, operands: operands, results: [result], attributes: attributes, location: root.location))
                return result
            }
            let s = op(.mul, [gamma, inverse], vectorType)
            let spread = op(.broadcast, [s], weightType, ["shape": .dims(weightType.shape.dims)])
            let newWeight = op(.mul, [weight, spread], weightType)
            let shifted = op(.sub, [bias, mean], vectorType)
            let rescaled = op(.mul, [shifted, s], vectorType)
            let newBias = op(.add, [rescaled, beta], vectorType)
            var newHead = head
            newHead.operands[1] = newWeight
            // The bias add now adds b' and produces the batch norm's result.
            guard let biasedIndex = producer[centered.operands[0]] else { continue }
            var newBiased = nodes[biasedIndex]
            let biasBroadcast = Node(op: .broadcast, operands: [newBias], results: [graph.makeValue(graph.type(of: biased.operands[1]))],
                                     attributes: ["shape": .dims(graph.type(of: root.results[0]).shape.dims)], location: root.location)
            newBiased.operands[1] = biasBroadcast.results[0]
            newBiased.results = root.results
            // Everything moves to the batch norm's place, where the statistics are already computed.
            replacements[rootIndex] = newBiased
            additions[rootIndex, default: []] += new + [biasBroadcast, newHead]
            for value in [root.operands[0], scaled.operands[0], normalized.operands[0]] {
                if let index = producer[value] { removed.insert(index) }
            }
            removed.insert(headIndex)
            removed.insert(biasedIndex)
            folded += 1
        }
        guard folded > 0 else { return PassStatistics() }
        var result: [Node] = []
        for (index, node) in nodes.enumerated() {
            result += additions[index] ?? []
            if let replacement = replacements[index] {
                result.append(replacement)
            } else if !removed.contains(index) {
                result.append(node)
            }
        }
        graph.replaceNodes(result)
        // The old broadcasts of mean, gamma, beta and the old bias are now dead: DCE removes them.
        return PassStatistics(opsRemoved: max(0, nodes.count - result.count))
    }
}
