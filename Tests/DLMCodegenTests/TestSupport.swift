import DLMCodegen
import DLMGraph
import DLMPasses
import DLMRuntime
import DLMSyntax
@_exported import DLMTestSupport
import Foundation
import Testing

/// Parameters drawn uniformly from ±sqrt(3 / fan-in) (fan-in: the product of all dims but the last; 1-D ones from ±0.1).
func randomParameters(of graph: Graph, seed: UInt64) throws -> [String: Tensor] {
    var result: [String: Tensor] = [:]
    for parameter in graph.parameters {
        let shape = parameter.type.shape.dims.compactMap(\.constantValue)
        var random = RandomSource(seed: seed, name: parameter.name)
        let fanIn = shape.dropLast().reduce(1, *)
        let scale = shape.count > 1 ? (3 / Double(max(1, fanIn))).squareRoot() : 0.1
        let values = (0..<shape.reduce(1, *)).map { _ in random.uniform(-scale, scale) }
        result[parameter.name] = try Tensor(dtype: parameter.type.dtype, shape: shape, values: values)
    }
    return result
}

/// The threads the differential tests give both backends: two, so kernels the JIT splits (more than 2^15
/// elements) run through its parallel path, and no more, since the test cases themselves run in parallel.
let testPool = ThreadPool(threads: 2)

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
                                 tolerance: Double = 1e-5, note: String = "",
                                 sourceLocation: SourceLocation = #_sourceLocation) throws -> [JITReport] {
    try expectJITMatchesInterpreter(make, bindingSets: [bindings], level: level, seed: seed, tolerance: tolerance, note: note,
                                    sourceLocation: sourceLocation)
}

/// The same for several sets of sizes in turn, on one interpreter and one
/// executor (a plan per set of sizes) with parameters initialised once
/// (with `quickParameters`, uniformly at random instead of by each
/// parameter's initializer, which for orthogonal matrices is slow in a debug build).
@discardableResult
func expectJITMatchesInterpreter(_ make: () throws -> Graph, bindingSets: [[String: Int]], level: Int = 2, seed: UInt64 = 1,
                                 tolerance: Double = 1e-5, quickParameters: Bool = false, note: String = "",
                                 sourceLocation: SourceLocation = #_sourceLocation) throws -> [JITReport] {
    let reference = try make()
    let compiled = try make()
    try PassManager(pipeline: .level(level)).run(reference)
    try PassManager(pipeline: .level(level)).run(compiled)
    let parameters = quickParameters ? try randomParameters(of: reference, seed: seed) : try Interpreter.initialParameters(of: reference, seed: seed)
    let interpreter = try Interpreter(graph: reference, parameters: parameters, pool: testPool)
    // No disk cache: every run compiles, so the code under test is what the emitter makes now.
    let executor = try ModelExecutor(graph: compiled, parameters: parameters, backend: .jit, pool: testPool, cache: .off)
    for bindings in bindingSets {
        let inputs = try randomInputs(for: reference, bindings: bindings, seed: seed)
        let expected = try interpreter.run(inputs)
        // Twice: the second run reuses the compiled plan and its memory.
        _ = try executor.run(inputs)
        let actual = try executor.run(inputs)
        #expect(actual.count == expected.count, sourceLocation: sourceLocation)
        for (index, (a, e)) in zip(actual, expected).enumerated() {
            // |jit - interpreter| <= tolerance * (1 + |interpreter|); NaN only where the interpreter has NaN, infinities exact.
            let difference = tensorDifference(a, e, rtol: tolerance, atol: tolerance)
            #expect(difference == nil, "\(bindings), output \(index): \(difference ?? "")\n\(note)", sourceLocation: sourceLocation)
        }
    }
    for report in executor.reports { #expect(report.failure == nil, "\(report.failure ?? "")\n\(note)", sourceLocation: sourceLocation) }
    return executor.reports
}

/// Raw integer elements (i32, i64, u8 and bool), exactly as stored.
func exactIntegers(_ tensor: Tensor) -> [Int64] {
    tensor.withUnsafeBytes { bytes in
        switch tensor.dtype {
        case .i32: bytes.bindMemory(to: Int32.self).map(Int64.init)
        case .i64: Array(bytes.bindMemory(to: Int64.self))
        case .bool, .u8: bytes.bindMemory(to: UInt8.self).map(Int64.init)
        case .f32: bytes.bindMemory(to: UInt32.self).map(Int64.init)
        case .f64: bytes.bindMemory(to: Int64.self).map { $0 }
        }
    }
}

/// Describes the elements where `actual` (the JIT's result) differs from
/// `expected` (the interpreter's), or returns `nil` when they agree:
/// - dtypes and shapes must be equal;
/// - integers and bools must be equal exactly (compared as stored, so no
///   precision is lost above 2^53);
/// - floats: NaN matches NaN (any payload) and only NaN; ±inf only the same
///   infinity; other values must be within `atol + rtol·|expected|`; with
///   `signedZeros`, +0 and -0 also differ.
func tensorDifference(_ actual: Tensor, _ expected: Tensor, rtol: Double, atol: Double = 0,
                      signedZeros: Bool = false) -> String? {
    guard actual.dtype == expected.dtype, actual.shape == expected.shape else {
        return "got \(actual.dtype.rawValue)\(actual.shape), expected \(expected.dtype.rawValue)\(expected.shape)"
    }
    // Identical bytes agree (the common case, and quick in a debug build).
    if actual.count == 0 { return nil }
    let identical = actual.withUnsafeBytes { a in
        expected.withUnsafeBytes { e in a.count == e.count && memcmp(a.baseAddress!, e.baseAddress!, a.count) == 0 }
    }
    if identical { return nil }
    var mismatches: [(index: Int, got: String, expected: String)] = []
    if actual.dtype.isFloatingPoint {
        for (index, (a, e)) in zip(actual.scalars, expected.scalars).enumerated() {
            let agrees: Bool
            if a.isNaN || e.isNaN {
                agrees = a.isNaN && e.isNaN
            } else if a.isInfinite || e.isInfinite {
                agrees = a == e
            } else if a == 0 && e == 0 {
                agrees = !signedZeros || a.sign == e.sign
            } else {
                agrees = abs(a - e) <= atol + rtol * abs(e)
            }
            if !agrees { mismatches.append((index, "\(a)", "\(e)")) }
        }
    } else {
        for (index, (a, e)) in zip(exactIntegers(actual), exactIntegers(expected)).enumerated() where a != e {
            mismatches.append((index, "\(a)", "\(e)"))
        }
    }
    guard !mismatches.isEmpty else { return nil }
    let shown = mismatches.prefix(6).map { "[\($0.index)] got \($0.got), expected \($0.expected)" }
    return "\(mismatches.count) of \(expected.count) elements differ (\(expected.dtype.rawValue)\(expected.shape)): "
        + shown.joined(separator: "; ") + (mismatches.count > 6 ? "; …" : "")
}
