import DLMCodegen
import DLMGraph
import DLMPasses
import DLMRuntime

/// Computes a model's loss and metrics on data in inference mode (dropout
/// off, batch norm on its running statistics): the evaluation graph
/// (`TrainStep` with `training: false`), compiled through -O2 on the chosen
/// backend. Used for validation during training and by `dlmc evaluate`.
public final class ModelEvaluator {
    /// The evaluation graph as compiled.
    public let evaluation: TrainStep
    private let executor: ModelExecutor
    private let config: TrainingConfig
    private let inputName: String

    /// Compiles the evaluation graph of `model` for the loss and metrics of `config`.
    public init(model: LoweredModel, config: TrainingConfig, backend: Backend, pool: ThreadPool = .default,
                log: ((String) -> Void)? = nil) throws {
        guard let input = model.graph.inputs.first, model.graph.inputs.count == 1 else {
            throw TrainingError("model '\(model.name)' has \(model.graph.inputs.count) inputs; evaluation reads one data source into one input")
        }
        inputName = model.graph.name(of: input) ?? "x"
        self.config = config
        evaluation = try TrainStep.build(model, config: config, training: false)
        try PassManager(pipeline: .level(2), mode: .inference).run(evaluation.graph)
        executor = try ModelExecutor(graph: evaluation.graph, parameters: [:], backend: backend, pool: pool, log: log)
    }

    /// The loss and the model's output on one batch.
    public func evaluate(parameters: [String: Tensor], features: Tensor, targets: Tensor) throws -> (loss: Double, prediction: Tensor) {
        var inputs = parameters
        inputs[inputName] = features
        inputs[TrainStep.InputName.target] = targets
        let outputs = try executor.run(inputs)
        return (try outputs[TrainStep.lossOutput].scalar(at: 0), outputs[TrainStep.predictionOutput])
    }

    /// The loss and metrics over a data set, in batches of `batchSize`, in order: epoch figures (`loss`, `accuracy`, …).
    public func figures(of parameters: [String: Tensor], on dataset: Dataset, batchSize: Int) throws -> [(name: String, value: Double)] {
        var accumulator = try MetricAccumulator(metrics: config.metrics, loss: config.loss)
        let order = try BatchOrder(count: dataset.count, batchSize: batchSize, shuffle: false, seed: 0)
        let loader = BatchLoader(dataset: dataset, order: order, epoch: 0)
        while let batch = try loader.next() {
            let (loss, prediction) = try evaluate(parameters: parameters, features: batch.features, targets: batch.targets)
            accumulator.add(loss: loss, count: batch.count)
            try accumulator.add(predictions: prediction, targets: batch.targets)
        }
        return accumulator.results()
    }
}
