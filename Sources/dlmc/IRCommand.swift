import ArgumentParser
import DLMCodegen
import DLMGraph
import DLMPasses
import DLMSyntax
import DLMTraining
import Foundation

extension DLMC {
    /// `dlmc ir`: print the graph IR of a model, optionally after optimisation.
    struct IR: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ir",
            abstract: "Print the graph IR of the models in a .dlm file.",
            discussion: """
            The textual IR is stable enough for golden tests and can be read back by the IR parser. \
            With -O1/-O2 or --passes, the graph is optimised first; --print-after shows it after chosen passes \
            and --stats reports what each pass did. --llvm, --llvm-unoptimized and --asm show what the LLVM \
            backend makes of the optimised graph at concrete sizes (--size B=64; symbols default to 1).
            """
        )

        @ArgumentParser.Argument(help: "The .dlm file.")
        var file: String

        @Option(name: .long, help: "Print only this model (default: every model in the file).")
        var model: String?

        @Option(name: .customShort("O", allowingJoined: true), help: ArgumentHelp("Optimisation level: 0, 1 or 2.", valueName: "level"))
        var level: Int = 0

        @Option(name: .long, help: "A custom pass list instead of -O, e.g. simplify,fold,cse,dce.")
        var passes: String?

        @Option(name: .long, help: "Compile for inference (dropout is removed) or training.")
        var mode: CompilationMode = .inference

        @Flag(name: .customLong("train-step"), help: "Print the model's train step (forward, loss, backward and optimiser update, as its train block says) instead of the model.")
        var trainStep = false

        @Option(name: .customLong("print-after"), help: "Print the IR after this pass (or 'all').")
        var printAfter: String?

        @Flag(name: .long, help: "Print per-pass statistics (ops removed, time) to stderr.")
        var stats = false

        @Flag(name: .customLong("locations"), help: "Annotate each op with the source location it came from.")
        var locations = false

        @Flag(name: .customLong("debug-diagnostic-names"), help: "Append each diagnostic's stable identifier.")
        var debugDiagnosticNames = false

        @Flag(name: .customLong("llvm"), help: "Print the LLVM IR of the plan after LLVM's optimisation (vectorised loops).")
        var llvm = false

        @Flag(name: .customLong("llvm-unoptimized"), help: "Print the LLVM IR of the plan as dlmc emits it.")
        var llvmUnoptimized = false

        @Flag(name: .customLong("asm"), help: "Print the plan's machine code for this CPU.")
        var assembly = false

        @Option(name: .customLong("size"), help: ArgumentHelp("A symbolic size for --llvm/--asm, as NAME=N (repeatable).", valueName: "name=n"))
        var sizes: [String] = []

        func validate() throws {
            guard (0...2).contains(level) else { throw ValidationError("-O takes 0, 1 or 2, not \(level)") }
            guard [llvm, llvmUnoptimized, assembly].filter({ $0 }).count <= 1 else {
                throw ValidationError("choose one of --llvm, --llvm-unoptimized and --asm")
            }
            _ = try sizeBindings()
            if let printAfter, printAfter != "all", Pipeline.registry[printAfter] == nil {
                throw ValidationError("unknown pass '\(printAfter)' for --print-after (passes: \(Pipeline.registry.keys.sorted().joined(separator: ", ")))")
            }
            if let passes {
                do { _ = try Pipeline.parse(passes) } catch { throw ValidationError("\(error)") }
            }
        }

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
            let pipeline = try passes.map(Pipeline.parse) ?? Pipeline.level(level)
            var output: [String] = []
            for model in models {
                let graph = try trainStep ? Self.trainStepGraph(of: model) : model.graph
                var manager = PassManager(pipeline: pipeline, mode: trainStep ? .training : mode)
                let printAfter = self.printAfter
                manager.afterPass = { pass, graph in
                    if printAfter == "all" || printAfter == pass {
                        print("// after \(pass)\n" + printer.print(graph), terminator: "")
                    }
                }
                let nodesBefore = graph.nodes.count
                let records = try manager.run(graph)
                if stats {
                    var report = "// \(graph.name): \(nodesBefore) ops before, \(graph.nodes.count) after\n"
                    for record in records {
                        let statistics = record.statistics
                        let name = record.pass.padding(toLength: max(18, record.pass.count), withPad: " ", startingAt: 0)
                        report += "//   \(name)" + String(format: " removed %4ld  fused %4ld  ops after %4ld  %8.3f ms",
                                                              statistics.opsRemoved, statistics.opsFused, record.nodesAfter, record.seconds * 1e3)
                        report += statistics.bytesSaved == 0 ? "\n" : "  saves \(statistics.bytesSaved) bytes\n"
                    }
                    FileHandle.standardError.write(Data(report.utf8))
                }
                if let stage = llvmStage {
                    var bindings = Dictionary(graph.inputs.flatMap { graph.type(of: $0).shape.symbols }.map { ($0, 1) }) { first, _ in first }
                    bindings.merge(try sizeBindings()) { $1 }
                    do {
                        output.append(try LLVMInspection.render(graph, bindings: bindings, stage: stage))
                    } catch {
                        FileHandle.standardError.write(Data("error: cannot compile '\(model.name)' with LLVM: \(error)\n".utf8))
                        throw ExitCode(1)
                    }
                    continue
                }
                output.append(printer.print(graph))
            }
            print(output.joined(separator: "\n"), terminator: "")
        }
    }
}

extension DLMC.IR {
    /// The train step of a model with a train block; an error exits 1.
    static func trainStepGraph(of model: LoweredModel) throws -> Graph {
        guard let config = model.training else {
            throw fail(TrainingError("model '\(model.name)' has no train block, so it has no train step"))
        }
        do {
            return try TrainStep.build(model, config: config, training: true).graph
        } catch let error as OpError {
            throw report(TrainingError(error.message, at: error.location), file: "")
        }
    }

    /// The LLVM output asked for, if any.
    var llvmStage: LLVMInspection.Stage? {
        llvm ? .optimized : llvmUnoptimized ? .unoptimized : assembly ? .assembly : nil
    }

    /// `--size NAME=N` options as bindings.
    func sizeBindings() throws -> [String: Int] {
        var bindings: [String: Int] = [:]
        for size in sizes {
            let parts = size.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let value = Int(parts[1]), value >= 0 else {
                throw ValidationError("--size takes NAME=N with N a non-negative integer, got '\(size)'")
            }
            bindings[parts[0]] = value
        }
        return bindings
    }
}

extension CompilationMode: ExpressibleByArgument {}
