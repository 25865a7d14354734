import DLMGraph
import DLMRuntime
import DLMSyntax

/// Fits features read from a file to the model input: shape, dtype and scale.
enum FeatureFitting {
    /// The features as `[examples] + per-example shape` in the input's dtype,
    /// floating values multiplied by `scale`.
    static func fit(_ raw: RawData, to input: TensorType, inputName: String?, scale: Double, range: SourceRange?) throws -> Tensor {
        let tensor = raw.features
        let described = inputName.map { "model input '\($0)' is \(input)" } ?? "the model input is \(input)"
        guard input.shape.rank >= 1 else {
            throw TrainingError("\(described), which has no example axis to feed \(raw.featureOrigin) along", at: range)
        }
        guard let examples = tensor.shape.first else {
            throw TrainingError("\(raw.featureOrigin) holds a single value, not a list of examples", at: range)
        }
        guard examples > 0 else { throw TrainingError("\(raw.featureOrigin) holds no examples", at: range) }
        let found = Array(tensor.shape.dropFirst())
        let pattern = input.shape.dims.dropFirst().map(\.constantValue)
        guard let example = ShapeFit.fit(found, to: pattern) else {
            let what: String = switch raw.layout {
            case .table: "has \(found.reduce(1, *)) feature column\(found.reduce(1, *) == 1 ? "" : "s")"
            case .inline: "has rows of \(found.reduce(1, *)) number\(found.reduce(1, *) == 1 ? "" : "s")"
            case .arrays: "holds \(ShapeFit.describeExample(found))"
            }
            throw TrainingError("\(raw.featureOrigin) \(what) but \(described)", at: range)
        }
        let perExample = max(1, tensor.count / examples)
        func row(_ index: Int) -> Int { index / perExample + 1 }
        if tensor.dtype.isFloatingPoint, let bad = ElementValues.first(in: tensor, where: { !$0.isFinite }) {
            throw TrainingError("row \(row(bad.index)) of \(raw.featureOrigin) holds \(ShapeFit.number(bad.value)); training data must be finite", at: range)
        }
        let shape = [examples] + example
        if input.dtype.isFloatingPoint {
            return try ElementValues.floating(tensor, as: input.dtype, scale: scale, shape: shape)
        }
        guard scale == 1 else {
            throw TrainingError("the data is scaled (\(ShapeFit.scaling(scale))) but \(described): only floating inputs can be scaled", at: range)
        }
        if tensor.dtype.isFloatingPoint, let bad = ElementValues.first(in: tensor, where: { $0 != $0.rounded() }) {
            throw TrainingError("row \(row(bad.index)) of \(raw.featureOrigin) holds \(ShapeFit.number(bad.value)) but \(described), which takes whole numbers", at: range)
        }
        return try tensor.converted(to: input.dtype).reshaped(shape)
    }
}
