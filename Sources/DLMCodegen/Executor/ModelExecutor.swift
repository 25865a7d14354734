import CLLVM
import DLMGraph
import DLMRuntime
import Foundation

/// Which backend runs a model.
public enum Backend: String, CaseIterable, Sendable {
    /// LLVM-compiled plans; an error if LLVM cannot compile a plan.
    case jit
    /// The reference interpreter only.
    case interp
    /// The JIT where it works, the interpreter for any plan (or machine) where it does not.
    case auto
}

/// Runs a model on the chosen backend. The interpreter does the planning
/// (sizes, memory, parameter-only nodes); with the JIT, each plan is compiled
/// once per set of sizes and its native code runs the nodes.
public final class ModelExecutor {
    /// The underlying interpreter (the reference; also the JIT's fallback).
    public let interpreter: Interpreter
    /// The backend asked for.
    public let backend: Backend
    private let compiler: JITPlanCompiler?
    /// Why `auto` is not using the JIT, when it is not.
    public let fallbackReason: String?

    /// Where compiled code is cached on disk.
    public enum CacheSetting: Sendable {
        /// `DLMC_CACHE_DIR`, `XDG_CACHE_HOME` or `~/.cache` (see `CompileCache`); `DLMC_CACHE=off` disables it.
        case environment
        /// A directory of the caller's.
        case directory(URL)
        /// No disk cache.
        case off
    }

    /// Prepares `graph` with its parameters. `log` receives `--verbose` notes.
    public init(graph: Graph, parameters: [String: Tensor], backend: Backend, pool: ThreadPool = .default,
                cache: CacheSetting = .environment, log: ((String) -> Void)? = nil) throws {
        interpreter = try Interpreter(graph: graph, parameters: parameters, pool: pool)
        self.backend = backend
        var compiler: JITPlanCompiler?
        var reason: String?
        if backend != .interp {
            do {
                let compileCache: CompileCache? = switch cache {
                case .environment: CompileCache.fromEnvironment()
                case .directory(let url): CompileCache(directory: url)
                case .off: nil
                }
                compiler = try JITPlanCompiler(target: try HostTarget.current(), strict: backend == .jit, cache: compileCache)
            } catch {
                if backend == .jit { throw RuntimeError("the LLVM backend is not available: \(error)") }
                reason = "LLVM could not start (\(error)); using the interpreter"
                log?("jit: \(reason ?? "")")
            }
        }
        compiler?.log = log
        if let compiler { interpreter.install(compiler) }
        self.compiler = compiler
        fallbackReason = reason
    }

    /// Runs the model on named inputs; outputs in order.
    public func run(_ inputs: [String: Tensor]) throws -> [Tensor] {
        try interpreter.run(inputs)
    }

    /// Runs the model, writing each output into the matching destination in place (`Interpreter.run(_:writingInto:)`).
    package func run(_ inputs: [String: Tensor], writingInto destinations: [Tensor?]) throws -> [Tensor] {
        try interpreter.run(inputs, writingInto: destinations)
    }

    /// One report per plan the JIT compiled (or failed to).
    public var reports: [JITReport] { compiler?.reports ?? [] }
}
