// Interpreter latency on the reference models, median of many runs.
//
//   swift run -c release runtime-bench [--json] [--iterations N] [--only NAME] [--batch N] [-O0] [--sgemm] [--file PATH]
//                                      [--backend interp|jit|auto] [--compare-levels] [--compare-backends] [--all-examples]
//   swift run -c release runtime-bench --train [--json PATH] [--only NAME] [--iterations N] [--budget SECONDS] [--verbose]
//
// Prints one row per model and batch size. `--all-examples` adds every model of
// every file in examples/ (symbolic dims bound to the batch size, `T` to 100). `benchmarks/compare_runtime.py`
// runs this and ONNX Runtime / PyTorch on the same inputs in one go and
// prints the ratios.

import DLMCodegen
import DLMGraph
import DLMPasses
import DLMRuntime
import DLMSyntax
import Foundation

struct Case {
    let name: String
    let file: String
    /// The model to run; `nil` for the file's first.
    var model: String? = nil
}

/// Sequence length bound to `T` in every benchmark model.
let sequenceLength = 100
/// Integer inputs are token ids below this (the vocabulary of the examples' embeddings).
let vocabulary = 10000

let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
var cases = [
    Case(name: "mlp", file: "examples/mlp.dlm"),
    Case(name: "cnn", file: "examples/mnist_cnn_a.dlm"),
    Case(name: "gru", file: "benchmarks/models/gru_classifier.dlm"),
    Case(name: "lstm", file: "benchmarks/models/lstm_classifier.dlm"),
]

let arguments = CommandLine.arguments
/// --train: train-step time per batch (TrainBench.swift) instead of inference latency.
if arguments.contains("--train") {
    try runTrainBench(arguments: arguments, root: root)
    exit(0)
}
let json = arguments.contains("--json")
let iterations = arguments.firstIndex(of: "--iterations").flatMap { Int(arguments[$0 + 1]) } ?? 50
let only = arguments.firstIndex(of: "--only").map { arguments[$0 + 1] }
/// -O0 runs the graph as lowered; the default -O2 runs what `dlmc run` runs.
let level = arguments.contains("-O0") ? 0 : 2
let batches = arguments.firstIndex(of: "--batch").flatMap { Int(arguments[$0 + 1]) }.map { [$0] } ?? [1, 64]

/// --file PATH: also benchmark the models of any .dlm file (absolute, or relative to the package).
if let index = arguments.firstIndex(of: "--file"), index + 1 < arguments.count {
    let path = arguments[index + 1]
    cases.append(Case(name: URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent, file: path))
}

if arguments.contains("--all-examples") {
    let files = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("examples").path)
    for file in files.filter({ $0.hasSuffix(".dlm") }).sorted() {
        for model in try lowerModule("examples/\(file)").models {
            cases.append(Case(name: model.name, file: "examples/\(file)", model: model.name))
        }
    }
}

func lowerModule(_ path: String) throws -> LoweredModule {
    let diagnostics = DiagnosticEngine()
    let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : root.appendingPathComponent(path)
    let text = try String(contentsOf: url, encoding: .utf8)
    let unit = Parser.parse(SourceFile(path: path, text: text), diagnostics: diagnostics)
    let module = Lowering.lower(unit, diagnostics: diagnostics)
    guard !diagnostics.hasErrors else { throw RuntimeError(DiagnosticRenderer().render(diagnostics.diagnostics)) }
    return module
}

func lower(_ c: Case) throws -> Graph {
    let models = try lowerModule(c.file).models
    guard let model = c.model.map({ name in models.first { $0.name == name } }) ?? models.first else {
        throw RuntimeError("\(c.file): no model \(c.model ?? "")")
    }
    return model.graph
}

/// The benchmark's inputs, one per graph input in order, all from one
/// SplitMix64 stream (seed 42): reproducible in Python (compare_runtime.py).
func inputs(of graph: Graph, batch: Int) throws -> [String: Tensor] {
    var random = RandomSource(seed: 42)
    var result: [String: Tensor] = [:]
    for value in graph.inputs {
        let type = graph.type(of: value)
        let bindings = Dictionary(uniqueKeysWithValues: type.shape.symbols.map { ($0, $0 == "T" ? sequenceLength : batch) })
        let shape = try type.shape.dims.map { try $0.evaluate(bindings) }
        let count = shape.reduce(1, *)
        let name = graph.name(of: value) ?? "input"
        if type.dtype == .i32 || type.dtype == .i64 {
            result[name] = try Tensor(dtype: type.dtype, shape: shape,
                                      values: (0..<count).map { _ in Double(random.next() % UInt64(vocabulary)) })
        } else {
            result[name] = try Tensor(shape: shape, scalars: (0..<count).map { _ in Float(random.unit()) })
        }
    }
    return result
}

func milliseconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
}

/// sgemm GFLOPS through the interpreter's GEMM path (OpenBLAS) and the JIT's
/// (its tiled micro-kernel while B fits in L2, OpenBLAS beyond), square sizes,
/// the CNN's convolution GEMMs, dense layers and recurrent steps, against the
/// machine's measured peak.
func sgemmRows() throws -> [[String: Any]] {
    var rows: [[String: Any]] = []
    // Measured first: its threads' start-up must not land inside a timing.
    let peak = try MachinePeak.measure()
    if !json {
        print(String(format: "measured f32 peak: %.0f GFLOPS on 1 thread, %.0f on %ld", peak.singleThread, peak.allThreads, peak.threads))
        print("            m×n×k  interp ms  GFLOPS   jit ms  GFLOPS  jit/peak")
    }
    let shapes = [(256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (2048, 2048, 2048), (43264, 32, 9), (7744, 64, 288),
                  (576, 64, 576), (64, 128, 784), (6400, 512, 32), (640, 512, 32), (6400, 512, 128), (6400, 64, 32), (64, 512, 128), (1, 512, 128), (1, 128, 784)]
    for (m, n, k) in shapes {
        let a = try Tensor(shape: [m, k], scalars: [Float](repeating: 0.5, count: m * k))
        let b = try Tensor(shape: [k, n], scalars: [Float](repeating: 0.25, count: k * n))
        let graph = Graph(name: "sgemm")
        let x = graph.addInput(name: "a", type: TensorType(.f32, Shape([.constant(m), .constant(k)])))
        let y = graph.addInput(name: "b", type: TensorType(.f32, Shape([.constant(k), .constant(n)])))
        graph.outputs = [try graph.emit(.matmul, [x, y])]
        graph.outputNames = [nil]
        var medians: [Double] = []
        for backend in [Backend.interp, .jit] {
            let executor = try ModelExecutor(graph: graph, parameters: [:], backend: backend, cache: .off)
            _ = try executor.run(["a": a, "b": b])
            var times: [Double] = []
            let budget = DispatchTime.now().uptimeNanoseconds + 2_000_000_000
            while times.count < 5 || (times.count < 200 && DispatchTime.now().uptimeNanoseconds < budget) {
                times.append(try milliseconds { _ = try executor.run(["a": a, "b": b]) })
            }
            times.sort()
            medians.append(times[times.count / 2])
        }
        let flop = 2 * Double(m) * Double(n) * Double(k)
        let (interpGflops, jitGflops) = (flop / (medians[0] * 1e6), flop / (medians[1] * 1e6))
        rows.append(["model": "sgemm", "m": m, "n": n, "k": k, "median_ms": medians[0], "gflops": interpGflops,
                     "jit_ms": medians[1], "jit_gflops": jitGflops, "peak_gflops": peak.allThreads])
        if !json {
            print(String(format: "%17@ %10.3f %7.1f %8.3f %7.1f %9.2f", "\(m)×\(n)×\(k)" as NSString, medians[0], interpGflops,
                         medians[1], jitGflops, jitGflops / peak.allThreads))
        }
    }
    return rows
}

/// A model name left-aligned in the first column.
func padded(_ name: String) -> String { name.padding(toLength: max(17, name.count), withPad: " ", startingAt: 0) }

var rows: [[String: Any]] = []
if arguments.contains("--sgemm") { rows += try sgemmRows() }
/// --compare-levels: -O0 and -O2 side by side with ops, kernels and memory plans.
let compareLevels = arguments.contains("--compare-levels")
/// --compare-backends: the interpreter and the JIT at -O2, with the JIT's compile time.
let compareBackends = arguments.contains("--compare-backends")
let backend = arguments.firstIndex(of: "--backend").flatMap { Backend(rawValue: arguments[$0 + 1]) } ?? .interp
let variants: [(level: Int, backend: Backend)] = compareLevels ? [(0, .interp), (2, .interp)]
    : compareBackends ? [(2, .interp), (2, .jit)] : [(level, backend)]
if !json {
    print(compareLevels ? "model             batch  ops O0  kernels O2   arena O2    naive O0   ms O0      ms O2"
          : compareBackends ? "model             batch   interp ms      jit ms  jit/interp  compile ms"
          : "model             batch   median ms      min ms")
}
for c in cases where only == nil || only == c.name {
    for batch in batches {
        let inputs = try inputs(of: try lower(c), batch: batch)
        var medians: [Double] = []
        var mins: [Double] = []
        var executors: [(ops: Int, executor: ModelExecutor, kernels: Int, firstRun: Double)] = []
        for variant in variants {
            let graph = try lower(c)
            let ops = graph.nodes.count
            try PassManager(pipeline: .level(variant.level)).run(graph)
            let executor = try ModelExecutor(graph: graph, parameters: try Interpreter.initialParameters(of: graph, seed: 0),
                                             backend: variant.backend)
            // The first run plans memory and, for the JIT, compiles.
            let first = try milliseconds { _ = try executor.run(inputs) }
            executors.append((ops, executor, graph.nodes.count, first))
            for _ in 0..<3 { _ = try executor.run(inputs) }
            var times: [Double] = []
            // Enough runs for a stable median, bounded in time for the slow cases.
            let budget = DispatchTime.now().uptimeNanoseconds + 3_000_000_000
            while times.count < iterations && (times.count < 5 || DispatchTime.now().uptimeNanoseconds < budget) {
                times.append(try milliseconds { _ = try executor.run(inputs) })
            }
            times.sort()
            medians.append(times[times.count / 2])
            mins.append(times[0])
        }
        if compareLevels, let o0 = executors.first, let o2 = executors.last,
           let m0 = o0.executor.interpreter.memoryStatistics, let m2 = o2.executor.interpreter.memoryStatistics {
            rows.append(["model": c.name, "batch": batch, "ops_O0": o0.ops, "kernels_O2": o2.kernels, "arena_O2": m2.arenaBytes,
                         "naive_O0": m0.naiveBytes, "ms_O0": medians[0], "ms_O2": medians[1]])
            if !json {
                print(padded(c.name) + String(format: " %5ld %7ld %11ld %10ld %11ld %8.3f %10.3f", batch, o0.ops, o2.kernels,
                             m2.arenaBytes, m0.naiveBytes, medians[0], medians[1]))
            }
        } else if compareBackends, let jit = executors.last {
            let compile = jit.executor.reports.reduce(0) { $0 + $1.compileSeconds } * 1e3
            let native = jit.executor.reports.reduce(0) { $0 + $1.nativeNodes }
            let interpreted = jit.executor.reports.reduce(0) { $0 + $1.interpretedNodes.count }
            rows.append(["model": c.name, "batch": batch, "interp_ms": medians[0], "jit_ms": medians[1], "compile_ms": compile,
                         "native_nodes": native, "interpreted_nodes": interpreted])
            if !json {
                print(padded(c.name) + String(format: " %5ld %11.3f %11.3f %11.2f %11.1f", batch, medians[0], medians[1],
                                              medians[1] / medians[0], compile))
            }
        } else {
            rows.append(["model": c.name, "batch": batch, "backend": backend.rawValue, "median_ms": medians[0], "min_ms": mins[0],
                         "runs": iterations, "first_run_ms": executors[0].firstRun,
                         "compile_ms": executors[0].executor.reports.reduce(0) { $0 + $1.compileSeconds } * 1e3])
            if !json { print(padded(c.name) + String(format: " %5ld %11.3f %11.3f", batch, medians[0], mins[0])) }
        }
    }
}
if let profile = RuntimeProfile.snapshot {
    let total = profile.values.reduce(0, +)
    for (op, ns) in profile.sorted(by: { $0.value > $1.value }) {
        print(String(format: "  %-10@ %8.1f ms %5.1f%%", op as NSString, Double(ns) / 1e6, 100 * Double(ns) / Double(max(1, total))))
    }
}
if json {
    let data = try JSONSerialization.data(withJSONObject: rows, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}
