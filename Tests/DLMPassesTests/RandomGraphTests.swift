import DLMGraph
import DLMPasses
import DLMRuntime
import DLMSyntax
import DLMTestSupport
import Testing

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
