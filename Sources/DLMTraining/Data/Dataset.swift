import DLMRuntime
import DLMSyntax

/// Examples ready for training: features and targets with one row per
/// example along their first axis, already in the model's dtypes and shapes.
public struct Dataset: Sendable {
    /// The model input, `[count, …]`.
    public let features: Tensor
    /// What the loss compares the output with, `[count, …]` (see `TargetEncoding`).
    public let targets: Tensor

    /// The number of examples.
    public var count: Int { features.shape.first ?? 0 }

    /// Pairs features and targets; both need a first (example) axis of the same length.
    public init(features: Tensor, targets: Tensor) throws {
        guard let rows = features.shape.first, let targetRows = targets.shape.first else {
            throw TrainingError("features \(features.dtype.rawValue)\(features.shape) and targets \(targets.dtype.rawValue)\(targets.shape) need an example axis")
        }
        guard rows == targetRows else {
            throw TrainingError("features have \(rows) examples but targets have \(targetRows)")
        }
        self.features = features
        self.targets = targets
    }

    /// The examples at `indices`, in that order, copied row by row (any dtype).
    /// Throws when an index is outside `0..<count`.
    public func rows(_ indices: [Int]) throws -> Dataset {
        try Dataset(features: features.gatheringRows(indices), targets: targets.gatheringRows(indices))
    }

    /// The examples in a contiguous range, in one copy.
    func rows(in range: Range<Int>) throws -> Dataset {
        try Dataset(features: features.slicingRows(range), targets: targets.slicingRows(range))
    }

    /// The number of examples `splitLast(fraction:)` keeps for validation:
    /// Keras's rule, `count - floor(count × (1 - fraction))`.
    ///
    /// This is not always `Int(count × fraction)`: 5 examples split 0.5 give
    /// 3 for validation and 2 for training, as in Keras.
    public static func validationCount(of count: Int, fraction: Double) -> Int {
        count - Int((Double(count) * (1 - fraction)).rounded(.down))
    }

    /// Splits off the last `fraction` of the examples for validation, in file
    /// order and before any shuffling, the way Keras's `validation_split` does
    /// (`keras.src.trainers.data_adapters.data_adapter_utils.train_validation_split`):
    /// training keeps the first `floor(count × (1 - fraction))` examples and
    /// validation gets the rest.
    ///
    /// Throws, as Keras does, when either part would be empty. `range` locates
    /// the `validate` setting in errors.
    public func splitLast(fraction: Double, at range: SourceRange? = nil) throws -> (training: Dataset, validation: Dataset) {
        guard fraction > 0, fraction < 1 else {
            throw TrainingError("a validation split must be a fraction between 0 and 1, not \(fraction)", at: range)
        }
        let validation = Self.validationCount(of: count, fraction: fraction)
        let split = count - validation
        guard split > 0, validation > 0 else {
            throw TrainingError("the data has \(count) example\(count == 1 ? "" : "s"), too few to split \(fraction) of them off for validation "
                                + "and keep the rest for training", at: range)
        }
        return (try rows(in: 0..<split), try rows(in: split..<count))
    }
}
