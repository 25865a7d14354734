import ArgumentParser
import DLMGraph
import DLMSyntax
import Foundation

extension DLMC {
    /// `dlmc ir`: print the graph IR of a model.
    struct IR: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ir",
            abstract: "Print the graph IR of the models in a .dlm file.",
            discussion: "The textual IR is stable enough for golden tests and can be read back by the IR parser."
        )

        @ArgumentParser.Argument(help: "The .dlm file.")
        var file: String

        @Option(name: .long, help: "Print only this model (default: every model in the file).")
        var model: String?

        @Flag(name: .customLong("locations"), help: "Annotate each op with the source location it came from.")
        var locations = false

        @Flag(name: .customLong("debug-diagnostic-names"), help: "Append each diagnostic's stable identifier.")
        var debugDiagnosticNames = false

        mutating func run() throws {
            var frontend = Frontend()
            frontend.showsDiagnosticNames = debugDiagnosticNames
            let module = frontend.compile(file)
            var models = module?.models ?? []
            if let model, let module {
                models = module.models.filter { $0.name == model }
                if models.isEmpty {
                    frontend.diagnostics.error(.unknownModelOption(model, module.models.map(\.name).joined(separator: ", ")), at: nil)
                }
            }
            frontend.flushDiagnostics()
            if frontend.diagnostics.hasErrors { throw ExitCode(1) }
            let printer = GraphPrinter(printsLocations: locations)
            print(models.map { printer.print($0.graph) }.joined(separator: "\n"), terminator: "")
        }
    }
}
