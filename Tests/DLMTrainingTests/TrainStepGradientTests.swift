import DLMGraph
import DLMPasses
import DLMRuntime
import DLMTraining
import Testing

/// The whole train step in f64, against finite differences of its own loss:
/// with SGD at lr 1 the update is p - g, so the step's new parameters give
/// its gradient. Batch norm (batch statistics), dropout (a fixed step's mask),
/// a regularizer and the logits rewrite are all on the path.
@Suite struct TrainStepGradientTests {
    static let source = """
    model Net(x: f64[N, 5]) -> f64[N, 3] {
        return x |> dense(6, activation: tanh, kernel_regularizer: l2(0.01)) |> batchnorm |> dropout(0.3)
                 |> dense(3, activation: softmax)
    }
    train Net {
        data      = inline(x: [[0]], y: [[0]])
        loss      = sparse_categorical_crossentropy
        optimizer = sgd(lr: 1)
    }
    """

    @Test func stepGradientMatchesFiniteDifferences() throws {
        let model = try #require(try lowerModels(Self.source).first)
        let config = try #require(model.training)
        let step = try TrainStep.build(model, config: config, training: true)
        try PassManager(pipeline: .level(2), mode: .training).run(step.graph)
        let interpreter = try Interpreter(graph: step.graph, parameters: [:], pool: testPool)
        var random = RandomSource(seed: 5)
        var parameters = try Interpreter.initialParameters(of: model.graph, seed: 2)
        // Running statistics away from their initial 0 and 1, so the update below is not trivially checked.
        parameters["bn1.moving_mean"] = try Tensor(dtype: .f64, shape: [6], values: (0..<6).map { _ in random.uniform(-0.5, 0.5) })
        let x = try Tensor(dtype: .f64, shape: [7, 5], values: (0..<35).map { _ in random.uniform(-1, 1) })
        let y = try Tensor(dtype: .i32, shape: [7], values: (0..<7).map { Double($0 % 3) })
        func run(_ parameters: [String: Tensor]) throws -> [Tensor] {
            var inputs = parameters
            inputs["x"] = x
            inputs[TrainStep.InputName.target] = y
            inputs[TrainStep.InputName.learningRate] = try Tensor(dtype: .f64, shape: [], values: [1])
            inputs[TrainStep.InputName.iteration] = try Tensor(dtype: .f64, shape: [], values: [1])
            inputs[TrainStep.InputName.dropoutStep] = try Tensor(dtype: .i64, shape: [], values: [3])
            return try interpreter.run(inputs)
        }
        let outputs = try run(parameters)
        let updated = Dictionary(uniqueKeysWithValues: zip(step.updatedState, outputs.dropFirst(2)))
        let h = 1e-6
        for parameter in model.graph.parameters where parameter.isTrainable {
            let value = try #require(parameters[parameter.name])
            let new = try #require(updated[parameter.name])
            for element in 0..<value.count {
                var plus = parameters, minus = parameters
                var up = value.scalars, down = value.scalars
                up[element] += h
                down[element] -= h
                plus[parameter.name] = try Tensor(dtype: .f64, shape: value.shape, values: up)
                minus[parameter.name] = try Tensor(dtype: .f64, shape: value.shape, values: down)
                let numeric = (try run(plus)[0].scalars[0] - run(minus)[0].scalars[0]) / (2 * h)
                let analytic = value.scalars[element] - new.scalars[element]
                #expect(abs(analytic - numeric) <= 1e-6 + 1e-6 * abs(numeric), "d loss/d \(parameter.name)[\(element)]: step \(analytic), finite difference \(numeric)")
            }
        }
        // moving = 0.99·moving + 0.01·batch statistic, from the batch's own mean and biased variance of bn1's input.
        let hidden = try Interpreter(graph: { () -> Graph in
            let (g, values) = model.graph.copyMappingValues()
            g.setOutputs([values[model.batchNorms[0].input] ?? model.batchNorms[0].input])
            return g
        }(), parameters: parameters, pool: testPool).run(["x": x])[0].scalars
        for feature in 0..<6 {
            let column = (0..<7).map { hidden[$0 * 6 + feature] }
            let mean = column.reduce(0, +) / 7
            let variance = column.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 7
            let oldMean = try #require(parameters["bn1.moving_mean"]).scalars[feature]
            #expect(abs(try #require(updated["bn1.moving_mean"]).scalars[feature] - (0.99 * oldMean + 0.01 * mean)) < 1e-12)
            #expect(abs(try #require(updated["bn1.moving_variance"]).scalars[feature] - (0.99 + 0.01 * variance)) < 1e-12)
        }
    }
}
