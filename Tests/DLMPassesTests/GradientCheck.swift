import DLMGraph
import DLMPasses
import DLMRuntime
import Testing

/// Central finite differences in f64 on the interpreter, against the
/// gradient graph `ReverseMode` builds from the ops' rules.
///
/// The function checked is `L = sum(f(inputs) ⊙ W)` for a fixed random `W`,
/// so every element of `f`'s result gets a different cotangent.
struct GradientCheck {
    struct Input {
        let name: String
        let shape: [Int]
        let values: [Double]
    }

    var inputs: [Input] = []
    private var random = RandomSource(seed: 7)

    /// An f64 input with values in ±[0.2, 1.2] (away from the kinks of relu, abs and max at 0).
    mutating func input(_ name: String, _ shape: [Int], positive: Bool = false) -> Input {
        let values = (0..<shape.reduce(1, *)).map { _ -> Double in
            let magnitude = 0.2 + random.unit()
            return positive || random.unit() < 0.5 ? magnitude : -magnitude
        }
        let input = Input(name: name, shape: shape, values: values)
        inputs.append(input)
        return input
    }

    /// Builds the graph `f` over the inputs and compares its gradient with finite differences.
    mutating func check(step: Double = 1e-6, tolerance: Double = 1e-6,
                        _ f: (GraphBuilder, [ValueID]) throws -> ValueID) throws {
        let graph = Graph(name: "check")
        let values = inputs.map { graph.addInput(name: $0.name, type: TensorType(.f64, Shape($0.shape.map(Dim.constant)))) }
        let builder = GraphBuilder(graph)
        let y = try f(builder, values)
        let yShape = builder.shape(of: y).dims.compactMap(\.constantValue)
        let weights = (0..<yShape.reduce(1, *)).map { _ in random.uniform(-1, 1) }
        let w = try graph.emit(.constant, [], attributes: ["dtype": .dtype(.f64), "shape": .dims(yShape.map(Dim.constant)), "values": .floats(weights)])
        let loss = try builder.sumAll(try builder.mul(try builder.cast(y, to: .f64), w))
        let gradients = try ReverseMode.gradients(of: loss, withRespectTo: values, in: graph)
        graph.setOutputs([loss] + gradients)
        let errors = verify(graph)
        #expect(errors.isEmpty, "\(errors)")

        let interpreter = try Interpreter(graph: graph, parameters: [:], pool: .default)
        func run(_ replaced: (input: Int, element: Int, delta: Double)?) throws -> [Tensor] {
            var tensors: [String: Tensor] = [:]
            for (index, input) in inputs.enumerated() {
                var values = input.values
                if let replaced, replaced.input == index { values[replaced.element] += replaced.delta }
                tensors[input.name] = try Tensor(dtype: .f64, shape: input.shape, values: values)
            }
            return try interpreter.run(tensors)
        }
        let analytic = try run(nil)
        for (index, input) in inputs.enumerated() {
            let computed = analytic[index + 1].scalars
            for element in input.values.indices {
                let plus = try run((index, element, step))[0].scalars[0]
                let minus = try run((index, element, -step))[0].scalars[0]
                let numeric = (plus - minus) / (2 * step)
                #expect(Swift.abs(computed[element] - numeric) <= tolerance + tolerance * Swift.abs(numeric),
                        "d/d\(input.name)[\(element)]: rule \(computed[element]), finite difference \(numeric)")
            }
        }
    }
}

extension GraphBuilder {
    /// A constant of fixed values (tests only build these by hand).
    func constant(_ values: [Double], _ dtype: DType, _ shape: [Int]) throws -> ValueID {
        try emit(.constant, [], ["dtype": .dtype(dtype), "shape": .dims(shape.map(Dim.constant)), "values": .floats(values)])
    }
}
