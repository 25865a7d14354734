import ArgumentParser
import DLMGraph
import DLMSyntax
import Foundation

extension DLMC {
    /// `dlmc check`: parse, lower and check files, then summarise each model.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check .dlm files and print a summary of each model.",
            discussion: "Parses every file, lowers its models to the graph IR and infers every shape. Errors from all files are reported together."
        )

        @ArgumentParser.Argument(help: "The .dlm files to check.")
        var files: [String]

        @Flag(name: .long, help: "Print only diagnostics, not model summaries.")
        var quiet = false

        @Flag(name: .customLong("debug-diagnostic-names"), help: "Append each diagnostic's stable identifier.")
        var debugDiagnosticNames = false

        mutating func run() throws {
            var frontend = Frontend()
            frontend.showsDiagnosticNames = debugDiagnosticNames
            var summaries: [String] = []
            for path in files {
                guard let module = frontend.compile(path) else { continue }
                if !quiet {
                    summaries += module.models.map { ModelSummaryTable(model: $0, path: path).render() }
                }
            }
            frontend.flushDiagnostics()
            if frontend.diagnostics.hasErrors { throw ExitCode(1) }
            if !summaries.isEmpty { print(summaries.joined(separator: "\n"), terminator: "") }
        }
    }
}
