/// Matching the per-example shape found in a file to the one the model declares.
enum ShapeFit {
    /// The per-example shape to use for data shaped `data`, given a pattern
    /// whose nil sizes are symbolic: the data's own shape when it has the
    /// pattern's rank and fixed sizes, else the pattern itself when every size
    /// is fixed and the element counts agree (MNIST's 28×28 as `[784]` or
    /// `[28, 28, 1]`); nil when neither fits.
    static func fit(_ data: [Int], to pattern: [Int?]) -> [Int]? {
        if data.count == pattern.count, zip(data, pattern).allSatisfy({ $1 == nil || $0 == $1 }) { return data }
        let fixed = pattern.compactMap { $0 }
        if fixed.count == pattern.count, fixed.reduce(1, *) == data.reduce(1, *) { return fixed }
        return nil
    }

    /// How many values one example of `shape` holds, in words.
    static func describeExample(_ shape: [Int]) -> String {
        let count = shape.reduce(1, *)
        switch shape.count {
        case 0: return "one value per example"
        case 1: return count == 1 ? "one value per example" : "\(count) values per example"
        default: return "examples of shape \(ShapeText.describe(shape)) (\(count) values each)"
        }
    }

    /// A number for messages: whole numbers without a fraction (`10`, not `10.0`).
    static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "infinity" : "-infinity" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        return String(value)
    }

    /// A scale factor as the `train` block wrote it: `/ 255` or `* 0.5`.
    static func scaling(_ scale: Double) -> String {
        let inverse = 1 / scale
        if inverse > 1, abs(inverse - inverse.rounded()) <= 1e-9 * inverse { return "/ \(number(inverse.rounded()))" }
        return "* \(number(scale))"
    }
}
