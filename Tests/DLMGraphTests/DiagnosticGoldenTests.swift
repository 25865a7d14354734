import DLMGraph
import DLMSyntax
import Foundation
import Testing

/// Golden tests for diagnostics: every `Diagnostics/<name>.dlm` is a small
/// program with a mistake, and `Diagnostics/<name>.expected` is exactly what
/// `dlmc check` prints for it (with the path `Diagnostics/<name>.dlm`).
/// Run with `DLMC_UPDATE_GOLDEN=1` to rewrite the `.expected` files, then
/// read the diff.
@Suite struct DiagnosticGoldenTests {
    static let directory = packageRoot.appendingPathComponent("Tests/DLMGraphTests/Diagnostics")

    /// The names of the corpus files, without `.dlm`, sorted.
    static let names: [String] = {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".dlm") }.map { String($0.dropLast(4)) }.sorted()
    }()

    /// Parses and lowers a corpus file the way `dlmc check` does (lowering
    /// only a file that parsed cleanly) and renders its diagnostics.
    static func diagnose(_ name: String) throws -> [Diagnostic] {
        let bytes = try [UInt8](Data(contentsOf: directory.appendingPathComponent("\(name).dlm")))
        let engine = DiagnosticEngine()
        let unit = Parser.parse(SourceFile(path: "Diagnostics/\(name).dlm", bytes: bytes), diagnostics: engine)
        if !engine.hasErrors {
            _ = Lowering.lower(unit, diagnostics: engine)
        }
        return engine.sorted
    }

    @Test func corpusHasAtLeastFortyPrograms() {
        #expect(Self.names.count >= 40, "only \(Self.names.count) programs in \(Self.directory.path)")
    }

    @Test(arguments: names)
    func matchesExpectedDiagnostics(name: String) throws {
        let diagnostics = try Self.diagnose(name)
        #expect(diagnostics.contains { $0.severity == .error }, "\(name).dlm produced no error")
        try expectGolden(DiagnosticRenderer().render(diagnostics), "Diagnostics/\(name).expected")
    }

    @Test func threeIndependentMistakesGiveThreeErrors() throws {
        for name in ["three_independent_mistakes", "three_syntax_mistakes"] {
            let errors = try Self.diagnose(name).filter { $0.severity == .error }
            #expect(errors.count == 3, "\(name).dlm: \(render(errors))")
        }
    }
}
