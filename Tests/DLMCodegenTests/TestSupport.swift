import DLMCodegen
import DLMGraph
import DLMPasses
import DLMRuntime
import DLMSyntax
import Foundation
import Testing

/// The package root, from this file's path.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Lowers `.dlm` source text and returns its models.
func lowerModels(_ text: String, path: String = "test.dlm") throws -> [LoweredModel] {
    let diagnostics = DiagnosticEngine()
    let unit = Parser.parse(SourceFile(path: path, text: text), diagnostics: diagnostics)
    let module = Lowering.lower(unit, diagnostics: diagnostics)
    guard !diagnostics.hasErrors else { throw RuntimeError(DiagnosticRenderer().render(diagnostics.diagnostics)) }
    return module.models
}

/// The models of an example file.
func exampleModels(_ file: String) throws -> [LoweredModel] {
    try lowerModels(String(contentsOf: packageRoot.appendingPathComponent("examples/\(file)"), encoding: .utf8), path: file)
}

/// Inputs for every graph input: floats in [-1, 1), integers in [0, vocabulary).
func randomInputs(for graph: Graph, bindings: [String: Int], seed: UInt64, vocabulary: Int = 50) throws -> [String: Tensor] {
    var random = RandomSource(seed: seed)
    var inputs: [String: Tensor] = [:]
    for value in graph.inputs {
        let type = graph.type(of: value)
        let shape = try type.shape.dims.map { try $0.evaluate(bindings) }
        let count = shape.reduce(1, *)
        let name = try #require(graph.name(of: value))
        switch type.dtype {
        case .f32, .f64:
            inputs[name] = try Tensor(dtype: type.dtype, shape: shape, values: (0..<count).map { _ in random.uniform(-1, 1) })
        case .bool:
            inputs[name] = try Tensor(dtype: .bool, shape: shape, values: (0..<count).map { _ in Double(random.next() % 2) })
        default:
            inputs[name] = try Tensor(dtype: type.dtype, shape: shape, values: (0..<count).map { _ in Double(random.next() % UInt64(vocabulary)) })
        }
    }
    return inputs
}

/// Runs a graph on the interpreter and on the JIT (each on its own copy,
/// optimised at `level`) and checks the outputs agree within `tolerance`
/// (relative to magnitude, plus the same absolute amount). Returns the JIT's reports.
@discardableResult
func expectJITMatchesInterpreter(_ make: () throws -> Graph, bindings: [String: Int], level: Int = 2, seed: UInt64 = 1,
                                 tolerance: Double = 1e-5, sourceLocation: SourceLocation = #_sourceLocation) throws -> [JITReport] {
    let reference = try make()
    let compiled = try make()
    try PassManager(pipeline: .level(level)).run(reference)
    try PassManager(pipeline: .level(level)).run(compiled)
    let parameters = try Interpreter.initialParameters(of: reference, seed: seed)
    let inputs = try randomInputs(for: reference, bindings: bindings, seed: seed)
    let expected = try Interpreter(graph: reference, parameters: parameters).run(inputs)
    let executor = try ModelExecutor(graph: compiled, parameters: parameters, backend: .jit)
    // Twice: the second run reuses the compiled plan and its memory.
    _ = try executor.run(inputs)
    let actual = try executor.run(inputs)
    #expect(actual.count == expected.count, sourceLocation: sourceLocation)
    for (a, e) in zip(actual, expected) {
        #expect(a.shape == e.shape && a.dtype == e.dtype, sourceLocation: sourceLocation)
        let av = a.scalars, ev = e.scalars
        var worst = 0.0
        for (x, y) in zip(av, ev) {
            if x.isNaN && y.isNaN { continue }
            if x == y { continue }
            worst = max(worst, abs(x - y) / (1 + abs(y)))
        }
        #expect(worst <= tolerance, "largest relative difference \(worst)", sourceLocation: sourceLocation)
    }
    for report in executor.reports { #expect(report.failure == nil, "\(report.failure ?? "")", sourceLocation: sourceLocation) }
    return executor.reports
}
