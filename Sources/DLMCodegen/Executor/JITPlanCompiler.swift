import CLLVM
import DLMGraph
import DLMRuntime
import Foundation

/// What compiling one plan produced: how each node was lowered and how long it took.
public struct JITReport: Sendable {
    /// The graph compiled (the model, or a scan body).
    public let graphName: String
    /// Symbol sizes the plan was compiled for.
    public let bindings: [String: Int]
    /// Nodes compiled to native loops or BLAS calls.
    public let nativeNodes: Int
    /// Nodes that call the interpreter's kernel, with the reason.
    public let interpretedNodes: [(node: Int, op: String, reason: String)]
    /// Wall time for emitting, optimising and linking, in seconds.
    public let compileSeconds: Double
    /// Set when the plan could not be compiled at all and runs on the interpreter.
    public let failure: String?
}

/// The LLVM backend as a `PlanCompiler`: each new plan (a graph at concrete
/// sizes) becomes one module with one entry function, optimised for the
/// host CPU and linked by ORC. Failures are reported, never fatal: under
/// `auto` the plan then runs on the interpreter.
final class JITPlanCompiler: PlanCompiler {
    let target: HostTarget
    private let session: JITSession
    private let pipeline: String
    private let strict: Bool
    private var counter = 0
    private(set) var reports: [JITReport] = []
    /// Called with a note per compiled plan (for `--verbose`).
    var log: ((String) -> Void)?

    init(target: HostTarget, pipeline: String = "default<O3>", strict: Bool) throws {
        self.target = target
        self.pipeline = pipeline
        self.strict = strict
        session = try JITSession(target: target)
    }

    /// Set when a plan failed to compile under `--backend jit`.
    private(set) var strictFailure: String?

    func compile(_ layout: PlanLayout) -> (any CompiledPlan)? {
        let start = DispatchTime.now().uptimeNanoseconds
        counter += 1
        let name = "dlmc_plan_\(counter)"
        do {
            let machine = try target.makeTargetMachine()
            defer { LLVMDisposeTargetMachine(machine) }
            let module = CodeModule(name: layout.graph.name, target: target, machine: machine)
            let emitter = PlanEmitter(module: module, layout: layout)
            try emitter.emit(entry: name)
            try module.verify()
            try module.optimize(pipeline, machine: machine)
            try session.add(module)
            let address = try session.address(of: name)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            record(layout, emitter.lowerings, seconds: seconds, failure: nil)
            return JITCompiledPlan(entry: unsafeBitCast(address, to: JITCompiledPlan.Entry.self), scratchBytes: emitter.scratchBytes)
        } catch {
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            record(layout, [], seconds: seconds, failure: "\(error)")
            if strict { strictFailure = "\(error)" }
            return strict ? FailedPlan(message: "\(error)") : nil
        }
    }

    private func record(_ layout: PlanLayout, _ lowerings: [PlanEmitter.NodeLowering], seconds: Double, failure: String?) {
        var interpreted: [(Int, String, String)] = []
        var native = 0
        for (index, lowering) in lowerings.enumerated() {
            switch lowering {
            case .native, .nativeEpilogue: native += 1
            case .interpreter(let reason): interpreted.append((index, layout.graph.nodes[index].op.rawValue, reason))
            case .invariant: break
            }
        }
        let report = JITReport(graphName: layout.graph.name, bindings: layout.bindings, nativeNodes: native,
                               interpretedNodes: interpreted, compileSeconds: seconds, failure: failure)
        reports.append(report)
        guard let log else { return }
        let sizes = layout.bindings.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        if let failure {
            log("jit: @\(layout.graph.name) [\(sizes)] not compiled (\(failure)); \(strict ? "failing" : "interpreting it")")
            return
        }
        log(String(format: "jit: @%@ [%@] compiled in %.1f ms: %ld nodes native, %ld on the interpreter",
                   layout.graph.name, sizes, seconds * 1e3, native, interpreted.count))
        for (node, op, reason) in interpreted { log("jit:   node \(node) (\(op)) runs on the interpreter: \(reason)") }
    }
}

/// A plan that could not compile under `--backend jit`: running it is an error.
private final class FailedPlan: CompiledPlan {
    let message: String
    init(message: String) { self.message = message }
    func run(_ runner: GraphRunner, bindings: [String: Int], pool: ThreadPool) throws {
        throw RuntimeError("the LLVM backend could not compile @\(runner.graph.name): \(message)")
    }
}
