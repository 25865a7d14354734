/// True and false positives and false negatives of one class (or of the
/// positive class of a binary output), accumulated over an epoch.
struct ClassCounts: Sendable, Hashable {
    var truePositives = 0
    var falsePositives = 0
    var falseNegatives = 0

    /// Whether the class occurred among the targets or the predictions.
    var occurred: Bool { truePositives + falsePositives + falseNegatives > 0 }

    /// TP / (TP + FP), or 0 when nothing was predicted positive.
    var precision: Double { ratio(truePositives, truePositives + falsePositives) }

    /// TP / (TP + FN), or 0 when no target was positive.
    var recall: Double { ratio(truePositives, truePositives + falseNegatives) }

    /// The harmonic mean of precision and recall, 2·TP / (2·TP + FP + FN), or 0 when undefined.
    var f1: Double { ratio(2 * truePositives, 2 * truePositives + falsePositives + falseNegatives) }

    /// Counts one decision.
    mutating func add(predicted: Bool, actual: Bool) {
        switch (predicted, actual) {
        case (true, true): truePositives += 1
        case (true, false): falsePositives += 1
        case (false, true): falseNegatives += 1
        case (false, false): break
        }
    }

    private func ratio(_ numerator: Int, _ denominator: Int) -> Double {
        denominator == 0 ? 0 : Double(numerator) / Double(denominator)
    }
}
