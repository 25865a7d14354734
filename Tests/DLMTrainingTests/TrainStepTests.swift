import DLMCodegen
import DLMGraph
import DLMPasses
import DLMRuntime
import DLMTraining
import Testing

@Suite struct TrainStepTests {
    /// The bundled linear regression, trained on its inline points for its 1000 steps.
    @Test(arguments: [Backend.interp, .jit])
    func linearRegressionFits(backend: Backend) throws {
        let model = try #require(try exampleModels("linear_regression.dlm").first)
        let config = try #require(model.training)
        let parameters = try Interpreter.initialParameters(of: model.graph, seed: 0)
        let runner = try TrainStepRunner(model: model, config: config, parameters: parameters, backend: backend, pool: testPool)
        let x = try Tensor(shape: [4, 2], scalars: [1, 2, 2, 3, 3, 4, 4, 5])
        let y = try Tensor(shape: [4, 1], scalars: [1, 2, 3, 4])
        var first = 0.0, last = 0.0
        for step in 0..<1000 {
            let loss = try runner.train(features: x, targets: y).loss
            if step == 0 { first = loss }
            last = loss
        }
        #expect(first > 0.1)
        let evaluator = try ModelEvaluator(model: model, config: config, backend: backend, pool: testPool)
        #expect(try evaluator.evaluate(parameters: runner.parameters, features: x, targets: y).loss < 1e-3, "first loss \(first), last \(last)")
    }
}
