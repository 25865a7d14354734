import DLMGraph
import DLMPasses
import DLMRuntime
import DLMSyntax
import DLMTestSupport
import Foundation
import Testing

/// Interpreter results against values computed independently with PyTorch
/// and NumPy by scripts/make_fixtures.py (see scripts/README.md).
private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
private let examples = fixtures.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("examples")

private func files(_ folder: String, _ suffix: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: fixtures.appendingPathComponent(folder).path)) ?? [])
        .filter { $0.hasSuffix(suffix) }.sorted()
}

/// The fixture's stated tolerance, or the default for the dtype.
private func tolerance(_ name: String, _ dtype: DType, overrides: [String: [Double]]) -> (rtol: Double, atol: Double) {
    if let pair = overrides[name], pair.count == 2 { return (pair[0], pair[1]) }
    return dtype == .f64 ? (1e-12, 1e-12) : (1e-5, 1e-6)
}

@Suite struct OpFixtureTests {
    static let cases = files("ops", ".ir").map { String($0.dropLast(3)) }

    @Test func fixturesArePresent() {
        #expect(Self.cases.count >= 60)
    }

    /// Every op case, as written and after -O2 (so fused kernels are checked against PyTorch too).
    @Test(arguments: cases)
    func matchesReference(name: String) throws {
        let text = try String(contentsOf: fixtures.appendingPathComponent("ops/\(name).ir"), encoding: .utf8)
        let contents = try SafeTensors.read(fixtures.appendingPathComponent("ops/\(name).safetensors").path)
        let overrides = (try? JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("ops/tolerances.json")))) as? [String: [Double]] ?? [:]
        let inputs = contents.tensors.filter { !$0.key.hasPrefix("out") }
        for level in [0, 2] {
            let graph = try parseGraph(text)
            #expect(verify(graph).isEmpty, "\(name): \(verify(graph))")
            try PassManager(pipeline: .level(level), verifiesEachPass: true).run(graph)
            let outputs = try Interpreter(graph: graph, parameters: [:]).run(inputs)
            for (index, actual) in outputs.enumerated() {
                let expected = try #require(contents.tensors["out\(index)"], "\(name) has no out\(index)")
                let (rtol, atol) = tolerance(name, expected.dtype, overrides: overrides)
                let compared = actual.dtype == expected.dtype ? actual : try actual.converted(to: expected.dtype)
                #expect(compared.mismatch(against: expected, rtol: rtol, atol: atol) == nil,
                        "\(name) -O\(level) out\(index): \(compared.mismatch(against: expected, rtol: rtol, atol: atol) ?? "")")
            }
        }
    }
}

@Suite struct ModelFixtureTests {
    static let cases = files("models", ".safetensors")

    @Test func everyReferenceModelHasAFixture() {
        #expect(Self.cases.count >= 13)
    }

    @Test(arguments: cases)
    func matchesPyTorch(file: String) throws {
        let parts = file.split(separator: ".")
        let (example, modelName) = (String(parts[0]), String(parts[1]))
        let contents = try SafeTensors.read(fixtures.appendingPathComponent("models/\(file)").path)
        #expect(contents.metadata["weights"] == "splitmix-fnv1a-v1")
        let source = try String(contentsOf: examples.appendingPathComponent("\(example).dlm"), encoding: .utf8)
        for level in [0, 2] {
            let diagnostics = DiagnosticEngine()
            let unit = Parser.parse(SourceFile(path: "\(example).dlm", text: source), diagnostics: diagnostics)
            let model = try #require(Lowering.lower(unit, diagnostics: diagnostics).models.first { $0.name == modelName })
            try PassManager(pipeline: .level(level), verifiesEachPass: true).run(model.graph)
            let interpreter = try Interpreter(graph: model.graph, parameters: try fixtureParameters(of: model.graph))
            let outputs = try interpreter.run(contents.tensors.filter { !$0.key.hasPrefix("out") })
            for (index, actual) in outputs.enumerated() {
                let expected = try #require(contents.tensors["out\(index)"])
                #expect(actual.mismatch(against: expected, rtol: 1e-4, atol: 1e-5) == nil,
                        "\(file) -O\(level) out\(index): \(actual.mismatch(against: expected, rtol: 1e-4, atol: 1e-5) ?? "")")
            }
        }
    }
}
