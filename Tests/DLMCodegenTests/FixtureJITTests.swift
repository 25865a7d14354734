import DLMCodegen
import DLMGraph
import DLMPasses
import DLMRuntime
import DLMSyntax
import DLMTestSupport
import Foundation
import Testing

/// The JIT against values computed independently with PyTorch and NumPy
/// (the fixtures of scripts/make_fixtures.py, shared with the interpreter's
/// tests): every op case and every reference model, at -O2, with the
/// fixtures' tolerances.
private let fixtures = packageRoot.appendingPathComponent("Tests/DLMRuntimeTests/Fixtures")

private func fixtureFiles(_ folder: String, _ suffix: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: fixtures.appendingPathComponent(folder).path)) ?? [])
        .filter { $0.hasSuffix(suffix) }.sorted()
}

@Suite struct FixtureJITTests {
    static let ops = fixtureFiles("ops", ".ir").map { String($0.dropLast(3)) }
    static let models = fixtureFiles("models", ".safetensors")

    @Test func fixturesArePresent() {
        #expect(Self.ops.count >= 60 && Self.models.count >= 13)
    }

    @Test(arguments: ops)
    func opMatchesReference(name: String) throws {
        let text = try String(contentsOf: fixtures.appendingPathComponent("ops/\(name).ir"), encoding: .utf8)
        let contents = try SafeTensors.read(fixtures.appendingPathComponent("ops/\(name).safetensors").path)
        let overrides = (try? JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("ops/tolerances.json")))) as? [String: [Double]] ?? [:]
        let graph = try parseGraph(text)
        try PassManager(pipeline: .level(2)).run(graph)
        let executor = try ModelExecutor(graph: graph, parameters: [:], backend: .jit, cache: .off)
        let outputs = try executor.run(contents.tensors.filter { !$0.key.hasPrefix("out") })
        for (index, actual) in outputs.enumerated() {
            let expected = try #require(contents.tensors["out\(index)"], "\(name) has no out\(index)")
            let pair = overrides[name] ?? (expected.dtype == .f64 ? [1e-12, 1e-12] : [1e-5, 1e-6])
            let compared = actual.dtype == expected.dtype ? actual : try actual.converted(to: expected.dtype)
            let mismatch = compared.mismatch(against: expected, rtol: pair[0], atol: pair[1])
            #expect(mismatch == nil, "\(name) out\(index): \(mismatch ?? "")")
        }
    }

    @Test(arguments: models)
    func modelMatchesPyTorch(file: String) throws {
        let parts = file.split(separator: ".")
        let (example, modelName) = (String(parts[0]), String(parts[1]))
        let contents = try SafeTensors.read(fixtures.appendingPathComponent("models/\(file)").path)
        let model = try #require(try exampleModels("\(example).dlm").first { $0.name == modelName })
        try PassManager(pipeline: .level(2)).run(model.graph)
        let executor = try ModelExecutor(graph: model.graph, parameters: try fixtureParameters(of: model.graph), backend: .jit, cache: .off)
        let outputs = try executor.run(contents.tensors.filter { !$0.key.hasPrefix("out") })
        #expect(executor.reports.allSatisfy { $0.failure == nil })
        for (index, actual) in outputs.enumerated() {
            let expected = try #require(contents.tensors["out\(index)"])
            let mismatch = actual.mismatch(against: expected, rtol: 1e-4, atol: 1e-5)
            #expect(mismatch == nil, "\(file) out\(index): \(mismatch ?? "")")
        }
    }
}
