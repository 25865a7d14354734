import DLMGraph
import DLMRuntime

/// A compiled plan: the entry function in JIT memory, and the state its
/// callbacks into the interpreter need. Reused across runs, so a run
/// allocates nothing.
final class JITCompiledPlan: CompiledPlan {
    typealias Callback = @convention(c) (UnsafeMutableRawPointer?, Int64, Int32) -> Int32
    typealias Entry = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                                      UnsafeMutableRawPointer?, Callback?) -> Int32

    private let entry: Entry
    private var slots: [UnsafeMutableRawPointer?] = []
    private let context = CallbackContext()
    /// Memory for natively compiled scans (their arenas, step slices, carries).
    private let scratch: UnsafeMutableRawPointer

    init(entry: Entry, scratchBytes: Int) {
        self.entry = entry
        scratch = UnsafeMutableRawPointer.allocate(byteCount: max(64, scratchBytes), alignment: 64)
    }

    deinit { scratch.deallocate() }

    func run(_ runner: GraphRunner, bindings: [String: Int], pool: ThreadPool) throws {
        runner.slotAddresses(into: &slots)
        slots.append(scratch)
        context.runner = runner
        context.bindings = bindings
        if pool.threads > 1, context.team?.workers != pool.threads - 1 { context.team = WorkerTeam.shared(threads: pool.threads) }
        if pool.threads == 1 { context.team = nil }
        context.pool = pool
        context.error = nil
        defer { context.runner = nil }
        let status = slots.withUnsafeMutableBufferPointer { table in
            entry(runner.arenaAddress, table.baseAddress, Unmanaged.passUnretained(context).toOpaque(), jitCallback)
        }
        if status != 0 { throw context.error ?? RuntimeError("compiled code for @\(runner.graph.name) failed (status \(status))") }
    }
}

/// What a callback from compiled code needs to run an interpreter kernel.
final class CallbackContext {
    var runner: GraphRunner?
    var bindings: [String: Int] = [:]
    var pool = ThreadPool(threads: 1)
    /// The worker team for `pool`'s threads, looked up once per run, not per split kernel.
    var team: WorkerTeam?
    var error: (any Error)?
}

/// Runs node `index` (mode 0) or the head of group `index` (mode 1) on the
/// interpreter; returns 0, or 1 with the error kept in the context.
private let jitCallback: JITCompiledPlan.Callback = { opaque, index, mode in
    guard let opaque else { return 2 }
    let context = Unmanaged<CallbackContext>.fromOpaque(opaque).takeUnretainedValue()
    guard let runner = context.runner else { return 2 }
    // Interpreter kernels bring their own threads (and OpenBLAS its); spinning workers would take their cores.
    context.team?.rest()
    do {
        if mode == 1 {
            try runner.executeHead(ofGroup: Int(index), bindings: context.bindings, pool: context.pool)
        } else {
            try runner.executeNode(Int(index), bindings: context.bindings, pool: context.pool)
        }
        return 0
    } catch {
        context.error = error
        return 1
    }
}
