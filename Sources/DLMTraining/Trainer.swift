import DLMCodegen
import DLMGraph
import DLMRuntime
import DLMSyntax
import Foundation

/// Command-line overrides of a `train` block and how to run it.
public struct TrainingOptions: Sendable {
    /// Passes over the data, instead of the block's `epochs` (or `steps`).
    public var epochs: Int?
    /// Optimiser steps to take instead of epochs.
    public var steps: Int?
    /// Examples per step.
    public var batch: Int?
    /// A learning rate replacing the optimiser's (and its schedule).
    public var learningRate: Double?
    /// The seed for initialisation, shuffling and dropout, instead of the block's.
    public var seed: UInt64?
    /// Where the step runs.
    public var backend: Backend = .auto
    /// Threads for the kernels (default: the machine's cores).
    public var threads: Int?
    /// Write a checkpoint here after every epoch.
    public var checkpointDirectory: String?
    /// Continue from the checkpoint in this directory.
    public var resumeDirectory: String?
    /// How progress is shown (`nil`: a redrawn line on a terminal, one line per epoch otherwise).
    public var progress: ProgressPrinter.Mode?

    /// No overrides: the `train` block as written, on the default backend.
    public init() {}
}

/// What a training run produced.
public struct TrainingResult: Sendable {
    /// The trained parameters (the best epoch's when early stopping restored them).
    public let parameters: [String: Tensor]
    /// Per-epoch figures.
    public let history: TrainingHistory
    /// The epoch early stopping ended the run after, if it did.
    public let stoppedAfterEpoch: Int?
}

/// Trains a model as its `train` block says (Keras's `fit`): loads and
/// splits the data, compiles the train step, then runs epochs of shuffled
/// batches, reporting progress and epoch figures, validating, checkpointing
/// and stopping early as asked. Paths in the block are relative to `directory`.
public final class Trainer {
    /// The model trained.
    public let model: LoweredModel
    /// Its train block with the options' overrides applied.
    public let config: TrainingConfig
    /// How the run was asked for.
    public let options: TrainingOptions
    /// The run's seed: `--seed`, else the block's.
    public let seed: UInt64
    let training: Dataset
    let validation: Dataset?
    let runner: TrainStepRunner
    let evaluator: ModelEvaluator?
    let printer: ProgressPrinter
    var metrics: MetricAccumulator

    /// Loads the data and compiles the train step; every problem a user can cause is a `TrainingError`.
    public init(model: LoweredModel, directory: String, options: TrainingOptions, output: FileHandle = .standardOutput,
                log: ((String) -> Void)? = nil) throws {
        guard var config = model.training else {
            throw TrainingError("model '\(model.name)' has no train block; add one (train \(model.name) { data = …, loss = …, optimizer = … })")
        }
        if let epochs = options.epochs { config.epochs = epochs; config.steps = nil }
        if let steps = options.steps { config.steps = steps }
        if let batch = options.batch { config.batch = batch }
        self.model = model
        self.config = config
        self.options = options
        seed = options.seed ?? UInt64(bitPattern: Int64(config.seed))
        (training, validation) = try TrainingData.load(for: model, config: config, relativeTo: directory)
        metrics = try MetricAccumulator(metrics: config.metrics, loss: config.loss)
        let pool = options.threads.map(ThreadPool.init) ?? .default
        let parameters = try Interpreter.initialParameters(of: model.graph, seed: seed)
        runner = try TrainStepRunner(model: model, config: config, parameters: parameters, backend: options.backend, pool: pool, log: log)
        runner.learningRateOverride = options.learningRate
        evaluator = validation == nil ? nil : try ModelEvaluator(model: model, config: config, backend: options.backend, pool: pool, log: log)
        printer = ProgressPrinter(output: output, mode: options.progress)
    }

    /// How the loss needs its targets for predictions of `output` (class ids, one-hot rows or values).
    public static func targetEncoding(for loss: Loss, output: TensorType, at range: SourceRange?) throws -> TargetEncoding {
        let trailing = output.shape.dims.dropFirst().map { $0.constantValue ?? -1 }
        switch loss {
        case .sparseCategoricalCrossEntropy:
            guard let classes = trailing.last, classes > 0 else {
                throw TrainingError("sparse_categorical_crossentropy needs a fixed number of classes as the output's last size, not \(output)", at: range)
            }
            return .classIndices(classes: classes, shape: Array(trailing.dropLast()))
        case .categoricalCrossEntropy where trailing.count == 1:
            return .oneHot(classes: trailing[0])
        default:
            return .values(shape: trailing)
        }
    }

