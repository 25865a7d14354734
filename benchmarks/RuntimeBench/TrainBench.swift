// Train-step time per batch: `runtime-bench --train [--json PATH] [--only NAME] [--iterations N] [--budget SECONDS] [--verbose]`.
//
// For each training benchmark (MLP, MNIST CNN A, GRU and LSTM classifiers, all
// at batch 32 with Adam lr 1e-3 and sparse categorical cross-entropy) it
// builds `DLMTraining.TrainStepRunner` on the JIT and on the interpreter and
// prints the median ms of one optimiser step (forward, loss, backward, Adam
// update, state copied back), the JIT/interp ratio, the time to build the step
// (graph + -O2 passes) and the first step's time (planning and, for the JIT,
// LLVM compilation; "cached" is a second runner whose plans come from the
// disk cache). The first step and three more are warm-up and are not in the
// median. The losses of the first five steps go into the JSON, so that
// `benchmarks/compare_training.py` can check that every framework trains the
// same model from the same weights on the same batch.
//
// The MLP and the CNN train with their own files' train blocks; the GRU and
// LSTM benchmark models have none, so a train block is appended to their
// source here (the files are not changed). Their `data` is never read: the
// runner is fed the benchmark's random batch directly.
//
// Inputs come from RandomSource(seed: 42) exactly as for the inference
// benchmark (floats in [0, 1), token ids below 10,000, T = 100); the class
// ids from RandomSource(seed: 7), `next() % classes`. Parameters are
// `Interpreter.initialParameters(seed: 0)`, i.e. `dlmc init --seed 0`.
//
// The JIT's compile cache is pointed at a fresh temporary directory for the
// run (unless DLMC_CACHE=off), so the first step's time is a cold compile.

import DLMCodegen
import DLMGraph
import DLMRuntime
import DLMSyntax
import DLMTraining
import Foundation

struct TrainBenchCase {
    let name: String
    let file: String
    /// Appended to the file's source when the file has no train block for its model.
    var trainBlock: String? = nil
}

/// The train block given to benchmark models that have none.
func benchmarkTrainBlock(for model: String) -> String {
    """

    # Added by runtime-bench --train; the data source is never read.
    train \(model) {
        data      = npy(x: "unused-features.npy", y: "unused-targets.npy")
        loss      = sparse_categorical_crossentropy(from_logits: true)
        optimizer = adam(lr: 0.001)
        batch     = 32
    }
    """
}

let trainBenchCases = [
    TrainBenchCase(name: "mlp", file: "examples/mlp.dlm"),
    TrainBenchCase(name: "cnn", file: "examples/mnist_cnn_a.dlm"),
    TrainBenchCase(name: "gru", file: "benchmarks/models/gru_classifier.dlm", trainBlock: benchmarkTrainBlock(for: "GRUClassifier")),
    TrainBenchCase(name: "lstm", file: "benchmarks/models/lstm_classifier.dlm", trainBlock: benchmarkTrainBlock(for: "LSTMClassifier")),
]

/// The first model of a file (with a train block appended if asked), with its training configuration.
func loweredTrainingModel(_ c: TrainBenchCase, root: URL) throws -> (LoweredModel, TrainingConfig) {
    let url = root.appendingPathComponent(c.file)
    var text = try String(contentsOf: url, encoding: .utf8)
    if let block = c.trainBlock { text += block }
    let diagnostics = DiagnosticEngine()
    let unit = Parser.parse(SourceFile(path: url.path, text: text), diagnostics: diagnostics)
    let module = Lowering.lower(unit, diagnostics: diagnostics)
    guard !diagnostics.hasErrors else { throw RuntimeError(DiagnosticRenderer().render(diagnostics.diagnostics)) }
    guard let model = module.models.first else { throw RuntimeError("\(c.file): no model") }
    guard let config = model.training else { throw RuntimeError("\(c.file): model '\(model.name)' has no train block") }
    return (model, config)
}

