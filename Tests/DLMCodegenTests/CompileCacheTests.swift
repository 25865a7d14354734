import DLMCodegen
import DLMGraph
import DLMPasses
import DLMRuntime
import Foundation
import Testing

@Suite struct CompileCacheTests {
    private func mlp() throws -> (Graph, [String: Tensor], [String: Tensor]) {
        let graph = try #require(try exampleModels("mlp.dlm").first).graph
        try PassManager(pipeline: .level(2)).run(graph)
        let parameters = try Interpreter.initialParameters(of: graph, seed: 3)
        return (graph, parameters, try randomInputs(for: graph, bindings: ["B": 2], seed: 4))
    }

    @Test func secondRunLoadsTheObjectAndCorruptEntriesAreRecompiled() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dlmc-cache-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (graph, parameters, inputs) = try mlp()
        let expected = try Interpreter(graph: graph, parameters: parameters).run(inputs)

        let cold = try ModelExecutor(graph: graph, parameters: parameters, backend: .jit, cache: .directory(directory))
        let first = try cold.run(inputs)
        #expect(cold.reports.map(\.cached) == [false])
        let entries = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".o") }
        #expect(entries.count == 1)

        let warm = try ModelExecutor(graph: graph, parameters: parameters, backend: .jit, cache: .directory(directory))
        let second = try warm.run(inputs)
        #expect(warm.reports.map(\.cached) == [true])
        #expect(first.map(\.scalars) == second.map(\.scalars))
        for (a, e) in zip(second, expected) { #expect(a.mismatch(against: e, rtol: 1e-5, atol: 1e-6) == nil) }

        // A damaged entry (a flipped byte in the machine code, then a truncated file) is not used.
        let entry = directory.appendingPathComponent(try #require(entries.first))
        var bytes = [UInt8](try Data(contentsOf: entry))
        bytes[bytes.count - 100] ^= 0xFF
        try Data(bytes).write(to: entry)
        let flipped = try ModelExecutor(graph: graph, parameters: parameters, backend: .jit, cache: .directory(directory))
        #expect(try flipped.run(inputs).map(\.scalars) == first.map(\.scalars))
        #expect(flipped.reports.map(\.cached) == [false])
        try Data(bytes.prefix(40)).write(to: entry)
        let truncated = try ModelExecutor(graph: graph, parameters: parameters, backend: .jit, cache: .directory(directory))
        #expect(try truncated.run(inputs).map(\.scalars) == first.map(\.scalars))
        #expect(truncated.reports.map(\.cached) == [false])
    }

    @Test func newSizesCompileANewPlanAndKnownSizesReuseTheirs() throws {
        let (graph, parameters, _) = try mlp()
        let executor = try ModelExecutor(graph: graph, parameters: parameters, backend: .jit, cache: .off)
        for batch in [1, 3, 1] {
            let inputs = try randomInputs(for: graph, bindings: ["B": batch], seed: UInt64(batch))
            let expected = try Interpreter(graph: graph, parameters: parameters).run(inputs)
            for (a, e) in zip(try executor.run(inputs), expected) { #expect(a.mismatch(against: e, rtol: 1e-5, atol: 1e-6) == nil) }
        }
        // B=1, B=3, then B=1 again: two plans; the runner keeps the first (memory and code) for its return.
        #expect(executor.reports.map { $0.bindings["B"] } == [1, 3])
        #expect(executor.reports.allSatisfy { $0.failure == nil && $0.interpretedNodes.isEmpty })
    }
}
