import DLMSyntax
@testable import DLMGraph

/// Hand-built graphs shared by the printer, parser and verifier tests.
enum Fixtures {
    static let b = Dim.symbol("B")
    static let t = Dim.symbol("T")

    static func f32(_ dims: Dim...) -> TensorType { TensorType(.f32, Shape(dims)) }

    /// matmul + broadcast bias + add + relu + reduce.
    static func mlp() throws -> Graph {
        let graph = Graph(name: "MLP")
        let x = graph.addInput(name: "x", type: f32(b, 784))
        let weight = try graph.addParameter(name: "fc1.weight", type: f32(784, 10), initializer: .glorotUniform)
        let bias = try graph.addParameter(name: "fc1.bias", type: f32(10), initializer: .zeros)
        let scale = try graph.addParameter(name: "bn.scale", type: f32(10), initializer: .uniform(low: -0.05, high: 0.05),
                                           isTrainable: false)
        _ = scale
        let product = try graph.emit(.matmul, [x, weight])
        let widened = try graph.emit(.broadcast, [bias], attributes: ["shape": .dims([b, 10])])
        let sum = try graph.emit(.add, [product, widened])
        let activated = try graph.emit(.relu, [sum])
        let total = try graph.emit(.reduce, [activated], attributes: ["kind": .string("sum"), "axes": .ints([1])])
        graph.setOutputs([activated, total], names: ["logits", nil])
        return graph
    }

    /// A one-layer tanh RNN as a scan with one sequence, one carry, one capture.
    static func rnn() throws -> Graph {
        let body = Graph(name: "body")
        let xt = body.addInput(name: "x_t", type: f32(b, 3))
        let h = body.addInput(name: "h", type: f32(b, 4))
        let w = body.addInput(name: "w", type: f32(7, 4))
        let joined = try body.emit(.concat, [xt, h], attributes: ["axis": .int(1)])
        let product = try body.emit(.matmul, [joined, w])
        let next = try body.emit(.tanh, [product])
        body.setOutputs([next, next])

        let graph = Graph(name: "RNN")
        let xs = graph.addInput(name: "xs", type: f32(b, t, 3))
        let h0 = try graph.emit(.constant, [], attributes: ["dtype": .dtype(.f32), "shape": .dims([1, 4]), "values": .floats([0])])
        let h0b = try graph.emit(.broadcast, [h0], attributes: ["shape": .dims([b, 4])])
        let weight = try graph.addParameter(name: "rnn.w", type: f32(7, 4), initializer: .orthogonal(gain: 1))
        let results = try graph.append(.scan, [xs, h0b, weight],
                                       attributes: ["sequences": .int(1), "carries": .int(1)], regions: [body])
        graph.setOutputs(results, names: ["h", "hs"])
        return graph
    }
}
