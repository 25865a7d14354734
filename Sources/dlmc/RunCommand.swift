import ArgumentParser
import DLMCodegen
import DLMGraph
import DLMPasses
import DLMRuntime
import Foundation

extension DLMC {
    /// `dlmc run`: run a model on inputs from files.
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a model on inputs from files and print or save its outputs.",
            discussion: """
            Inputs are bound by name: --input x=images.npy. Symbolic sizes (B, T) are taken from the inputs. \
            Parameters come from --weights (safetensors, as written by 'dlmc init' or training) or are freshly \
            initialised with --seed.
            """
        )

        @OptionGroup var options: ModelOptions

        @Option(name: .customLong("input"), help: ArgumentHelp(
            "An input as NAME=PATH: .npy, IDX (MNIST's format, raw or .gz) or CSV (.csv/.csv.gz, the last column taken as the label and dropped).",
            valueName: "name=path"))
        var inputs: [String] = []

        @Option(name: .long, help: "Multiply floating-point inputs by this (e.g. 0.00392156862745098 for pixels / 255).")
        var scale: Double = 1

        @Option(name: .long, help: "Use only the first N examples of each input.")
        var limit: Int?

        @Option(name: .long, help: "Parameter values (.safetensors).")
        var weights: String?

        @Option(name: .long, help: "Write the outputs: PATH.npy for one output, PATH.safetensors for all of them.")
        var output: String?

        @Option(name: .long, help: "Seed for initialising parameters when --weights is not given.")
        var seed: UInt64 = 0

        @Option(name: .customShort("O", allowingJoined: true), help: ArgumentHelp("Optimisation level: 0, 1 or 2.", valueName: "level"))
        var level: Int = 2

        @Option(name: .long, help: "Threads for the interpreter's kernels (default: the machine's cores).")
        var threads: Int?

        @Flag(name: .long, help: "Print ops before/after optimisation, kernels, memory plan and time to stderr.")
        var stats = false

        @Option(name: .long, help: "Backend: jit (LLVM, for this CPU), interp (the reference interpreter), or auto (the JIT, falling back to the interpreter where it cannot compile).")
        var backend: Backend = .auto

        @Flag(name: .long, help: "Report what the JIT compiled, what fell back to the interpreter and why, and compile times.")
        var verbose = false

        func validate() throws {
            guard (0...2).contains(level) else { throw ValidationError("-O takes 0, 1 or 2, not \(level)") }
            for input in inputs where !input.contains("=") {
                throw ValidationError("--input takes NAME=PATH, got '\(input)'")
            }
            if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
            if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
            if let output, !(output.hasSuffix(".npy") || output.hasSuffix(".safetensors")) {
                throw ValidationError("--output must end in .npy or .safetensors")
            }
        }

        mutating func run() throws {
            let model = try options.load()
            do {
                let parameters = try weights.map { try SafeTensors.read($0).tensors }
                    ?? Interpreter.initialParameters(of: model.graph, seed: seed)
                var tensors: [String: Tensor] = [:]
                for input in inputs {
                    let parts = input.split(separator: "=", maxSplits: 1).map(String.init)
                    guard parts.count == 2 else { continue }
                    let expected = model.graph.inputs.first { model.graph.name(of: $0) == parts[0] }.map { model.graph.type(of: $0) }
                    tensors[parts[0]] = try InputLoader.load(parts[1], as: expected, scale: scale, limit: limit)
                }
                let opsBefore = model.graph.nodes.count
                try PassManager(pipeline: .level(level)).run(model.graph)
                let verbose = self.verbose
                let executor = try ModelExecutor(graph: model.graph, parameters: parameters, backend: backend,
                                                 pool: threads.map(ThreadPool.init) ?? .default,
                                                 log: verbose ? { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } : nil)
                let interpreter = executor.interpreter
                let start = DispatchTime.now().uptimeNanoseconds
                let outputs = try executor.run(tensors)
                let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                if stats, let memory = interpreter.memoryStatistics {
                    let report = String(format: "ops: %ld lowered, %ld kernels at -O%ld; arena %@ for %@ of intermediates (%.0f%%); run %.3f ms (%@)\n",
                                        opsBefore, model.graph.nodes.count, level, ModelSummaryTable.bytes(memory.arenaBytes) as NSString,
                                        ModelSummaryTable.bytes(memory.naiveBytes) as NSString,
                                        100 * Double(memory.arenaBytes) / Double(max(1, memory.naiveBytes)), milliseconds,
                                        (executor.reports.isEmpty ? "interpreter" : "JIT, compile included") as NSString)
                    FileHandle.standardError.write(Data(report.utf8))
                }
                let names = model.graph.outputNames.enumerated().map { $1 ?? (outputs.count == 1 ? "output" : "output\($0)") }
                if let output {
                    try save(outputs, names: names, to: output)
                } else {
                    for (name, tensor) in zip(names, outputs) { print(OutputSummary.describe(name: name, tensor)) }
                }
            } catch let error as ExitCode {
                throw error
            } catch {
                throw fail(error)
            }
        }

        private func save(_ outputs: [Tensor], names: [String], to path: String) throws {
            if path.hasSuffix(".npy") {
                guard outputs.count == 1 else {
                    throw RuntimeError("the model has \(outputs.count) outputs; write them with --output PATH.safetensors")
                }
                try NPY.write(outputs[0], to: path)
            } else {
                try SafeTensors.write(SafeTensors.Contents(tensors: Dictionary(uniqueKeysWithValues: zip(names, outputs))), to: path)
            }
        }
    }
}

/// A short human-readable report of an output tensor.
enum OutputSummary {
    static func describe(name: String, _ tensor: Tensor) -> String {
        let values = tensor.scalars
        var lines = ["\(name): \(tensor.dtype.rawValue)\(tensor.shape)"]
        let shown = values.prefix(8).map { String(format: "%.6g", $0) }.joined(separator: ", ")
        lines.append("  values: [\(shown)\(values.count > 8 ? ", …" : "")]")
        let finite = values.filter(\.isFinite)
        if !finite.isEmpty {
            let mean = finite.reduce(0, +) / Double(finite.count)
            lines.append(String(format: "  min %.6g  max %.6g  mean %.6g", finite.min() ?? 0, finite.max() ?? 0, mean))
        }
        if finite.count < values.count { lines.append("  \(values.count - finite.count) non-finite values (NaN or inf)") }
        // Classifier outputs: the predicted class per row.
        if tensor.shape.count == 2, let classes = tensor.shape.last, classes > 1, tensor.dtype.isFloatingPoint {
            let rows = min(tensor.shape[0], 16)
            let argmax = (0..<rows).map { row -> String in
                let slice = values[(row * classes)..<((row + 1) * classes)]
                return String(slice.indices.max { slice[$0] < slice[$1] }.map { $0 - row * classes } ?? 0)
            }
            lines.append("  argmax: [\(argmax.joined(separator: ", "))\(tensor.shape[0] > rows ? ", …" : "")]")
        }
        return lines.joined(separator: "\n")
    }
}

extension Backend: ExpressibleByArgument {}
