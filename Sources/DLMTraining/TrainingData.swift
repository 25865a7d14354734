import DLMGraph
import DLMRuntime

/// The data a `train` block names, fitted to its model: features for the
/// model's (single) input, targets as its loss needs them.
public enum TrainingData {
    /// Loads one source for `model` (paths relative to `directory`).
    public static func load(_ source: DataSource, for model: LoweredModel, config: TrainingConfig, relativeTo directory: String) throws -> Dataset {
        guard let input = model.graph.inputs.first, let prediction = model.graph.outputs.first else {
            throw TrainingError("model '\(model.name)' needs an input and an output to train or evaluate")
        }
        let encoding = try Trainer.targetEncoding(for: config.loss, output: model.graph.type(of: prediction), at: config.data.range)
        return try DatasetLoader.load(source, relativeTo: directory, features: model.graph.type(of: input), targets: encoding,
                                      inputName: model.graph.name(of: input))
    }

    /// The block's training data and its validation data: the last fraction of the data for
    /// `validate = split(f)` (Keras's rule), another source, or none.
    public static func load(for model: LoweredModel, config: TrainingConfig, relativeTo directory: String) throws
        -> (training: Dataset, validation: Dataset?)
    {
        let data = try load(config.data, for: model, config: config, relativeTo: directory)
        switch config.validation {
        case .split(let fraction)?:
            let parts = try data.splitLast(fraction: fraction, at: config.data.range)
            return (parts.training, parts.validation)
        case .source(let source)?:
            return (data, try load(source, for: model, config: config, relativeTo: directory))
        case nil:
            return (data, nil)
        }
    }
}
