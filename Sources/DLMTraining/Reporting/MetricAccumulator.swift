import DLMGraph
import DLMRuntime

/// Epoch figures for the metrics a `train` block allows (accuracy,
/// precision, recall, f1, mse, mae) and the loss, accumulated batch by batch
/// as counts and sums, so each result is a ratio over the whole epoch (not an
/// average of per-batch ratios).
///
/// What each metric means follows from the loss:
/// - **accuracy**: for sparse categorical cross-entropy, argmax of the
///   predictions equals the integer target (Keras's
///   `SparseCategoricalAccuracy`); for categorical cross-entropy, argmax of
///   the predictions equals argmax of the one-hot target
///   (`CategoricalAccuracy`); for binary cross-entropy, the prediction is
///   above 0.5 (above 0 when the loss is `from_logits`) exactly when the
///   target is at least 0.5 (`BinaryAccuracy`). For mse and mae it is
///   rounding equality, `round(prediction) == round(target)` element by
///   element: exact for integer-valued targets (counts, ratings) and, for
///   0/1 targets, the same as binary accuracy except at exactly 0.5 and
///   beyond 1.5. Keras would pick binary accuracy there, which thresholds
///   even targets that are not 0/1.
/// - **precision, recall, f1**: for binary cross-entropy (and for mse and
///   mae, at threshold 0.5), of the positive class, counted over every
///   output element (micro, as Keras's `Precision` and `Recall`); f1 is
///   `2·TP / (2·TP + FP + FN)`. For the categorical losses, macro averages:
///   each class's figure from the argmax decisions, then the unweighted mean
///   over the classes that occurred among the targets or predictions of the
///   epoch (scikit-learn's `average="macro"`, with 0 for a 0/0 figure).
/// - **mse, mae**: the mean squared or absolute difference over every
///   output element; integer class targets are compared as one-hot rows.
///   With a `from_logits` loss the predictions are the logits, as in Keras.
/// - **loss**: the mean of the batch losses weighted by batch size, as
///   Keras's loss tracker does; reported once `add(loss:count:)` is called.
///
/// Results come in Keras's order: sorted by name.
public struct MetricAccumulator: Sendable {
    /// The metrics a `train` block can ask for.
    public enum Metric: String, CaseIterable, Sendable {
        case accuracy, precision, recall, f1, mse, mae
    }

    /// How predictions are turned into decisions.
    enum Task: Sendable, Hashable {
        /// Integer class ids; argmax of the predictions' last axis.
        case sparse
        /// One-hot (or soft) target rows; argmax of both.
        case categorical
        /// Each element a yes/no decision above the threshold.
        case binary(threshold: Float)
        /// Real values: rounding equality; 0.5 threshold for precision and recall.
        case regression
    }

    /// The metrics accumulated, without repeats, in the order given.
    public let metrics: [Metric]
    let task: Task

    private var correct = 0
    private var decisions = 0
    private var positive = ClassCounts()
    private var classes: [ClassCounts] = []
    private var squaredError = 0.0
    private var absoluteError = 0.0
    private var errorElements = 0
    private var lossSum = 0.0
    private var lossExamples = 0

