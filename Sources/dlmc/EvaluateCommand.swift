import ArgumentParser
import DLMCodegen
import DLMGraph
import DLMRuntime
import DLMTraining
import Foundation

extension DLMC {
    /// `dlmc evaluate`: loss and metrics of trained weights on data.
    struct Evaluate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a model's loss and metrics on data, with the train block's loss and metrics.",
            discussion: """
            The data is --input with --labels (two .npy files or two IDX files; a CSV file holds its labels in its last \
            column), or, without --input, the train block's validation data (its split, or its validate source), else its data. \
            Predictions themselves come from 'dlmc run'.
            """
        )

        @OptionGroup var options: ModelOptions

        @Option(name: .long, help: "Trained parameters (.safetensors).")
        var weights: String

        @Option(name: .long, help: ArgumentHelp("The model input: NAME=PATH or PATH (.npy, IDX or CSV).", valueName: "path"))
        var input: String?

        @Option(name: .long, help: "The labels for --input (.npy or IDX).")
        var labels: String?

        @Option(name: .long, help: "Multiply the features by this (e.g. 0.00392156862745098 for pixels / 255).")
        var scale: Double = 1

        @Option(name: .long, help: "Examples per batch (default: the train block's).")
        var batch: Int?

        @Option(name: .long, help: "Backend: jit, interp or auto.")
        var backend: Backend = .auto

        @Option(name: .long, help: "Threads for the kernels (default: the machine's cores).")
        var threads: Int?

        func validate() throws {
            if let batch, batch < 1 { throw ValidationError("--batch must be at least 1") }
            if input == nil, labels != nil { throw ValidationError("--labels needs --input") }
            if let input, labels == nil, !Self.isCSV(input) { throw ValidationError("--input needs --labels (only a CSV file carries its own)") }
        }

        static func isCSV(_ path: String) -> Bool { [".csv", ".csv.gz", ".txt"].contains { path.lowercased().hasSuffix($0) } }

        /// The data source named by --input and --labels.
        func source() throws -> DataSource? {
            guard let input else { return nil }
            let path = input.split(separator: "=", maxSplits: 1).last.map(String.init) ?? input
            if Self.isCSV(path) { return DataSource(kind: .csv(path: path, label: "-1", header: nil), scale: scale) }
            guard let labels else { return nil }
            if path.lowercased().hasSuffix(".npy") && labels.lowercased().hasSuffix(".npy") {
                return DataSource(kind: .npy(x: path, y: labels), scale: scale)
            }
            if !path.lowercased().hasSuffix(".npy") && !labels.lowercased().hasSuffix(".npy") {
                return DataSource(kind: .idx(images: path, labels: labels), scale: scale)
            }
            throw ValidationError("--input and --labels must both be .npy or both IDX files")
        }

        mutating func run() throws {
            let model = try options.load()
            guard var config = model.training else {
                throw fail(TrainingError("model '\(model.name)' has no train block, so it has no loss or metrics to evaluate"))
            }
            if let batch { config.batch = batch }
            let directory = URL(fileURLWithPath: options.file).deletingLastPathComponent().path
            do {
                let parameters = try SafeTensors.read(weights).tensors
                let pool = threads.map(ThreadPool.init) ?? .default
                let dataset = try Self.dataset(for: model, config: config, source: try source(), directory: directory)
                let evaluator = try ModelEvaluator(model: model, config: config, backend: backend, pool: pool)
                let figures = try evaluator.figures(of: parameters, on: dataset, batchSize: config.batch)
                print("\(dataset.count) examples - " + figures.map { "\($0.name): \(ProgressFormat.value($0.value))" }.joined(separator: " - "))
            } catch let error as TrainingError {
                throw report(error, file: options.file)
            } catch let error as ExitCode {
                throw error
            } catch {
                throw fail(error)
            }
        }

        /// The data to evaluate on: the given source, else the train block's validation data, else its data.
        static func dataset(for model: LoweredModel, config: TrainingConfig, source: DataSource?, directory: String) throws -> Dataset {
            if let source { return try TrainingData.load(source, for: model, config: config, relativeTo: FileManager.default.currentDirectoryPath) }
            if case .source(let validation)? = config.validation {
                return try TrainingData.load(validation, for: model, config: config, relativeTo: directory)
            }
            let data = try TrainingData.load(for: model, config: config, relativeTo: directory)
            return data.validation ?? data.training
        }
    }
}
