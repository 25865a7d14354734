import ArgumentParser
import DLMCodegen
import DLMGraph
import DLMRuntime
import DLMSyntax
import DLMTraining
import Foundation

extension DLMC {
    /// `dlmc train`: train a model as its `train` block says.
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a model as its train block says and write the trained parameters.",
            discussion: """
            Data paths in the train block are relative to the .dlm file. The flags override the block's settings. \
            The weights file is written only when training succeeds (atomically: an earlier file stays intact on any error); \
            it loads with 'dlmc run --weights'. With --checkpoint, parameters and optimiser state are saved after every \
            epoch, and --resume continues from them with the same result as an uninterrupted run.
            """
        )

        @OptionGroup var options: ModelOptions

        @Option(name: .long, help: "Where to write the trained parameters (.safetensors).")
        var output: String

        @Option(name: .long, help: "Passes over the training data (overrides the train block).")
        var epochs: Int?

        @Option(name: .long, help: "Optimiser steps to take instead of epochs.")
        var steps: Int?

        @Option(name: .long, help: "Examples per step.")
        var batch: Int?

        @Option(name: .long, help: "Learning rate (replaces the optimiser's, schedule included).")
        var lr: Double?

        @Option(name: .long, help: "Seed for initialisation, shuffling and dropout (default: the train block's, else 0).")
        var seed: UInt64?

        @Option(name: .long, help: "Threads for the kernels (default: the machine's cores).")
        var threads: Int?

        @Option(name: .long, help: "Backend: jit, interp or auto (the JIT, falling back to the interpreter).")
        var backend: Backend = .auto

        @Option(name: .long, help: "Save a checkpoint into this directory after every epoch.")
        var checkpoint: String?

        @Option(name: .long, help: "Continue from the checkpoint in this directory.")
        var resume: String?

        @Option(name: .long, help: "Write the per-epoch figures to H.json or H.csv.")
        var history: String?

        @Flag(name: .long, help: "Print nothing but errors.")
        var quiet = false

        func validate() throws {
            if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1") }
            if let steps, steps < 1 { throw ValidationError("--steps must be at least 1") }
            if epochs != nil && steps != nil { throw ValidationError("give --epochs or --steps, not both") }
            if let batch, batch < 1 { throw ValidationError("--batch must be at least 1") }
            if let lr, !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be a positive number") }
            if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
            guard output.hasSuffix(".safetensors") else { throw ValidationError("--output must end in .safetensors") }
            if let history, !(history.hasSuffix(".json") || history.hasSuffix(".csv")) {
                throw ValidationError("--history must end in .json or .csv")
            }
        }

        mutating func run() throws {
            let model = try options.load()
            var settings = TrainingOptions()
            settings.epochs = epochs
            settings.steps = steps
            settings.batch = batch
            settings.learningRate = lr
            settings.seed = seed
            settings.threads = threads
            settings.backend = backend
            settings.checkpointDirectory = checkpoint
            settings.resumeDirectory = resume
            if quiet { settings.progress = .quiet }
            let directory = URL(fileURLWithPath: options.file).deletingLastPathComponent().path
            do {
                let trainer = try Trainer(model: model, directory: directory, options: settings)
                let result = try trainer.fit()
                let metadata = ["model": model.name, "seed": String(trainer.seed), "epochs": String(result.history.epochs.count)]
                try SafeTensors.write(SafeTensors.Contents(tensors: result.parameters, metadata: metadata), to: output)
                if let history { try result.history.write(to: history) }
                printProfile()
                if !quiet {
                    if let epoch = result.stoppedAfterEpoch {
                        print("stopped early after epoch \(epoch)\(model.training?.earlyStopping?.restoreBest == true ? " (best epoch's weights kept)" : "")")
                    }
                    let total = result.parameters.values.reduce(0) { $0 + $1.count }
                    print("wrote \(result.parameters.count) parameters (\(ModelSummaryTable.grouped(total)) values) of \(model.name) to \(output)")
                }
            } catch let error as TrainingError {
                throw report(error, file: options.file)
            } catch let error as OpError {
                throw report(TrainingError(error.message, at: error.location), file: options.file)
            } catch {
                throw fail(error)
            }
        }
    }
}

/// With `DLMC_PROFILE` set, the time the interpreter spent per op kind, to stderr.
func printProfile() {
    guard let profile = RuntimeProfile.snapshot else { return }
    let total = profile.values.reduce(0, +)
    for (op, ns) in profile.sorted(by: { $0.value > $1.value }) {
        let name = op.padding(toLength: max(op.count, 24), withPad: " ", startingAt: 0)
        let line = "  \(name) " + String(format: "%9.1f ms %5.1f%%\n", Double(ns) / 1e6, 100 * Double(ns) / Double(max(1, total)))
        FileHandle.standardError.write(Data(line.utf8))
    }
}

/// Prints a training error as a diagnostic (located in the .dlm file when it can be) and exits 1.
func report(_ error: TrainingError, file: String) -> ExitCode {
    guard let range = error.range else { return fail(error) }
    let diagnostics = DiagnosticEngine()
    diagnostics.error(DiagnosticMessage(id: "training_error", text: error.message), at: range)
    let colored = isatty(STDERR_FILENO) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
    FileHandle.standardError.write(Data(DiagnosticRenderer(showsIdentifiers: false, usesColor: colored).render(diagnostics.sorted).utf8))
    return ExitCode(1)
}
