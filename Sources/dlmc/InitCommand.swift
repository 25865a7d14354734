import ArgumentParser
import DLMRuntime
import Foundation

extension DLMC {
    /// `dlmc init`: write freshly initialised parameters.
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a model's freshly initialised parameters to a safetensors file.",
            discussion: "Each parameter is drawn from its initializer with a stream seeded by --seed and the parameter's name, so the same seed always gives the same weights."
        )

        @OptionGroup var options: ModelOptions

        @Option(name: .long, help: "The safetensors file to write.")
        var output: String

        @Option(name: .long, help: "Seed for the initializers.")
        var seed: UInt64 = 0

        mutating func run() throws {
            let model = try options.load()
            do {
                let parameters = try Interpreter.initialParameters(of: model.graph, seed: seed)
                try SafeTensors.write(SafeTensors.Contents(tensors: parameters, metadata: ["model": model.name, "seed": String(seed)]), to: output)
                let total = parameters.values.reduce(0) { $0 + $1.count }
                print("wrote \(parameters.count) parameters (\(ModelSummaryTable.grouped(total)) values) of \(model.name) to \(output)")
            } catch {
                throw fail(error)
            }
        }
    }
}
