import DLMGraph
import DLMRuntime
import DLMSyntax
import Testing

/// The scan gradient (a reverse scan over stored residuals) against central
/// finite differences, on f64 recurrent models: every parameter and the input.
@Suite struct ScanGradientTests {
    static let layers: [String] = [
        "simple_rnn(x, 4)",
        "simple_rnn(x, 4, return_sequences: true)",
        "lstm(x, 4)",
        "lstm(x, 3, return_sequences: true)",
        "gru(x, 4)",
        "gru(x, 3, return_sequences: true, reset_after: false)",
        "scan(Cell, x, init: (zeros([B, 4], dtype: f64), zeros([B, 4], dtype: f64)))",
    ]

    static let cell = """
    layer Cell(x: f64[B, I], h: f64[B, H], c: f64[B, H]) -> (f64[B, H], f64[B, H]) {
        z = concat([h, x], axis: 1)
        f = sigmoid(dense(z, H, name: "forget"))
        g = tanh(dense(z, H, name: "cell"))
        c2 = f * c + (1 - f) * g
        return (tanh(c2) * f, c2)
    }
    """

    @Test(arguments: layers)
    func recurrentLayer(_ layer: String) throws {
        let returnsSequence = layer.contains("return_sequences: true")
        let units = layer.contains(", 3") ? 3 : 4
        let result = returnsSequence ? "f64[B, T, \(units)]" : "f64[B, \(units)]"
        let source = """
        \(layer.hasPrefix("scan") ? Self.cell : "")
        model M(x: f64[B, T, 3]) -> \(result) {
            \(layer.hasPrefix("scan") ? "(h, c) = \(layer)\n    return h" : "return \(layer)")
        }
        """
        let diagnostics = DiagnosticEngine()
        let unit = Parser.parse(SourceFile(path: "scan.dlm", text: source), diagnostics: diagnostics)
        let module = Lowering.lower(unit, diagnostics: diagnostics)
        #expect(!diagnostics.hasErrors, "\(DiagnosticRenderer().render(diagnostics.diagnostics))")
        let model = try #require(module.models.first)
        try checkModel(model.graph, inputShape: [2, 3, 3])
    }

    /// d/dθ sum(model(x) ⊙ W) for every parameter θ and the input, by the rules and by finite differences.
    func checkModel(_ source: Graph, inputShape: [Int]) throws {
        var random = RandomSource(seed: 3)
        let graph = source.copy()
        let output = graph.outputs[0]
        let b = GraphBuilder(graph)
        // Sizes are symbolic (B, T): weight the output by a fixed random vector over its last, fixed axis.
        let units = graph.type(of: output).shape.dims.last?.constantValue ?? 1
        let projection = try graph.emit(.constant, [], attributes: [
            "dtype": .dtype(.f64), "shape": .dims([.constant(units)]), "values": .floats((0..<units).map { _ in random.uniform(-1, 1) }),
        ])
        let loss = try b.sumAll(try b.mul(output, try b.broadcast(projection, to: graph.type(of: output).shape)))
        let wrt = [graph.inputs[0]] + graph.parameters.map(\.value)
        let gradients = try ReverseMode.gradients(of: loss, withRespectTo: wrt, in: graph)
        graph.setOutputs([loss] + gradients)
        #expect(verify(graph).isEmpty, "\(verify(graph))")

        var parameters: [String: Tensor] = [:]
        for parameter in graph.parameters {
            let shape = parameter.type.shape.dims.compactMap(\.constantValue)
            parameters[parameter.name] = try Tensor(dtype: .f64, shape: shape, values: (0..<shape.reduce(1, *)).map { _ in random.uniform(-0.8, 0.8) })
        }
        let x = try Tensor(dtype: .f64, shape: inputShape, values: (0..<inputShape.reduce(1, *)).map { _ in random.uniform(-1, 1) })
        let name = try #require(graph.name(of: graph.inputs[0]))
        func run(_ x: Tensor, _ parameters: [String: Tensor]) throws -> [Tensor] {
            try Interpreter(graph: graph, parameters: parameters, pool: .default).run([name: x])
        }
        let analytic = try run(x, parameters)
        let step = 1e-6
        func perturbed(_ tensor: Tensor, _ element: Int, _ delta: Double) throws -> Tensor {
            var values = tensor.scalars
            values[element] += delta
            return try Tensor(dtype: .f64, shape: tensor.shape, values: values)
        }
        func compare(_ computed: Double, _ plus: Double, _ minus: Double, _ what: String) {
            let numeric = (plus - minus) / (2 * step)
            #expect(Swift.abs(computed - numeric) <= 1e-6 + 1e-6 * Swift.abs(numeric), "\(what): rule \(computed), finite difference \(numeric)")
        }
        for element in 0..<x.count {
            compare(analytic[1].scalars[element], try run(try perturbed(x, element, step), parameters)[0].scalars[0],
                    try run(try perturbed(x, element, -step), parameters)[0].scalars[0], "d/dx[\(element)]")
        }
        for (position, parameter) in graph.parameters.enumerated() {
            let value = try #require(parameters[parameter.name])
            for element in 0..<value.count {
                var plus = parameters, minus = parameters
                plus[parameter.name] = try perturbed(value, element, step)
                minus[parameter.name] = try perturbed(value, element, -step)
                compare(analytic[2 + position].scalars[element], try run(x, plus)[0].scalars[0], try run(x, minus)[0].scalars[0],
                        "d/d\(parameter.name)[\(element)]")
            }
        }
    }
}