/// A random batch for the model's one input and its sparse class-id targets.
func trainingBatch(of model: LoweredModel, batch: Int) throws -> (features: Tensor, targets: Tensor) {
    let graph = model.graph
    guard graph.inputs.count == 1, let input = graph.inputs.first, let output = graph.outputs.first else {
        throw RuntimeError("model '\(model.name)' must have one input and an output")
    }
    var random = RandomSource(seed: 42)
    let type = graph.type(of: input)
    let bindings = Dictionary(uniqueKeysWithValues: type.shape.symbols.map { ($0, $0 == "T" ? sequenceLength : batch) })
    let shape = try type.shape.dims.map { try $0.evaluate(bindings) }
    let count = shape.reduce(1, *)
    let features: Tensor
    if type.dtype == .i32 || type.dtype == .i64 {
        features = try Tensor(dtype: type.dtype, shape: shape, values: (0..<count).map { _ in Double(random.next() % UInt64(vocabulary)) })
    } else {
        features = try Tensor(shape: shape, scalars: (0..<count).map { _ in Float(random.unit()) })
    }
    guard let classes = graph.type(of: output).shape.dims.last?.constantValue else {
        throw RuntimeError("model '\(model.name)' needs a fixed number of classes")
    }
    var labels = RandomSource(seed: 7)
    let targets = try Tensor(dtype: .i32, shape: [batch], values: (0..<batch).map { _ in Double(labels.next() % UInt64(classes)) })
    return (features, targets)
}

/// What a `TrainStepRunner` reported through its log while compiling: compile ms and nodes left on the interpreter.
final class CompileLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    let echo: Bool
    init(echo: Bool) { self.echo = echo }
    func append(_ line: String) {
        lock.lock(); lines.append(line); lock.unlock()
        if echo { print("  " + line) }
    }
    /// Sum of the "… compiled in X ms" / "… from the cache in X ms" figures.
    var milliseconds: Double {
        lock.lock(); defer { lock.unlock() }
        return lines.compactMap { line -> Double? in
            guard let range = line.range(of: #" in ([0-9.]+) ms:"#, options: .regularExpression) else { return nil }
            return Double(line[range].dropFirst(4).dropLast(4))
        }.reduce(0, +)
    }
    /// Nodes of the compiled plans that run on the interpreter.
    var interpretedNodes: Int {
        lock.lock(); defer { lock.unlock() }
        return lines.compactMap { line -> Int? in
            guard let range = line.range(of: #"[0-9]+ on the interpreter$"#, options: .regularExpression) else { return nil }
            return Int(line[range].split(separator: " ")[0])
        }.reduce(0, +)
    }
}

func trainMilliseconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
}

