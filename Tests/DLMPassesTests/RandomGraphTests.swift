import DLMGraph
import DLMPasses
import DLMRuntime
import DLMSyntax
import Testing

/// Seeded random programs in `.dlm`, so the corpus also exercises lowering:
/// chains of elementwise ops with broadcasting, matmuls, reductions kept and
/// broadcast back, softmax, identities the simplifier removes, and shared
/// values. Every program must give the same outputs at -O0 and -O2.
enum RandomProgram {
    static func generate(seed: UInt64) -> String {
        var random = RandomSource(seed: seed)
        func pick(_ n: Int) -> Int { Int(random.next() % UInt64(n)) }
        let width = [3, 8, 17][pick(3)]
        var lines = ["model R(x: f32[B, \(width)], row: f32[\(width)], col: f32[B, 1]) -> (f32[B, \(width)], f32[B, 1]) {"]
        var values = ["x"]
        let statements = 4 + pick(10)
        for n in 0..<statements {
            let a = values[pick(values.count)], b = values[pick(values.count)]
            let expression: String
            switch pick(12) {
            case 0: expression = ["exp", "tanh", "sigmoid", "relu", "abs", "gelu"][pick(6)] + "(\(a) * 0.5)"
            case 1: expression = "\(a) \(["+", "-", "*"][pick(3)]) \(b)"
            case 2: expression = "\(a) * row + col"
            case 3:
                lines.append("    param w\(n): f32[\(width), \(width)] = glorot_uniform")
                expression = "\(a) @ w\(n)"
            case 4: expression = "\(a) - mean(\(a), axis: 1, keepdims: true)"
            case 5: expression = "softmax(\(a))"
            case 6: expression = "transpose(transpose(\(a))) * 1 + 0"
            case 7: expression = "reshape(\(a), [B, \(width)]) / 1"
            case 8: expression = "maximum(\(a), \(b)) - minimum(\(a), 0.25)"
            case 9: expression = "where(\(a) > \(b), \(a), -\(b))"
            case 10: expression = "\(a) |> dense(\(width), activation: \(["relu", "tanh", "linear"][pick(3)]))"
            default: expression = "log_softmax(\(a) + \(b))"
            }
            lines.append("    v\(n) = \(expression)")
            values.append("v\(n)")
        }
        let last = values[values.count - 1], other = values[pick(values.count)]
        lines.append("    return (\(last) + \(other), sum(\(last), axis: 1, keepdims: true))")
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }
}

@Suite struct RandomGraphTests {
    @Test(arguments: 0..<60)
    func optimisationPreservesOutputs(seed: Int) throws {
        let source = RandomProgram.generate(seed: UInt64(seed))
        func lower() throws -> Graph {
            let diagnostics = DiagnosticEngine()
            let unit = Parser.parse(SourceFile(path: "random\(seed).dlm", text: source), diagnostics: diagnostics)
            let module = Lowering.lower(unit, diagnostics: diagnostics)
            #expect(!diagnostics.hasErrors, "\(DiagnosticRenderer().render(diagnostics.diagnostics))\n\(source)")
            return try #require(module.models.first).graph
        }
        let reference = try lower(), optimized = try lower()
        try PassManager(pipeline: .level(2), verifiesEachPass: true).run(optimized)
        #expect(optimized.nodes.count <= reference.nodes.count)
        let parameters = try Interpreter.initialParameters(of: reference, seed: UInt64(seed))
        var random = RandomSource(seed: UInt64(seed) &+ 1000)
        let batch = 1 + Int(random.next() % 4)
        let width = reference.type(of: reference.inputs[0]).shape.dims[1].constantValue ?? 1
        func tensor(_ shape: [Int]) throws -> Tensor {
            try Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float(random.uniform(-2, 2)) })
        }
        let inputs = ["x": try tensor([batch, width]), "row": try tensor([width]), "col": try tensor([batch, 1])]
        let expected = try Interpreter(graph: reference, parameters: parameters).run(inputs)
        let actual = try Interpreter(graph: optimized, parameters: parameters).run(inputs)
        for (a, e) in zip(actual, expected) {
            #expect(a.mismatch(against: e, rtol: 1e-5, atol: 1e-5) == nil, "\(source)")
        }
        // The optimised IR reads back and verifies.
        let text = GraphPrinter().print(optimized)
        #expect(GraphPrinter().print(try parseGraph(text)) == text)
    }
}
