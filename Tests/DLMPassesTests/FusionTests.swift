import DLMGraph
import DLMPasses
import DLMRuntime
import DLMSyntax
import Foundation
import Testing

private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

private func optimizedExample(_ file: String, model: String? = nil) throws -> Graph {
    let diagnostics = DiagnosticEngine()
    let text = try String(contentsOf: packageRoot.appendingPathComponent("examples/\(file)"), encoding: .utf8)
    let unit = Parser.parse(SourceFile(path: file, text: text), diagnostics: diagnostics)
    let module = Lowering.lower(unit, diagnostics: diagnostics)
    let graph = try #require(module.models.first { model == nil || $0.name == model }).graph
    try PassManager(pipeline: .level(2), verifiesEachPass: true).run(graph)
    return graph
}

/// Compares with `Tests/DLMPassesTests/Golden/<name>`; `DLMC_UPDATE_GOLDEN=1` rewrites it.
private func expectGolden(_ actual: String, _ name: String) throws {
    let url = packageRoot.appendingPathComponent("Tests/DLMPassesTests/Golden/\(name)")
    if ProcessInfo.processInfo.environment["DLMC_UPDATE_GOLDEN"] != nil {
        try Data(actual.utf8).write(to: url, options: .atomic)
        return
    }
    let expected = try String(contentsOf: url, encoding: .utf8)
    #expect(actual == expected, "\(name) differs; rerun with DLMC_UPDATE_GOLDEN=1 and review the diff")
}

@Suite struct FusionTests {
    @Test func goldenFusedMnistCNN() throws {
        try expectGolden(GraphPrinter().print(try optimizedExample("mnist_cnn_a.dlm")), "mnist_cnn_a.O2.ir")
    }

    @Test func goldenFusedMLP() throws {
        try expectGolden(GraphPrinter().print(try optimizedExample("mlp.dlm")), "mlp.O2.ir")
    }

    @Test func goldenFusedLSTMStep() throws {
        try expectGolden(GraphPrinter().print(try optimizedExample("lstm.dlm", model: "BuiltinLSTM")), "lstm_step.O2.ir")
    }

    /// Each convolution absorbs its bias and ReLU (one kernel per layer); the
    /// last dense layer's bias and the softmax run as one row kernel.
    @Test func convolutionsTakeTheirEpilogues() throws {
        let graph = try optimizedExample("mnist_cnn_a.dlm")
        let groups = graph.nodes.filter { $0.op == .fused }
        #expect(groups.filter { $0.attributes["kind"] == .string("conv") }.count == 3)
        #expect(groups.filter { $0.attributes["kind"] == .string("gemm") }.count == 1)
        #expect(groups.filter { $0.attributes["kind"] == .string("rows") }.count == 1)
        #expect(!graph.nodes.contains { $0.op == .relu || $0.op == .add || $0.op == .broadcast || $0.op == .reduce || $0.op == .exp })
        // 3 convolutions, 2 pools, flatten, dense1, dense2's matmul, softmax rows.
        #expect(graph.nodes.count == 9)
    }

    /// Softmax, log-softmax and layer norm each become one kernel.
    @Test(arguments: ["softmax(x)", "log_softmax(x)", "layernorm(x)", "x - mean(x, axis: 1, keepdims: true)"])
    func rowComputationsAreOneKernel(expression: String) throws {
        let diagnostics = DiagnosticEngine()
        let unit = Parser.parse(SourceFile(path: "t.dlm", text: "model M(x: f32[B, 16]) -> f32[B, 16] {\n    return \(expression)\n}\n"),
                                diagnostics: diagnostics)
        let graph = try #require(Lowering.lower(unit, diagnostics: diagnostics).models.first).graph
        try PassManager(pipeline: .level(2), verifiesEachPass: true).run(graph)
        #expect(graph.nodes.filter { $0.op != .constant }.count == 1, "\(graph)")
        #expect(graph.nodes.last?.attributes["kind"] == .string("rows"))
    }

    /// A value used twice is never recomputed inside two groups.
    @Test func sharedValuesAreNotDuplicated() throws {
        let diagnostics = DiagnosticEngine()
        let unit = Parser.parse(SourceFile(path: "t.dlm", text: """
        model M(x: f32[B, 8]) -> (f32[B, 8], f32[B, 8]) {
            e = exp(x)
            return (e + 1, e * 2)
        }
        """), diagnostics: diagnostics)
        let graph = try #require(Lowering.lower(unit, diagnostics: diagnostics).models.first).graph
        try PassManager(pipeline: .level(2), verifiesEachPass: true).run(graph)
        let exps = graph.nodes.filter { $0.op == .exp }.count
            + graph.nodes.flatMap { $0.regions.flatMap(\.nodes) }.filter { $0.op == .exp }.count
        #expect(exps == 1)
    }
}

@Suite struct BatchNormFoldingTests {
    /// Folding must not change results, with statistics far from the
    /// defaults so every term of the formula matters.
    @Test(arguments: [
        "model M(x: f32[B, 8, 8, 3]) -> f32[B, 6, 6, 4] {\n    return x |> conv2d(4, kernel: 3) |> batchnorm |> relu\n}\n",
        "model M(x: f32[B, 5]) -> f32[B, 7] {\n    return x |> dense(7) |> batchnorm\n}\n",
    ])
    func foldingPreservesOutputs(source: String) throws {
        func lower() throws -> Graph {
            let diagnostics = DiagnosticEngine()
            let unit = Parser.parse(SourceFile(path: "bn.dlm", text: source), diagnostics: diagnostics)
            return try #require(Lowering.lower(unit, diagnostics: diagnostics).models.first).graph
        }
        let reference = try lower(), optimized = try lower()
        try PassManager(pipeline: .level(2), verifiesEachPass: true).run(optimized)
        // The batch norm is gone: no subtraction of the mean remains at run time.
        #expect(!optimized.nodes.contains { $0.op == .sub })
        var random = RandomSource(seed: 8)
        var parameters: [String: Tensor] = [:]
        for parameter in reference.parameters {
            let shape = parameter.type.shape.dims.compactMap(\.constantValue)
            let positive = parameter.name.hasSuffix("variance")
            parameters[parameter.name] = try Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in
                Float(positive ? random.uniform(0.5, 2) : random.uniform(-1, 1))
            })
        }
        let input = reference.inputs[0]
        let shape = [2] + reference.type(of: input).shape.dims.dropFirst().compactMap(\.constantValue)
        let x = try Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float(random.uniform(-1, 1)) })
        let expected = try Interpreter(graph: reference, parameters: parameters).run(["x": x])
        let actual = try Interpreter(graph: optimized, parameters: parameters).run(["x": x])
        #expect(actual[0].mismatch(against: expected[0], rtol: 1e-4, atol: 1e-5) == nil)
    }
}