    /// An accumulator for `metrics` (names as in the `train` block) under `loss`.
    public init(metrics names: [String], loss: Loss) throws {
        var metrics: [Metric] = []
        for name in names {
            guard let metric = Metric(rawValue: name) else {
                throw TrainingError("unknown metric '\(name)' (known: \(Metric.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            if !metrics.contains(metric) { metrics.append(metric) }
        }
        self.metrics = metrics
        task = switch loss {
        case .sparseCategoricalCrossEntropy: .sparse
        case .categoricalCrossEntropy: .categorical
        case .binaryCrossEntropy(let fromLogits): .binary(threshold: fromLogits ? 0 : 0.5)
        case .meanSquaredError, .meanAbsoluteError: .regression
        }
    }

    /// Adds one batch's loss (the batch mean) for `count` examples.
    public mutating func add(loss: Double, count: Int) {
        lossSum += loss * Double(count)
        lossExamples += count
    }

    /// Adds one batch: `predictions` f32 `[b, …, C]` and `targets` as
    /// `TargetEncoding` stores them (i32 class ids `[b, …]` for sparse
    /// cross-entropy, f32 of the predictions' shape otherwise).
    public mutating func add(predictions: Tensor, targets: Tensor) throws {
        guard !metrics.isEmpty else { return }
        let width = predictions.shape.last ?? 1
        let expected = task == .sparse ? predictions.count / max(1, width) : predictions.count
        guard predictions.shape.first == targets.shape.first, targets.count == expected, width > 0 else {
            throw TrainingError("metrics: predictions \(predictions.dtype.rawValue)\(predictions.shape) do not match targets \(targets.dtype.rawValue)\(targets.shape)")
        }
        let p = predictions.dtype == .f32 ? predictions : try predictions.converted(to: .f32)
        switch task {
        case .sparse:
            let t = targets.dtype == .i32 ? targets : try targets.converted(to: .i32)
            try p.withUnsafeBytes { pRaw in
                try t.withUnsafeBytes { tRaw in
                    let ids = tRaw.bindMemory(to: Int32.self)
                    try addClasses(pRaw.bindMemory(to: Float.self), width: width, targetRows: nil) { row, _ in
                        let id = Int(ids[row])
                        guard id >= 0, id < width else { throw TrainingError("metrics: class id \(id) is outside 0..<\(width)") }
                        return id
                    }
                }
            }
        case .categorical:
            let t = targets.dtype == .f32 ? targets : try targets.converted(to: .f32)
            try p.withUnsafeBytes { pRaw in
                try t.withUnsafeBytes { tRaw in
                    let rows = tRaw.bindMemory(to: Float.self)
                    try addClasses(pRaw.bindMemory(to: Float.self), width: width, targetRows: rows) { _, start in
                        Self.argmax(rows, start: start, width: width)
                    }
                }
            }
        case .binary, .regression:
            let t = targets.dtype == .f32 ? targets : try targets.converted(to: .f32)
            p.withUnsafeBytes { pRaw in
                t.withUnsafeBytes { tRaw in addElements(pRaw.bindMemory(to: Float.self), tRaw.bindMemory(to: Float.self)) }
            }
        }
    }

    /// The epoch figures so far, sorted by name, with `loss` among them once a loss was added.
    public func results() -> [(name: String, value: Double)] {
        var figures = metrics.map { (name: $0.rawValue, value: value(of: $0)) }
        if lossExamples > 0 { figures.append((name: "loss", value: lossSum / Double(lossExamples))) }
        return figures.sorted { $0.name < $1.name }
    }

    /// Starts a new epoch.
    public mutating func reset() {
        self = Self(metrics: metrics, task: task)
    }

    private init(metrics: [Metric], task: Task) {
        self.metrics = metrics
        self.task = task
    }

    private var isMultiClass: Bool { task == .sparse || task == .categorical }

    private func value(of metric: Metric) -> Double {
        func mean(_ figure: (ClassCounts) -> Double) -> Double {
            let seen = classes.filter(\.occurred)
            return seen.isEmpty ? 0 : seen.map(figure).reduce(0, +) / Double(seen.count)
        }
        switch metric {
        case .accuracy: return decisions == 0 ? 0 : Double(correct) / Double(decisions)
        case .precision: return isMultiClass ? mean(\.precision) : positive.precision
        case .recall: return isMultiClass ? mean(\.recall) : positive.recall
        case .f1: return isMultiClass ? mean(\.f1) : positive.f1
        case .mse: return errorElements == 0 ? 0 : squaredError / Double(errorElements)
        case .mae: return errorElements == 0 ? 0 : absoluteError / Double(errorElements)
        }
    }

    /// Counts argmax decisions over rows of `width` predictions; `target`
    /// gives the class of a row (from its index and first element offset).
    /// Errors are measured against `targetRows`, or the one-hot rows of the classes.
    private mutating func addClasses(_ predictions: UnsafeBufferPointer<Float>, width: Int, targetRows: UnsafeBufferPointer<Float>?,
                                     target: (_ row: Int, _ start: Int) throws -> Int) throws {
        if classes.isEmpty { classes = Array(repeating: ClassCounts(), count: width) }
        guard classes.count == width else {
            throw TrainingError("metrics: predictions have \(width) classes but earlier batches had \(classes.count)")
        }
        let rows = predictions.count / width
        for row in 0..<rows {
            let start = row * width
            let predicted = Self.argmax(predictions, start: start, width: width)
            let actual = try target(row, start)
            if predicted == actual {
                correct += 1
                classes[actual].truePositives += 1
            } else {
                classes[predicted].falsePositives += 1
                classes[actual].falseNegatives += 1
            }
            for c in 0..<width {
                let expected = targetRows.map { Double($0[start + c]) } ?? (c == actual ? 1 : 0)
                let difference = Double(predictions[start + c]) - expected
                squaredError += difference * difference
                absoluteError += abs(difference)
            }
        }
        decisions += rows
        errorElements += rows * width
    }

    /// Counts element-wise decisions (binary outputs and regression).
    private mutating func addElements(_ predictions: UnsafeBufferPointer<Float>, _ targets: UnsafeBufferPointer<Float>) {
        let threshold: Float = if case .binary(let t) = task { t } else { 0.5 }
        for i in 0..<predictions.count {
            let p = predictions[i], t = targets[i]
            let predicted = p > threshold, actual = t >= 0.5
            positive.add(predicted: predicted, actual: actual)
            if task == .regression {
                if p.rounded() == t.rounded() { correct += 1 }
            } else if predicted == actual {
                correct += 1
            }
            let difference = Double(p) - Double(t)
            squaredError += difference * difference
            absoluteError += abs(difference)
        }
        decisions += predictions.count
        errorElements += predictions.count
    }

    /// The first index of the largest of `width` values from `start` (NumPy's argmax, NaNs aside).
    private static func argmax(_ values: UnsafeBufferPointer<Float>, start: Int, width: Int) -> Int {
        var best = 0
        var largest = values[start]
        for c in 1..<max(1, width) where values[start + c] > largest {
            largest = values[start + c]
            best = c
        }
        return best
    }
}
