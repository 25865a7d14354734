import DLMSyntax
import Foundation

/// A checked `train` block: everything the trainer needs, with defaults filled in.
public struct TrainingConfig: Sendable {
    /// Where training examples come from.
    public var data: DataSource
    /// Held-out data for validation, if any.
    public var validation: Validation?
    /// The loss to minimise.
    public var loss: Loss
    /// The optimiser and its hyper-parameters.
    public var optimizer: Optimizer
    /// How the learning rate changes with the step (`nil`: constant).
    public var schedule: LearningRateSchedule?
    /// Each gradient is scaled down to at most this L2 norm (Keras's per-variable `clipnorm`).
    public var clipNorm: Double?
    /// Passes over the data (ignored when `steps` is set).
    public var epochs: Int
    /// A fixed number of optimiser steps, instead of epochs.
    public var steps: Int?
    /// Examples per step.
    public var batch: Int
    /// Metrics reported after each epoch.
    public var metrics: [String]
    /// Seed for shuffling and initialisation.
    public var seed: Int
    /// Whether to shuffle examples every epoch.
    public var shuffle: Bool
    /// Stop when a monitored figure stops improving (`callbacks = [early_stopping(…)]`).
    public var earlyStopping: EarlyStopping?
}

/// Keras's `EarlyStopping`: stop after `patience` epochs without an
/// improvement of more than `minDelta` in `monitor` (a loss or metric name,
/// `val_` for the validation figure); larger is better for accuracy-like
/// figures, smaller for losses and errors.
public struct EarlyStopping: Sendable, Hashable {
    /// The figure watched, e.g. `val_loss`.
    public var monitor: String
    /// Epochs without improvement before stopping.
    public var patience: Int
    /// The smallest change that counts as an improvement.
    public var minDelta: Double
    /// Whether to end with the weights of the best epoch instead of the last.
    public var restoreBest: Bool

    /// Whether larger values of the monitored figure are better.
    public var maximizes: Bool {
        let name = monitor.hasPrefix("val_") ? String(monitor.dropFirst(4)) : monitor
        return ["accuracy", "precision", "recall", "f1"].contains(name)
    }
}

/// A data set described in a train block (or given on the command line).
public struct DataSource: Sendable, Hashable {
    /// The file format or inline data.
    public enum Kind: Sendable, Hashable {
        /// MNIST-style IDX files (raw or gzip).
        case idx(images: String, labels: String)
        /// A CSV table with a label column (index, negative from the end, or name).
        case csv(path: String, label: String, header: Bool?)
        /// NumPy arrays.
        case npy(x: String, y: String)
        /// Rows written in the file: `inline(x: [[1, 2]], y: [[1]])`.
        case inline(x: [[Double]], y: [[Double]])
    }

    public var kind: Kind
    /// Features are multiplied by this (`/ 255` gives 1/255).
    public var scale: Double
    /// Where the source was written (file paths in it are relative to that file).
    public var range: SourceRange?

    /// A source of `kind`, with features multiplied by `scale`.
    public init(kind: Kind, scale: Double = 1, range: SourceRange? = nil) {
        self.kind = kind
        self.scale = scale
        self.range = range
    }
}

/// Validation data: a fraction split off the training data, or another source.
public enum Validation: Sendable, Hashable {
    case split(Double)
    case source(DataSource)
}

/// Loss functions.
public enum Loss: Sendable, Hashable {
    case meanSquaredError
    case meanAbsoluteError
    case binaryCrossEntropy(fromLogits: Bool)
    case categoricalCrossEntropy(fromLogits: Bool, labelSmoothing: Double)
    case sparseCategoricalCrossEntropy(fromLogits: Bool)
}

/// Optimisers with their hyper-parameters (Keras defaults).
public enum Optimizer: Sendable, Hashable {
    case sgd(learningRate: Double, momentum: Double, nesterov: Bool)
    case rmsprop(learningRate: Double, rho: Double, momentum: Double, epsilon: Double)
    case adam(learningRate: Double, beta1: Double, beta2: Double, epsilon: Double)
    /// Adam with decoupled weight decay: each step first scales weights by 1 - lr·weightDecay.
    case adamw(learningRate: Double, beta1: Double, beta2: Double, epsilon: Double, weightDecay: Double)

    /// The (initial) learning rate.
    public var learningRate: Double {
        switch self {
        case .sgd(let lr, _, _), .rmsprop(let lr, _, _, _), .adam(let lr, _, _, _), .adamw(let lr, _, _, _, _): lr
        }
    }
}

/// Keras's learning-rate schedules, as functions of the optimiser's step
/// count before the step (0 for the first step).
public enum LearningRateSchedule: Sendable, Hashable {
    /// `initial · rate^(step / decaySteps)`, the exponent floored when `staircase`.
    case exponentialDecay(initial: Double, decaySteps: Int, decayRate: Double, staircase: Bool)
    /// `initial · ((1 - alpha) · (1 + cos(π · min(step, decaySteps) / decaySteps)) / 2 + alpha)`.
    case cosineDecay(initial: Double, decaySteps: Int, alpha: Double)

    /// The learning rate for a step (0-based count of steps taken so far).
    public func learningRate(atStep step: Int) -> Double {
        switch self {
        case .exponentialDecay(let initial, let decaySteps, let rate, let staircase):
            var exponent = Double(step) / Double(decaySteps)
            if staircase { exponent.round(.down) }
            return initial * Foundation.pow(rate, exponent)
        case .cosineDecay(let initial, let decaySteps, let alpha):
            let progress = Double(min(step, decaySteps)) / Double(decaySteps)
            let cosine = 0.5 * (1 + Foundation.cos(Double.pi * progress))
            return initial * ((1 - alpha) * cosine + alpha)
        }
    }
}