/// Runs the training benchmark and prints (and optionally writes) its figures.
func runTrainBench(arguments: [String], root: URL) throws {
    let jsonPath = arguments.firstIndex(of: "--json").flatMap { $0 + 1 < arguments.count && !arguments[$0 + 1].hasPrefix("-") ? arguments[$0 + 1] : nil }
    let only = arguments.firstIndex(of: "--only").map { arguments[$0 + 1] }
    let iterations = arguments.firstIndex(of: "--iterations").flatMap { Int(arguments[$0 + 1]) } ?? 1000
    /// Seconds of timed steps per model and backend (at least 10 steps are always timed).
    let budget = arguments.firstIndex(of: "--budget").flatMap { Double(arguments[$0 + 1]) } ?? 3
    /// --verbose: the JIT's notes on what it compiled and what it left to the interpreter.
    let verbose = arguments.contains("--verbose")
    let warmup = 3
    let recordedLosses = 5

    // A fresh compile cache, so that the first step is a cold compile and the second runner's is a cached one.
    let environment = ProcessInfo.processInfo.environment
    let cacheOff = environment["DLMC_CACHE"].map { ["off", "0", "no", "false"].contains($0.lowercased()) } ?? false
    let cacheDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("dlmc-train-bench-\(ProcessInfo.processInfo.processIdentifier)")
    if !cacheOff {
        try FileManager.default.createDirectory(at: cacheDirectory, withIntermediateDirectories: true)
        setenv("DLMC_CACHE_DIR", cacheDirectory.path, 1)
    }
    defer { if !cacheOff { try? FileManager.default.removeItem(at: cacheDirectory) } }

    let threads = ThreadPool.default.threads
    print("train step per batch on \(threads) threads (DLMC_THREADS); median of up to \(iterations) steps or \(Int(budget)) s after \(warmup + 1) warm-up steps")
    print("model  batch params   jit ms  interp ms jit/interp  build ms  first step ms (jit cold / cached / interp)  jit nodes on interp")
    var rows: [[String: Any]] = []
    for c in trainBenchCases where only == nil || only == c.name {
        let (model, config) = try loweredTrainingModel(c, root: root)
        guard case .adam(let lr, let beta1, let beta2, let epsilon) = config.optimizer, case .sparseCategoricalCrossEntropy(let fromLogits) = config.loss else {
            throw RuntimeError("\(c.file): the training benchmark expects Adam and sparse categorical cross-entropy")
        }
        let batch = config.batch
        let (features, targets) = try trainingBatch(of: model, batch: batch)
        let parameters = try Interpreter.initialParameters(of: model.graph, seed: 0)
        let trainable = model.graph.parameters.filter(\.isTrainable)
            .reduce(0) { $0 + $1.type.shape.dims.reduce(1) { $0 * ($1.constantValue ?? 0) } }
        var row: [String: Any] = ["model": c.name, "file": c.file, "batch": batch, "trainable_parameters": trainable,
                                  "learning_rate": lr, "beta1": beta1, "beta2": beta2, "epsilon": epsilon, "from_logits": fromLogits, "threads": threads,
                                  "sequence_length": sequenceLength, "feature_seed": 42, "target_seed": 7, "parameter_seed": 0]
        for backend in [Backend.jit, .interp] {
            let log = CompileLog(echo: verbose && backend == .jit)
            var runner: TrainStepRunner!
            let build = try trainMilliseconds {
                runner = try TrainStepRunner(model: model, config: config, parameters: parameters, backend: backend, log: log.append)
            }
            var losses: [Double] = []
            let first = try trainMilliseconds { losses.append(try runner.train(features: features, targets: targets).loss) }
            let compile = log.milliseconds
            for _ in 0..<warmup { losses.append(try runner.train(features: features, targets: targets).loss) }
            var times: [Double] = []
            let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(budget * 1e9)
            while times.count < iterations && (times.count < 10 || DispatchTime.now().uptimeNanoseconds < deadline) {
                var loss = 0.0
                times.append(try trainMilliseconds { loss = try runner.train(features: features, targets: targets).loss })
                if losses.count < recordedLosses { losses.append(loss) }
            }
            times.sort()
            let key = backend.rawValue
            row["\(key)_ms"] = times[times.count / 2]
            row["\(key)_min_ms"] = times[0]
            row["\(key)_steps_timed"] = times.count
            row["\(key)_build_ms"] = build
            row["\(key)_first_step_ms"] = first
            row["\(key)_losses"] = losses
            if backend == .jit {
                row["jit_compile_ms"] = compile
                row["jit_interpreted_nodes"] = log.interpretedNodes
                // A second runner of the same step: its plans come from the disk cache.
                let cachedLog = CompileLog(echo: false)
                let again = try TrainStepRunner(model: model, config: config, parameters: parameters, backend: .jit, log: cachedLog.append)
                row["jit_cached_first_step_ms"] = try trainMilliseconds { _ = try again.train(features: features, targets: targets) }
            }
        }
        rows.append(row)
        let jit = row["jit_ms"] as! Double, interp = row["interp_ms"] as! Double
        let firsts = String(format: "%.0f / %.0f / %.0f", row["jit_first_step_ms"] as! Double, row["jit_cached_first_step_ms"] as! Double,
                            row["interp_first_step_ms"] as! Double)
        print(c.name.padding(toLength: 6, withPad: " ", startingAt: 0)
              + String(format: " %5ld %6ld %8.3f %10.3f %10.2f %9.0f", batch, trainable, jit, interp, jit / interp, row["jit_build_ms"] as! Double)
              + "  " + firsts.padding(toLength: 42, withPad: " ", startingAt: 0)
              + String(format: " %ld", row["jit_interpreted_nodes"] as! Int))
    }
    if let jsonPath {
        let data = try JSONSerialization.data(withJSONObject: rows, options: [.sortedKeys, .prettyPrinted])
        try data.write(to: URL(fileURLWithPath: jsonPath), options: .atomic)
        print("wrote \(jsonPath)")
    }
}
