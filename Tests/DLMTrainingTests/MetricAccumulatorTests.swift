import DLMGraph
import DLMRuntime
import DLMTraining
import Testing

@Suite struct MetricAccumulatorTests {
    static func f32(_ shape: [Int], _ values: [Double]) throws -> Tensor { try Tensor(dtype: .f32, shape: shape, values: values) }
    static func i32(_ shape: [Int], _ values: [Double]) throws -> Tensor { try Tensor(dtype: .i32, shape: shape, values: values) }

    static func figures(_ accumulator: MetricAccumulator) -> [String: Double] {
        Dictionary(uniqueKeysWithValues: accumulator.results().map { ($0.name, $0.value) })
    }

    /// Four examples over three classes, in a batch of 1 and a batch of 3:
    /// targets [1, 0, 0, 1], argmax of the predictions [1, 0, 2, 0].
    static let predictionsA: [Double] = [0.1, 0.7, 0.2]
    static let predictionsB: [Double] = [0.8, 0.1, 0.1, 0.3, 0.3, 0.4, 0.5, 0.2, 0.3]

    @Test func sparseCategoricalFiguresAreEpochRatiosAndMacroAverages() throws {
        var metrics = try MetricAccumulator(metrics: ["accuracy", "precision", "recall", "f1", "mse", "mae"],
                                            loss: .sparseCategoricalCrossEntropy(fromLogits: false))
        try metrics.add(predictions: Self.f32([1, 3], Self.predictionsA), targets: Self.i32([1], [1]))
        try metrics.add(predictions: Self.f32([3, 3], Self.predictionsB), targets: Self.i32([3], [0, 0, 1]))
        let figures = Self.figures(metrics)
        // 2 of 4 right (the mean of the batch ratios, (1 + 1/3) / 2, would be 0.667).
        #expect(figures["accuracy"] == 0.5)
        // Class 0: TP 1, FP 1, FN 1 → P 1/2, R 1/2, F1 1/2. Class 1: TP 1, FN 1 → P 1, R 1/2, F1 2/3.
        // Class 2: FP 1 → P 0, R 0 (0/0), F1 0. Macro means over the three classes.
        #expect(abs((try #require(figures["precision"])) - 0.5) < 1e-12)
        #expect(abs((try #require(figures["recall"])) - 1.0 / 3) < 1e-12)
        #expect(abs((try #require(figures["f1"])) - 7.0 / 18) < 1e-12)
        // Against one-hot rows: squared errors 0.14 + 0.06 + 0.74 + 0.98 = 1.92 over 12 elements;
        // absolute errors 0.6 + 0.4 + 1.4 + 1.6 = 4 over 12.
        #expect(abs((try #require(figures["mse"])) - 0.16) < 1e-6)
        #expect(abs((try #require(figures["mae"])) - 1.0 / 3) < 1e-6)
        #expect(figures["loss"] == nil)
    }

    @Test func macroAveragesSkipClassesThatNeverOccurred() throws {
        // The same examples with a fourth class that is never predicted nor a target.
        var metrics = try MetricAccumulator(metrics: ["precision", "recall", "f1"], loss: .sparseCategoricalCrossEntropy(fromLogits: true))
        let rows = (Self.predictionsA + Self.predictionsB).chunked(3).flatMap { row -> [Double] in row + [-1] }
        try metrics.add(predictions: Self.f32([4, 4], rows), targets: Self.i32([4], [1, 0, 0, 1]))
        let figures = Self.figures(metrics)
        #expect(abs((try #require(figures["precision"])) - 0.5) < 1e-12)
        #expect(abs((try #require(figures["recall"])) - 1.0 / 3) < 1e-12)
        #expect(abs((try #require(figures["f1"])) - 7.0 / 18) < 1e-12)
    }

    @Test func categoricalAccuracyUsesTheArgmaxOfOneHotTargets() throws {
        var metrics = try MetricAccumulator(metrics: ["accuracy", "precision", "mse"], loss: .categoricalCrossEntropy(fromLogits: false, labelSmoothing: 0))
        try metrics.add(predictions: Self.f32([1, 3], Self.predictionsA), targets: Self.f32([1, 3], [0, 1, 0]))
        try metrics.add(predictions: Self.f32([3, 3], Self.predictionsB), targets: Self.f32([3, 3], [1, 0, 0, 1, 0, 0, 0, 1, 0]))
        let figures = Self.figures(metrics)
        #expect(figures["accuracy"] == 0.5)
        #expect(abs((try #require(figures["precision"])) - 0.5) < 1e-12)
        #expect(abs((try #require(figures["mse"])) - 0.16) < 1e-6)

        // Soft targets: the error is against the target row itself; argmax 0 both.
        var soft = try MetricAccumulator(metrics: ["accuracy", "mse"], loss: .categoricalCrossEntropy(fromLogits: false, labelSmoothing: 0.1))
        try soft.add(predictions: Self.f32([1, 2], [0.6, 0.4]), targets: Self.f32([1, 2], [0.7, 0.3]))
        #expect(Self.figures(soft)["accuracy"] == 1)
        #expect(abs((try #require(Self.figures(soft)["mse"])) - 0.01) < 1e-6)   // (0.1² + 0.1²) / 2
    }

