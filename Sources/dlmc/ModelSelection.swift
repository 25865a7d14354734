import ArgumentParser
import DLMGraph
import DLMSyntax
import Foundation

/// Options shared by commands that work on one model of a file.
struct ModelOptions: ParsableArguments {
    @ArgumentParser.Argument(help: "The .dlm file.")
    var file: String

    @Option(name: .long, help: "The model to use, when the file has several.")
    var model: String?

    @Flag(name: .customLong("debug-diagnostic-names"), help: "Append each diagnostic's stable identifier.")
    var debugDiagnosticNames = false

    /// Compiles the file and picks the model, printing diagnostics; exits 1 on errors.
    func load() throws -> LoweredModel {
        var frontend = Frontend()
        frontend.showsDiagnosticNames = debugDiagnosticNames
        let module = frontend.compile(file)
        var chosen: LoweredModel?
        if let module {
            let names = module.models.map(\.name).joined(separator: ", ")
            if let model {
                chosen = module.models.first { $0.name == model }
                if chosen == nil { frontend.diagnostics.error(.unknownModelOption(model, names), at: nil) }
            } else if module.models.count == 1 {
                chosen = module.models[0]
            } else if module.models.isEmpty {
                frontend.diagnostics.error(.noModels(file), at: nil)
            } else {
                frontend.diagnostics.error(.ambiguousModel(file, names), at: nil)
            }
        }
        frontend.flushDiagnostics()
        guard let chosen, !frontend.diagnostics.hasErrors else { throw ExitCode(1) }
        return chosen
    }
}

extension DiagnosticMessage {
    static func noModels(_ path: String) -> Self { .init(id: "no_models", text: "'\(path)' declares no model") }
    static func ambiguousModel(_ path: String, _ names: String) -> Self {
        .init(id: "ambiguous_model", text: "'\(path)' declares several models (\(names)); choose one with --model")
    }
}

/// Prints a runtime or file error the way diagnostics look, and exits 1.
func fail(_ error: Error) -> ExitCode {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    return ExitCode(1)
}
