import Dispatch
import DLMRuntime

/// `dlmc_parallel_for`, the one runtime function compiled plans call: it
/// splits a kernel's outer loop over the executor's threads (the context's
/// pool) and returns the first non-zero status. Kernels receive the context
/// too (a scan's kernel hands it to its body). Without a context or with one
/// thread, the kernel runs whole on this thread.
enum ParallelRuntime {
    typealias Kernel = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?, Int64, Int64,
                                       UnsafeMutableRawPointer?) -> Int32
    typealias ParallelFor = @convention(c) (Kernel?, UnsafeMutableRawPointer?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                                            Int64, UnsafeMutableRawPointer?) -> Int32

    static let symbol = "dlmc_parallel_for"

    static let parallelFor: ParallelFor = { kernel, arena, slots, count, context in
        guard let kernel else { return 2 }
        let callbackContext = context.map { Unmanaged<CallbackContext>.fromOpaque($0).takeUnretainedValue() }
        let parts = Int(min(Int64(callbackContext?.pool.threads ?? 1), count))
        guard parts > 1, let team = callbackContext?.team else { return kernel(arena, slots, 0, count, context) }
        if let status = team.run(kernel, arena: arena, slots: slots, count: count, context: context, parts: parts) {
            return status
        }
        // The team is running another executor's kernel: split through Dispatch instead.
        nonisolated(unsafe) let (sharedArena, sharedSlots, sharedContext) = (arena, slots, context)
        return withUnsafeTemporaryAllocation(of: Int32.self, capacity: parts) { statuses in
            nonisolated(unsafe) let results = statuses
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                let begin = count * Int64(part) / Int64(parts), end = count * Int64(part + 1) / Int64(parts)
                results[part] = begin < end ? kernel(sharedArena, sharedSlots, begin, end, sharedContext) : 0
            }
            return statuses.first { $0 != 0 } ?? 0
        }
    }

    /// The function's address, for the JIT's symbol table.
    static var address: UInt64 { UInt64(UInt(bitPattern: unsafeBitCast(parallelFor, to: UnsafeRawPointer.self))) }
}