    @Test func binaryFiguresAtThresholdHalfOrZeroForLogits() throws {
        // Predicted [1, 0, 1, 0, 1] against [1, 1, 0, 0, 1]: TP 2, FP 1, FN 1, TN 1.
        var probabilities = try MetricAccumulator(metrics: ["accuracy", "precision", "recall", "f1"], loss: .binaryCrossEntropy(fromLogits: false))
        try probabilities.add(predictions: Self.f32([5, 1], [0.9, 0.4, 0.6, 0.2, 0.7]), targets: Self.f32([5, 1], [1, 1, 0, 0, 1]))
        let p = Self.figures(probabilities)
        #expect(abs((try #require(p["accuracy"])) - 0.6) < 1e-12)
        #expect(abs((try #require(p["precision"])) - 2.0 / 3) < 1e-12)
        #expect(abs((try #require(p["recall"])) - 2.0 / 3) < 1e-12)
        #expect(abs((try #require(p["f1"])) - 2.0 / 3) < 1e-12)   // 2·2 / (2·2 + 1 + 1)

        // Logits [0.4, 0.2, -0.3, -2, 1.5]: above 0 → [1, 1, 0, 0, 1], all right (at 0.5 it would be [0, 0, 0, 0, 1]: 3/5).
        var logits = try MetricAccumulator(metrics: ["accuracy", "precision", "recall"], loss: .binaryCrossEntropy(fromLogits: true))
        try logits.add(predictions: Self.f32([5, 1], [0.4, 0.2, -0.3, -2, 1.5]), targets: Self.f32([5, 1], [1, 1, 0, 0, 1]))
        #expect(Self.figures(logits)["accuracy"] == 1)
        #expect(Self.figures(logits)["precision"] == 1 && Self.figures(logits)["recall"] == 1)

        // Nothing predicted positive: precision 0 (0/0), recall 0, f1 0.
        var none = try MetricAccumulator(metrics: ["precision", "recall", "f1"], loss: .binaryCrossEntropy(fromLogits: false))
        try none.add(predictions: Self.f32([2, 1], [0.1, 0.2]), targets: Self.f32([2, 1], [1, 0]))
        #expect(Self.figures(none).values.allSatisfy { $0 == 0 })
    }

    @Test func regressionAccuracyIsRoundingEquality() throws {
        var metrics = try MetricAccumulator(metrics: ["accuracy", "mse", "mae"], loss: .meanSquaredError)
        // round: 1 = 1, 3 = 3, 0 ≠ 1, 4 = 4 (3.5 rounds away from zero).
        try metrics.add(predictions: Self.f32([4, 1], [1.4, 2.6, 0.2, 3.5]), targets: Self.f32([4, 1], [1, 3, 1, 4]))
        let figures = Self.figures(metrics)
        #expect(figures["accuracy"] == 0.75)
        #expect(abs((try #require(figures["mse"])) - 0.3025) < 1e-6)   // (0.16 + 0.16 + 0.64 + 0.25) / 4
        #expect(abs((try #require(figures["mae"])) - 0.525) < 1e-6)    // (0.4 + 0.4 + 0.8 + 0.5) / 4
    }

    @Test func sequenceOutputsCountEveryTimeStep() throws {
        var metrics = try MetricAccumulator(metrics: ["accuracy"], loss: .sparseCategoricalCrossEntropy(fromLogits: false))
        // [b=1, T=3, C=2]: argmax [0, 1, 1] against [0, 0, 1].
        try metrics.add(predictions: Self.f32([1, 3, 2], [0.9, 0.1, 0.2, 0.8, 0.4, 0.6]), targets: Self.i32([1, 3], [0, 0, 1]))
        #expect(abs((try #require(Self.figures(metrics)["accuracy"])) - 2.0 / 3) < 1e-12)
    }

    @Test func lossIsWeightedByBatchSizeAndResultsAreSortedByName() throws {
        var metrics = try MetricAccumulator(metrics: ["recall", "accuracy", "mse", "f1", "precision", "mae", "accuracy"], loss: .binaryCrossEntropy(fromLogits: false))
        #expect(metrics.metrics.map(\.rawValue) == ["recall", "accuracy", "mse", "f1", "precision", "mae"])
        metrics.add(loss: 1.0, count: 1)
        metrics.add(loss: 0.5, count: 3)
        #expect(metrics.results().map(\.name) == ["accuracy", "f1", "loss", "mae", "mse", "precision", "recall"])
        #expect(Self.figures(metrics)["loss"] == 0.625)   // (1·1 + 0.5·3) / 4, not (1 + 0.5) / 2
        metrics.reset()
        #expect(Self.figures(metrics)["loss"] == nil)
        #expect(Self.figures(metrics)["accuracy"] == 0)
    }

    @Test func rejectsUnknownMetricsAndMismatchedBatches() throws {
        #expect(throws: TrainingError.self) { try MetricAccumulator(metrics: ["auc"], loss: .meanSquaredError) }
        var metrics = try MetricAccumulator(metrics: ["accuracy"], loss: .sparseCategoricalCrossEntropy(fromLogits: false))
        #expect(throws: TrainingError.self) { try metrics.add(predictions: Self.f32([2, 3], [Double](repeating: 0, count: 6)), targets: Self.i32([3], [0, 1, 2])) }
        #expect(throws: TrainingError.self) { try metrics.add(predictions: Self.f32([1, 3], [0, 0, 1]), targets: Self.i32([1], [3])) }
    }
}

private extension Array {
    func chunked(_ size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}