    /// Runs the training to its end (or an early stop) and returns the parameters and history.
    public func fit() throws -> TrainingResult {
        var history = TrainingHistory()
        var startEpoch = 0
        var stopper = config.earlyStopping.map { EarlyStopper($0) }
        if let directory = options.resumeDirectory {
            let checkpoint = try Checkpoint.read(from: directory)
            guard checkpoint.model == model.name else {
                throw TrainingError("the checkpoint in '\(directory)' is of model '\(checkpoint.model)', not '\(model.name)'")
            }
            if let seed = options.seed, seed != checkpoint.seed {
                throw TrainingError("the checkpoint was trained with seed \(checkpoint.seed), not \(seed); resume without --seed or with the same one")
            }
            try runner.restore(state: checkpoint.state, iterations: checkpoint.iterations)
            history = checkpoint.history
            startEpoch = checkpoint.epoch
            stopper?.replay(history, best: try? SafeTensors.read(EarlyStopper.bestPath(in: directory)).tensors)
        }
        let order = try BatchOrder(count: training.count, batchSize: config.batch, shuffle: config.shuffle, seed: seed)
        if let steps = config.steps {
            try runSteps(steps, order: order, history: &history)
            return TrainingResult(parameters: runner.parameters, history: history, stoppedAfterEpoch: nil)
        }
        for epoch in startEpoch..<config.epochs {
            printer.beginEpoch(epoch + 1, of: config.epochs, steps: order.batchesPerEpoch)
            metrics.reset()
            let loader = BatchLoader(dataset: training, order: order, epoch: epoch)
            var step = 0
            while let batch = try loader.next() {
                try trainOn(batch)
                step += 1
                printer.update(step: step, metrics: metrics.results())
            }
            let figures = metrics.results()
            let validationFigures = try validate()
            printer.endEpoch(metrics: figures, validation: validationFigures)
            history.record(epoch: epoch + 1, training: figures, validation: validationFigures)
            let decision = stopper?.observe(history, parameters: runner.parameters)
            if let directory = options.checkpointDirectory {
                try Checkpoint(state: runner.state, epoch: epoch + 1, iterations: runner.iterations, seed: seed,
                               model: model.name, history: history).write(to: directory)
                if decision?.improved == true, let best = stopper?.bestParameters {
                    try SafeTensors.write(SafeTensors.Contents(tensors: best), to: EarlyStopper.bestPath(in: directory))
                }
            }
            if decision?.stop == true {
                let parameters = (config.earlyStopping?.restoreBest == true ? stopper?.bestParameters : nil) ?? runner.parameters
                return TrainingResult(parameters: parameters, history: history, stoppedAfterEpoch: epoch + 1)
            }
        }
        return TrainingResult(parameters: runner.parameters, history: history, stoppedAfterEpoch: nil)
    }

    /// `steps` optimiser steps over successive shuffled epochs, reported as one run.
    private func runSteps(_ steps: Int, order: BatchOrder, history: inout TrainingHistory) throws {
        printer.beginEpoch(1, of: 1, steps: steps)
        metrics.reset()
        var epoch = runner.iterations / max(1, order.batchesPerEpoch)
        var step = 0
        while step < steps {
            let loader = BatchLoader(dataset: training, order: order, epoch: epoch)
            while step < steps, let batch = try loader.next() {
                try trainOn(batch)
                step += 1
                printer.update(step: step, metrics: metrics.results())
            }
            epoch += 1
        }
        let figures = metrics.results(), validationFigures = try validate()
        printer.endEpoch(metrics: figures, validation: validationFigures)
        history.record(epoch: 1, training: figures, validation: validationFigures)
    }

    private func trainOn(_ batch: Batch) throws {
        let (loss, prediction) = try runner.train(features: batch.features, targets: batch.targets)
        metrics.add(loss: loss, count: batch.count)
        try metrics.add(predictions: prediction, targets: batch.targets)
    }

    /// Loss and metrics over the validation data, in inference mode.
    private func validate() throws -> [(name: String, value: Double)] {
        guard let validation, let evaluator else { return [] }
        return try evaluator.figures(of: runner.parameters, on: validation, batchSize: config.batch)
    }
}
