import CLLVM
import DLMGraph
import DLMRuntime

/// What the LLVM backend makes of a graph, for people: the module of its
/// plan at given sizes, before or after optimisation, and its assembly
/// (`dlmc ir --llvm`, `--llvm-unoptimized`, `--asm`).
public enum LLVMInspection {
    /// What to print.
    public enum Stage: Sendable {
        case unoptimized, optimized, assembly
    }

    /// The text of the plan of `graph` (already optimised by the graph passes) at `bindings`.
    public static func render(_ graph: Graph, bindings: [String: Int], stage: Stage, pipeline: String? = nil) throws -> String {
        let pipeline = pipeline ?? OptimizationPipeline.current
        let layout = try GraphRunner(graph: graph).planLayout(bindings: bindings)
        let target = try HostTarget.current()
        let machine = try target.makeTargetMachine()
        defer { LLVMDisposeTargetMachine(machine) }
        let (module, emitter) = try PlanEmitter.build(layout, target: target, machine: machine, entry: "dlmc_plan")
        var header = "; dlmc plan of @\(graph.name) at " + bindings.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        header += "\n; target \(target.triple), cpu \(target.cpu)\n"
        for (index, lowering) in emitter.lowerings.enumerated() {
            if case .interpreter(let reason) = lowering {
                header += "; node \(index) (\(graph.nodes[index].op.rawValue)) calls the interpreter: \(reason)\n"
            }
        }
        switch stage {
        case .unoptimized:
            return header + module.text
        case .optimized:
            try module.optimize(pipeline, machine: machine)
            return header + module.text
        case .assembly:
            try module.optimize(pipeline, machine: machine)
            return header.replacingOccurrences(of: "; ", with: "# ") + (try module.assembly(machine: machine))
        }
    }
}
