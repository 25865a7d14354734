import DLMCodegen
import DLMGraph
import DLMPasses
import DLMRuntime

/// Runs a model's compiled train step, and owns the training state between
/// steps: parameters, optimiser slots, running statistics and the step
/// count. The step goes through the -O2 pipeline in training mode and runs
/// on the chosen backend (the JIT compiles it like any plan; the
/// interpreter is the reference).
public final class TrainStepRunner {
    /// The train step as compiled (after the passes).
    public let step: TrainStep
    private let stepExecutor: ModelExecutor
    private let config: TrainingConfig
    private let inputName: String
    /// The dtype of the step's scalar inputs (the model's floating-point type).
    private let scalarType: DType
    /// Whether the step has dropout, which reads the step number.
    private let readsDropoutStep: Bool
    /// Every state tensor by name: parameters, then optimiser slots
    /// (`TrainStep.slotName`). This runner's own: each step overwrites these
    /// tensors in place, so they are never handed out (see `state`).
    private var liveState: [String: Tensor]
    /// Optimiser steps taken so far.
    public private(set) var iterations: Int
    /// Overrides the configured (or scheduled) learning rate.
    public var learningRateOverride: Double?

    /// Compiles the train step of `model` and starts from
    /// `parameters` (every parameter of the model) with zeroed optimiser slots,
    /// or from a checkpoint's `state` and `iterations`.
    public init(model: LoweredModel, config: TrainingConfig, parameters: [String: Tensor], backend: Backend,
                pool: ThreadPool = .default, resumingAt iterations: Int = 0, log: ((String) -> Void)? = nil) throws {
        guard model.graph.inputs.count == 1, let input = model.graph.inputs.first else {
            throw TrainingError("model '\(model.name)' has \(model.graph.inputs.count) inputs; training reads one data source into one input",
                                at: config.data.range)
        }
        inputName = model.graph.name(of: input) ?? "x"
        self.config = config
        let step = try TrainStep.build(model, config: config, training: true)
        try PassManager(pipeline: .level(2), mode: .training).run(step.graph)
        self.step = step
        scalarType = step.graph.inputs.first { step.graph.name(of: $0) == TrainStep.InputName.learningRate }
            .map { step.graph.type(of: $0).dtype } ?? .f32
        readsDropoutStep = step.graph.inputs.contains { step.graph.name(of: $0) == TrainStep.InputName.dropoutStep }
        stepExecutor = try ModelExecutor(graph: step.graph, parameters: [:], backend: backend, pool: pool, log: log)
        // The state is this runner's own (each step overwrites it in place), never shared with the caller's tensors.
        var state: [String: Tensor] = [:]
        for name in step.stateNames {
            if let value = parameters[name] {
                state[name] = value.uniqueCopy()
            } else if let owner = step.slotOwners[name], let parameter = parameters[owner] {
                state[name] = try Tensor(zeros: parameter.dtype, shape: parameter.shape)
            } else {
                throw TrainingError("missing parameter '\(name)'")
            }
        }
        liveState = state
        self.iterations = iterations
    }

    /// The model's parameters as they are now (copies: the state changes in place at every step).
    public var parameters: [String: Tensor] { liveState.filter { step.slotOwners[$0.key] == nil }.mapValues { $0.uniqueCopy() } }

    /// Every state tensor as it is now, by name: parameters, then optimiser slots (`TrainStep.slotName`); copies, for checkpoints.
    public var state: [String: Tensor] { liveState.mapValues { $0.uniqueCopy() } }

    /// The learning rate of the next step.
    public var learningRate: Double {
        learningRateOverride ?? config.schedule?.learningRate(atStep: iterations) ?? config.optimizer.learningRate
    }

    /// One optimiser step on a batch; returns the batch's loss (before the update) and the model's output for it.
    public func train(features: Tensor, targets: Tensor) throws -> (loss: Double, prediction: Tensor) {
        let dtype = scalarType
        var inputs = liveState
        inputs[inputName] = features
        inputs[TrainStep.InputName.target] = targets
        inputs[TrainStep.InputName.learningRate] = try Tensor(dtype: dtype, shape: [], values: [learningRate])
        inputs[TrainStep.InputName.iteration] = try Tensor(dtype: dtype, shape: [], values: [Double(iterations + 1)])
        if readsDropoutStep {
            inputs[TrainStep.InputName.dropoutStep] = try Tensor(dtype: .i64, shape: [], values: [Double(iterations)])
        }
        // New parameters and slots go straight back into the state tensors they were read from.
        // (A step whose loss is not finite has then already spoilt the state: training ends there.)
        let destinations = [nil, nil] + step.updatedState.map { liveState[$0] }
        let outputs = try stepExecutor.run(inputs, writingInto: destinations)
        let loss = try outputs[TrainStep.lossOutput].scalar(at: 0)
        guard loss.isFinite else {
            throw TrainingError("the loss became \(loss) at step \(iterations + 1); try a lower learning rate, or check the data for extreme values")
        }
        iterations += 1
        return (loss, outputs[TrainStep.predictionOutput])
    }

    /// Replaces the training state (resuming from a checkpoint).
    public func restore(state: [String: Tensor], iterations: Int) throws {
        for name in step.stateNames {
            guard let value = state[name], let current = liveState[name] else { throw TrainingError("the checkpoint has no '\(name)'") }
            guard value.shape == current.shape, value.dtype == current.dtype else {
                throw TrainingError("the checkpoint's '\(name)' is \(value.dtype.rawValue)\(value.shape), but the model needs \(current.dtype.rawValue)\(current.shape)")
            }
        }
        liveState = state.filter { step.stateNames.contains($0.key) }.mapValues { $0.uniqueCopy() }
        self.iterations = iterations
    }
}
