import DLMGraph
import DLMRuntime

/// Evaluates pure ops whose operands are all constants, with the
/// interpreter's own kernels (no second implementation of any op), and
/// replaces them with constants. Results that are one repeated value stay a
/// one-value (splat) constant; larger results than `maximumElements` are not
/// folded, so folding never bloats a graph with big literal tensors.
public struct ConstantFolding: GraphPass {
    public let name = "fold"
    public let summary = "evaluate ops on constants at compile time, with the interpreter's kernels"
    /// Results larger than this stay as ops, to keep graphs small.
    public let maximumElements: Int

    public init(maximumElements: Int = 1 << 14) {
        self.maximumElements = maximumElements
    }

    public func run(on graph: Graph, mode: CompilationMode) throws -> PassStatistics {
        var constants: [ValueID: Tensor] = [:]
        var nodes: [Node] = []
        var folded = 0
        for node in graph.nodes {
            for region in node.regions { folded += try run(on: region, mode: mode).opsRemoved }
            if node.op == .constant, let tensor = try? Self.tensor(of: node, in: graph) {
                constants[node.results[0]] = tensor
                nodes.append(node)
                continue
            }
            guard GraphEditing.isPure(node.op), !node.operands.isEmpty,
                  node.operands.allSatisfy({ constants[$0] != nil }),
                  let replacement = try evaluate(node, constants: constants, in: graph) else {
                nodes.append(node)
                continue
            }
            for (result, tensor) in zip(node.results, replacement.tensors) { constants[result] = tensor }
            nodes.append(contentsOf: replacement.nodes)
            folded += 1
        }
        if folded > 0 { graph.replaceNodes(nodes) }
        return PassStatistics(opsRemoved: folded)
    }

    /// The tensor a `constant` node holds.
    static func tensor(of node: Node, in graph: Graph) throws -> Tensor {
        let type = graph.type(of: node.results[0])
        let shape = type.shape.dims.compactMap(\.constantValue)
        guard shape.count == type.shape.rank, case .floats(let values)? = node.attributes["values"] else {
            throw RuntimeError("not a constant")
        }
        let count = shape.reduce(1, *)
        return try Tensor(dtype: type.dtype, shape: shape, values: values.count == 1 ? Array(repeating: values[0], count: count) : values)
    }

    /// Runs one node on constant operands; returns `constant` nodes defining its results.
    private func evaluate(_ node: Node, constants: [ValueID: Tensor], in graph: Graph) throws -> (nodes: [Node], tensors: [Tensor])? {
        let resultTypes = node.results.map { graph.type(of: $0) }
        var shapes: [[Int]] = []
        for type in resultTypes {
            let shape = type.shape.dims.compactMap(\.constantValue)
            guard shape.count == type.shape.rank, shape.reduce(1, *) <= maximumElements else { return nil }
            shapes.append(shape)
        }
        // A one-node graph whose inputs are the constants, run by the interpreter.
        let scratch = Graph(name: "fold")
        var inputs: [String: Tensor] = [:]
        var operands: [ValueID] = []
        for (index, operand) in node.operands.enumerated() {
            guard let tensor = constants[operand] else { return nil }
            operands.append(scratch.addInput(name: "c\(index)", type: graph.type(of: operand)))
            inputs["c\(index)"] = tensor
        }
        guard let results = try? scratch.append(node.op, operands, attributes: node.attributes, location: node.location) else { return nil }
        scratch.setOutputs(results)
        guard let tensors = try? Interpreter(graph: scratch, parameters: [:], pool: ThreadPool(threads: 1)).run(inputs) else { return nil }
        let nodes = zip(node.results, tensors).map { result, tensor -> Node in
            let values = tensor.scalars
            let splat = values.first.map { first in values.allSatisfy { $0 == first || ($0.isNaN && first.isNaN) } } ?? false
            return Node(op: .constant, operands: [], results: [result], attributes: [
                "dtype": .dtype(tensor.dtype), "shape": .dims(tensor.shape.map { Dim.constant($0) }),
                "values": .floats(splat ? [values[0]] : values),
            ], location: node.location)
        }
        return (nodes, tensors)
    }
}
