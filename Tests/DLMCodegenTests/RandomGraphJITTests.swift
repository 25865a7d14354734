import DLMCodegen
import DLMGraph
import DLMRuntime
import DLMTestSupport
import Foundation
import Testing

/// The JIT against the interpreter on whole programs: DLMPassesTests' corpus
/// of 60 seeded random programs, and every model of every example.
@Suite struct RandomGraphJITTests {
    /// The same programs as `RandomGraphTests` (DLMPassesTests), at -O2, at the batch size that test uses.
    @Test(arguments: 0..<60)
    func randomProgramMatchesInterpreter(seed: Int) throws {
        let source = RandomProgram.generate(seed: UInt64(seed))
        var random = RandomSource(seed: UInt64(seed) &+ 1000)
        let batch = 1 + Int(random.next() % 4)
        try expectJITMatchesInterpreter({ try #require(try lowerModels(source, path: "random\(seed).dlm").first).graph },
                                        bindings: ["B": batch], level: 2, seed: UInt64(seed), note: source)
    }

    /// Every `.dlm` file in examples/.
    static let exampleFiles: [String] = {
        let directory = packageRoot.appendingPathComponent("examples")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".dlm") }.sorted()
    }()

    @Test func findsTheExamples() {
        #expect(Self.exampleFiles.count >= 12, "\(Self.exampleFiles)")
    }

    /// Every model of every example at batch 1 and 3 (one executor, a plan each) with `T` = 5, at -O2
    /// (parameters drawn at random: initialising the recurrent ones orthogonally is slow in a debug build).
    @Test(arguments: exampleFiles)
    func exampleMatchesInterpreter(file: String) throws {
        let models = try exampleModels(file)
        #expect(!models.isEmpty)
        for index in models.indices {
            try expectJITMatchesInterpreter({ try exampleModels(file)[index].graph },
                                            bindingSets: [1, 3].map { ["B": $0, "N": $0, "T": 5] }, quickParameters: true,
                                            note: "\(file) model \(models[index].name)")
        }
    }
}
