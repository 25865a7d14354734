import Dispatch
import Foundation

/// Splits loops across the machine's cores. A knob, not a global: the
/// interpreter takes one, and `threads` defaults to the number of cores
/// (`DLMC_THREADS` overrides it).
public struct ThreadPool: Sendable {
    /// How many threads a parallel loop may use.
    public let threads: Int

    /// A pool of `threads` (at least 1).
    public init(threads: Int) {
        self.threads = max(1, threads)
    }

    /// The default: `DLMC_THREADS` if set, else the active processor count.
    public static var `default`: ThreadPool {
        if let text = ProcessInfo.processInfo.environment["DLMC_THREADS"], let n = Int(text), n > 0 {
            return ThreadPool(threads: n)
        }
        return ThreadPool(threads: ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Runs `body` over disjoint ranges covering `0..<count`, in parallel
    /// when there are at least two ranges of `minimumWork` items.
    public func parallelFor(_ count: Int, minimumWork: Int = 1, _ body: @Sendable (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let parts = min(threads, max(1, count / max(1, minimumWork)))
        if parts <= 1 {
            body(0..<count)
            return
        }
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let start = count * part / parts
            let end = count * (part + 1) / parts
            if start < end { body(start..<end) }
        }
    }
}
