import DLMGraph
import DLMPasses
import DLMRuntime
import DLMSyntax
import Foundation
import Testing
import DLMTestSupport

/// Random inputs for every graph input, with symbolic sizes bound to small numbers.
private func inputs(for graph: Graph, seed: UInt64) throws -> [String: Tensor] {
    var random = RandomSource(seed: seed)
    var bindings: [String: Int] = [:]
    var result: [String: Tensor] = [:]
    for input in graph.inputs {
        let type = graph.type(of: input)
        let shape = try type.shape.dims.map { dim -> Int in
            for symbol in dim.symbols where bindings[symbol] == nil { bindings[symbol] = 2 + Int(random.next() % 3) }
            return try dim.evaluate(bindings)
        }
        let count = shape.reduce(1, *)
        let values: [Double] = type.dtype.isInteger
            ? (0..<count).map { _ in Double(random.next() % 10) }
            : (0..<count).map { _ in random.uniform(-1, 1) }
        result[graph.name(of: input) ?? ""] = try Tensor(dtype: type.dtype, shape: shape, values: values)
    }
    return result
}

@Suite struct PassTests {
    /// A dense layer on a sequence: the bias and activation sink below the
    /// reshape into the GEMM group, and the result is unchanged.
    @Test func sinkReshapeMovesBiasIntoTheGEMM() throws {
        let source = """
        model Seq(x: f32[B, T, 6]) -> f32[B, T, 5] {
            return x |> dense(5, activation: relu)
        }
        """
        let reference = try #require(try lowerModels(source).first).graph
        let optimized = try #require(try lowerModels(source).first).graph
        try PassManager(pipeline: .level(2), verifiesEachPass: true).run(optimized)
        let gemm = try #require(optimized.nodes.first { $0.op == .fused })
        #expect(gemm.attributes["kind"] == .string("gemm"))
        #expect(gemm.regions[0].nodes.map(\.op) == [.matmul, .broadcast, .add, .relu])
        #expect(optimized.nodes.map(\.op) == [.reshape, .fused, .reshape])
        let parameters = try Interpreter.initialParameters(of: reference, seed: 2)
        let x = try inputs(for: reference, seed: 5)
        let expected = try Interpreter(graph: reference, parameters: parameters).run(x)
        let actual = try Interpreter(graph: optimized, parameters: parameters).run(x)
        for (a, e) in zip(actual, expected) { #expect(a.mismatch(against: e, rtol: 1e-6, atol: 1e-6) == nil) }
    }

    @Test func everyExampleGivesTheSameOutputsAtO0AndO2() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("examples").path)
            .filter { $0.hasSuffix(".dlm") }.sorted()
        for file in files {
            let text = try String(contentsOf: packageRoot.appendingPathComponent("examples/\(file)"), encoding: .utf8)
            for model in try lowerModels(text, path: file) {
                let parameters = try Interpreter.initialParameters(of: model.graph, seed: 1)
                let x = try inputs(for: model.graph, seed: 2)
                let reference = try Interpreter(graph: model.graph, parameters: parameters).run(x)
                let optimized = try #require(try lowerModels(text, path: file).first { $0.name == model.name }).graph
                let before = optimized.nodes.count
                try PassManager(pipeline: .level(2), verifiesEachPass: true).run(optimized)
                #expect(optimized.nodes.count <= before)
                let outputs = try Interpreter(graph: optimized, parameters: parameters).run(x)
                for (a, b) in zip(outputs, reference) {
                    #expect(a.mismatch(against: b, rtol: 1e-5, atol: 1e-6) == nil, "\(file) \(model.name)")
                }
            }
        }
    }

    @Test func identitiesAreRemoved() throws {
        let graph = try #require(try lowerModels("""
        model M(x: f32[B, 4]) -> f32[B, 4] {
            y = (x * 1 + 0) / 1 - 0
            return transpose(transpose(y))
        }
        """).first).graph
        try PassManager(pipeline: .level(2), verifiesEachPass: true).run(graph)
        #expect(graph.nodes.isEmpty, "\(graph)")
        #expect(graph.outputs == graph.inputs)
    }

    @Test func constantsAreFoldedWithTheInterpreter() throws {
        let graph = try #require(try lowerModels("""
        model M(x: f32[2, 3]) -> f32[2, 3] {
            return x * exp(zeros([2, 3]) + 2)
        }
        """).first).graph
        try PassManager(pipeline: Pipeline.parse("simplify,fold,simplify,cse,dce"), verifiesEachPass: true).run(graph)
        let ops = graph.nodes.map(\.op)
        #expect(!ops.contains(.exp) && !ops.contains(.add), "\(graph)")
        let constant = try #require(graph.nodes.first { $0.op == .constant })
        guard case .floats(let values)? = constant.attributes["values"] else { Issue.record("no values"); return }
        #expect(values.count == 1 && abs(values[0] - Float(2).exponential) < 1e-5)
    }

    @Test func dropoutIsTheIdentityForInferenceOnly() throws {
        let source = """
        model M(x: f32[B, 4]) -> f32[B, 4] {
            return dropout(x, 0.5)
        }
        """
        let inference = try #require(try lowerModels(source).first).graph
        try PassManager(pipeline: .level(1), mode: .inference, verifiesEachPass: true).run(inference)
        #expect(inference.nodes.isEmpty)
        let training = try #require(try lowerModels(source).first).graph
        try PassManager(pipeline: .level(1), mode: .training, verifiesEachPass: true).run(training)
        #expect(training.nodes.map(\.op) == [.dropout])
    }

    @Test func commonSubexpressionsMerge() throws {
        let graph = try #require(try lowerModels("""
        model M(x: f32[B, 4]) -> f32[B, 4] {
            return exp(x) + exp(x)
        }
        """).first).graph
        try PassManager(pipeline: Pipeline.parse("cse,dce"), verifiesEachPass: true).run(graph)
        #expect(graph.nodes.map(\.op) == [.exp, .add])
    }

    @Test func unknownPassesAreNamed() {
        #expect(throws: PassError.self) { try Pipeline.parse("cse,nope") }
    }
}

private extension Float {
    var exponential: Double { Foundation.exp(Double(self)) }
}
