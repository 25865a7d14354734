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
    /// True when the machine code came from the on-disk cache.
    public let cached: Bool
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
    /// Entry points already linked in this session, by plan key.
    private var loaded: [String: UnsafeRawPointer] = [:]
    private let cache: CompileCache?
    /// Changes whenever the emitter's output for the same plan changes, so old cache entries are not reused.
    static let codegenVersion = "dlmc-codegen-4"
    private(set) var reports: [JITReport] = []
    /// Called with a note per compiled plan (for `--verbose`).
    var log: ((String) -> Void)?

    init(target: HostTarget, pipeline: String = OptimizationPipeline.current, strict: Bool, cache: CompileCache? = CompileCache.fromEnvironment()) throws {
        self.target = target
        self.cache = cache
        self.pipeline = pipeline
        self.strict = strict
        session = try JITSession(target: target)
        try session.define(ParallelRuntime.symbol, address: ParallelRuntime.address)
    }

    func compile(_ layout: PlanLayout) -> (any CompiledPlan)? {
        let start = DispatchTime.now().uptimeNanoseconds
        do {
            let machine = try target.makeTargetMachine()
            defer { LLVMDisposeTargetMachine(machine) }
            let (module, emitter) = try PlanEmitter.build(layout, target: target, machine: machine, entry: "dlmc_plan")
            // Identical plans share code: within this session by key, across runs through the disk cache.
            let key = CompileCache.key([module.text, pipeline, target.triple, target.cpu, target.features, target.llvmVersion,
                                        Self.codegenVersion] + LLVMOptions.current)
            let symbol = "dlmc_plan_\(key)"
            var source = "compiled"
            if loaded[key] == nil {
                var linked = false
                if let object = cache?.load(key) {
                    do {
                        try session.addObject(object, name: symbol)
                        loaded[key] = try session.address(of: symbol)
                        linked = true
                        source = "from the cache"
                    } catch {
                        log?("jit: ignoring a bad cache entry \(key): \(error)")
                    }
                }
                if !linked {
                    LLVMSetValueName2(LLVMGetNamedFunction(module.module, "dlmc_plan"), symbol, symbol.utf8.count)
                    try module.optimize(pipeline, machine: machine)
                    let object = try module.objectFile(machine: machine)
                    cache?.store(key, object: object)
                    try session.addObject(object, name: symbol)
                    loaded[key] = try session.address(of: symbol)
                }
            } else {
                source = "shared with an identical plan"
            }
            guard let address = loaded[key] else { throw LLVMError("no code for \(symbol)") }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            record(layout, emitter.lowerings, seconds: seconds, failure: nil, source: source)
            return JITCompiledPlan(entry: unsafeBitCast(address, to: JITCompiledPlan.Entry.self), scratchBytes: emitter.scratchBytes)
        } catch {
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            record(layout, [], seconds: seconds, failure: "\(error)", source: "")
            return strict ? FailedPlan(message: "\(error)") : nil
        }
    }

    private func record(_ layout: PlanLayout, _ lowerings: [PlanEmitter.NodeLowering], seconds: Double, failure: String?, source: String) {
        var interpreted: [(Int, String, String)] = []
        var headsOnInterpreter: [Int] = []
        var native = 0
        for (index, lowering) in lowerings.enumerated() {
            switch lowering {
            case .native: native += 1
            case .nativeEpilogue:
                native += 1
                headsOnInterpreter.append(index)
            case .interpreter(let reason): interpreted.append((index, layout.graph.nodes[index].op.rawValue, reason))
            case .invariant: break
            }
        }
        let report = JITReport(graphName: layout.graph.name, bindings: layout.bindings, nativeNodes: native,
                               interpretedNodes: interpreted, compileSeconds: seconds, failure: failure, cached: source == "from the cache")
        reports.append(report)
        guard let log else { return }
        let sizes = layout.bindings.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        if let failure {
            log("jit: @\(layout.graph.name) [\(sizes)] not compiled (\(failure)); \(strict ? "failing" : "interpreting it")")
            return
        }
        log(String(format: "jit: @%@ [%@] %@ in %.1f ms: %ld nodes native, %ld on the interpreter",
                   layout.graph.name, sizes, source, seconds * 1e3, native, interpreted.count))
        for (node, op, reason) in interpreted { log("jit:   node \(node) (\(op)) runs on the interpreter: \(reason)") }
        for node in headsOnInterpreter { log("jit:   node \(node) (fused) convolves with the interpreter's im2col + OpenBLAS; its epilogue is compiled") }
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
