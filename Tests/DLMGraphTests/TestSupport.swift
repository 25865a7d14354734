import DLMGraph
import DLMSyntax
import Foundation
import Testing

/// The package's root directory, found from this file's path.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Parses and lowers source text; returns the module and every diagnostic rendered.
func lowerSource(_ text: String, path: String = "test.dlm") -> (module: LoweredModule, diagnostics: [Diagnostic]) {
    let diagnostics = DiagnosticEngine()
    let unit = Parser.parse(SourceFile(path: path, text: text), diagnostics: diagnostics)
    let module = Lowering.lower(unit, diagnostics: diagnostics)
    return (module, diagnostics.sorted)
}

/// Lowers an example file from `examples/`.
func lowerExample(_ name: String) throws -> LoweredModule {
    let url = packageRoot.appendingPathComponent("examples").appendingPathComponent(name)
    let bytes = try [UInt8](Data(contentsOf: url))
    let diagnostics = DiagnosticEngine()
    let unit = Parser.parse(SourceFile(path: "examples/\(name)", bytes: bytes), diagnostics: diagnostics)
    let module = Lowering.lower(unit, diagnostics: diagnostics)
    #expect(diagnostics.diagnostics.isEmpty, "\(DiagnosticRenderer().render(diagnostics.diagnostics))")
    return module
}

/// Renders diagnostics the way `dlmc` prints them.
func render(_ diagnostics: [Diagnostic]) -> String {
    DiagnosticRenderer().render(diagnostics)
}

/// Compares `actual` with a golden file under `Tests/DLMGraphTests/<relativePath>`;
/// with `DLMC_UPDATE_GOLDEN=1` in the environment, rewrites the file instead.
func expectGolden(_ actual: String, _ relativePath: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let url = packageRoot.appendingPathComponent("Tests/DLMGraphTests").appendingPathComponent(relativePath)
    if ProcessInfo.processInfo.environment["DLMC_UPDATE_GOLDEN"] != nil {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(actual.utf8).write(to: url, options: .atomic)
        return
    }
    guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
        Issue.record("missing golden file \(relativePath); run with DLMC_UPDATE_GOLDEN=1 to create it", sourceLocation: sourceLocation)
        return
    }
    if expected != actual {
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let line = (0..<min(e.count, a.count)).first { e[$0] != a[$0] } ?? min(e.count, a.count)
        let want = line < e.count ? String(e[line]) : "<end>"
        let got = line < a.count ? String(a[line]) : "<end>"
        Issue.record("\(relativePath) differs at line \(line + 1):\n  expected: \(want)\n  actual:   \(got)", sourceLocation: sourceLocation)
    }
}
