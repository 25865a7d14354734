import DLMGraph
import DLMRuntime
import DLMSyntax
import Foundation

/// The package root, from this file's path.
public let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Lowers `.dlm` source text and returns its models; diagnostics become the error.
public func lowerModels(_ text: String, path: String = "test.dlm") throws -> [LoweredModel] {
    let diagnostics = DiagnosticEngine()
    let unit = Parser.parse(SourceFile(path: path, text: text), diagnostics: diagnostics)
    let module = Lowering.lower(unit, diagnostics: diagnostics)
    guard !diagnostics.hasErrors else { throw RuntimeError(DiagnosticRenderer().render(diagnostics.diagnostics)) }
    return module.models
}

/// The models of an example file.
public func exampleModels(_ file: String) throws -> [LoweredModel] {
    try lowerModels(String(contentsOf: packageRoot.appendingPathComponent("examples/\(file)"), encoding: .utf8), path: file)
}
