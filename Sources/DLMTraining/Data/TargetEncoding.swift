/// What the loss needs of the labels, and so how `DatasetLoader` stores them.
///
/// A negative size in a per-example shape stands for a symbolic dimension
/// (such as `T` in `f32[B, T, 10000]`): it takes whatever size the data has.
public enum TargetEncoding: Sendable, Hashable {
    /// Integer class ids in `0..<classes`, stored as i32 with the given
    /// per-example shape (`[]` for one id per example, `[T]` for one per time
    /// step): what sparse categorical cross-entropy takes.
    case classIndices(classes: Int, shape: [Int])
    /// f32 one-hot rows of `classes` values: what categorical cross-entropy
    /// takes. Integer labels (one per example) are one-hot encoded; float
    /// rows of width `classes` pass through unchanged (soft labels too).
    case oneHot(classes: Int)
    /// f32 values with the given per-example shape (`[1]` for one value per
    /// example): what mse, mae and binary cross-entropy take. A label vector
    /// `[N]` becomes `[N, 1]` when the shape is `[1]`.
    case values(shape: [Int])

    /// The per-example shape stored, with symbolic sizes negative.
    var exampleShape: [Int] {
        switch self {
        case .classIndices(_, let shape): shape
        case .oneHot(let classes): [classes]
        case .values(let shape): shape
        }
    }

    /// What the loss wants per example, in the user's terms.
    var requirement: String {
        switch self {
        case .classIndices(let classes, let shape) where shape.isEmpty:
            "one class id (0..<\(classes)) per example"
        case .classIndices(let classes, let shape):
            "class ids (0..<\(classes)) of shape \(ShapeText.describe(shape)) per example"
        case .oneHot(let classes):
            "one class id (0..<\(classes)) or a one-hot row of \(classes) values per example"
        case .values(let shape):
            ShapeText.elementCount(shape).map { "\($0) value\($0 == 1 ? "" : "s") per example" }
                ?? "values of shape \(ShapeText.describe(shape)) per example"
        }
    }
}

/// Shapes written for messages: `[28, 28]`, with symbolic sizes as `_`.
enum ShapeText {
    static func describe(_ shape: [Int]) -> String {
        "[" + shape.map { $0 < 0 ? "_" : String($0) }.joined(separator: ", ") + "]"
    }

    /// The product of the sizes, or nil when one is symbolic.
    static func elementCount(_ shape: [Int]) -> Int? {
        shape.contains { $0 < 0 } ? nil : shape.reduce(1, *)
    }
}
