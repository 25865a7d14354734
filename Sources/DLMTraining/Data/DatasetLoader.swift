import DLMGraph
import DLMRuntime

/// Reads the data a `train` block names and fits it to the model.
public enum DatasetLoader {
    /// Loads `source` as a `Dataset` for a model input of type `features`
    /// (with a symbolic batch dimension first, such as `f32[B, 28, 28, 1]`)
    /// and a loss that needs targets encoded as `targets`.
    ///
    /// - Relative file paths are resolved against `directory` (the `.dlm`
    ///   file's folder); absolute paths stay as they are.
    /// - `idx` reads the images and labels files (raw or gzip); `npy` reads
    ///   the features from `x` and the targets from `y`; `csv` splits the
    ///   label column (an index such as `-1` or `4`, or a header name) from
    ///   the feature columns; `inline` takes the rows written in the file.
    /// - Features are converted to the input's dtype, floating features are
    ///   multiplied by `source.scale`, and examples whose element count
    ///   matches the input's fixed trailing sizes are reshaped (MNIST's u8
    ///   28×28 images become `[N, 28, 28, 1]` or `[N, 784]`). Symbolic
    ///   trailing sizes (such as `T`) take the data's.
    ///
    /// Every problem a user can cause is a `TrainingError` located at the
    /// `data` setting, naming the file: a missing, unreadable or corrupt file,
    /// examples that do not fit the input, differing example counts, labels
    /// that are not class ids in range, NaN or infinity, and empty data.
    /// Rows in messages are numbered from 1 (the first example is row 1).
    ///
    /// `inputName` names the model input in messages ("model input 'x' is f32[N, 4]").
    public static func load(_ source: DataSource, relativeTo directory: String, features: TensorType, targets: TargetEncoding,
                            inputName: String? = nil) throws -> Dataset {
        let raw = try DataFiles.read(source, relativeTo: directory)
        let fittedFeatures = try FeatureFitting.fit(raw, to: features, inputName: inputName, scale: source.scale, range: source.range)
        let examples = fittedFeatures.shape[0]
        let fittedTargets = try TargetFitting.fit(raw, examples: examples, encoding: targets, range: source.range)
        return try Dataset(features: fittedFeatures, targets: fittedTargets)
    }
}
