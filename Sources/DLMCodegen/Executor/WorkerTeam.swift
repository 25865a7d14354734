import CSpinWait
import Foundation
import Synchronization

/// Threads that stay awake between a compiled plan's parallel kernels, so
/// splitting a kernel costs a store and a few cache misses instead of a
/// dispatch: a recurrent model runs several split kernels per time step,
/// thousands per run, each a few microseconds long. Measured on the LSTM
/// classifier at batch 1 (T = 100, 2 threads): `DispatchQueue.concurrentPerform`
/// per kernel made the run twice as slow as not splitting at all.
///
/// The caller runs part 0 itself while each worker runs one other part. A
/// worker spins on the team's generation counter (with the CPU's spin-wait
/// hint) for `spinNanoseconds` after its last part, then sleeps on a
/// condition until the next one; sleeping workers cost nothing, so the team
/// lives as long as the process.
/// One parallel loop runs at a time: a caller that finds the team busy
/// (another executor on another thread) runs its loop some other way.
final class WorkerTeam: @unchecked Sendable {
    /// One split kernel: part `p` of `parts` runs `kernel` over its share of `0..<count`.
    private struct Job {
        var kernel: ParallelRuntime.Kernel?
        var arena: UnsafeMutableRawPointer?
        var slots: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
        var context: UnsafeMutableRawPointer?
        var count: Int64 = 0
        var parts = 0
        var statuses: UnsafeMutablePointer<Int32>?

        func run(part: Int) {
            guard part < parts, let kernel, let statuses else { return }
            let begin = count * Int64(part) / Int64(parts), end = count * Int64(part + 1) / Int64(parts)
            statuses[part] = begin < end ? kernel(arena, slots, begin, end, context) : 0
        }
    }

    /// Workers besides the calling thread.
    let workers: Int
    private let generation = Atomic<Int>(0)
    private let unfinished = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    /// Bumped by `rest()`: spinning workers sleep at once instead of at their deadline.
    private let restRequests = Atomic<Int>(0)
    private let wake = NSCondition()
    /// Written by the caller before `generation` is released, read by workers after acquiring it.
    private nonisolated(unsafe) var job = Job()
    /// How long a worker spins after its last part before it sleeps. Waking a
    /// sleeping worker took longer than a small model's whole run (measured with a
    /// 60 µs spin: MLP b1 0.10 ms against 0.006 with workers awake), so workers
    /// stay awake across back-to-back runs, and give the core back 2 ms after the last.
    private static let spinNanoseconds: UInt64 = 2_000_000

    private init(workers: Int) {
        self.workers = workers
        for index in 0..<workers {
            let thread = Thread { [self] in self.work(part: index + 1) }
            thread.name = "dlmc-worker-\(index + 1)"
            thread.start()
        }
    }

    private static let teams = Mutex<[Int: WorkerTeam]>([:])

    /// The process's team for `threads` threads (the caller and `threads - 1` workers).
    static func shared(threads: Int) -> WorkerTeam {
        teams.withLock { teams in
            if let team = teams[threads] { return team }
            let team = WorkerTeam(workers: threads - 1)
            teams[threads] = team
            return team
        }
    }

    /// Splits `0..<count` into `parts` (at most `workers + 1`) shares and runs `kernel` on
    /// each, share 0 on this thread; the first non-zero status, or nil, having run
    /// nothing, when the team is busy.
    func run(_ kernel: ParallelRuntime.Kernel, arena: UnsafeMutableRawPointer?, slots: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
             count: Int64, context: UnsafeMutableRawPointer?, parts: Int) -> Int32? {
        precondition(parts <= workers + 1, "more parts than threads")
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return nil }
        defer { busy.store(false, ordering: .releasing) }
        // Statuses on the stack: a compiled plan's run allocates nothing.
        return withUnsafeTemporaryAllocation(of: Int32.self, capacity: parts) { statuses in
            job = Job(kernel: kernel, arena: arena, slots: slots, context: context, count: count, parts: parts, statuses: statuses.baseAddress)
            unfinished.store(workers, ordering: .relaxed)
            generation.add(1, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                wake.lock()
                wake.broadcast()
                wake.unlock()
            }
            job.run(part: 0)
            while unfinished.load(ordering: .acquiring) > 0 { dlmc_spin_wait_hint() }
            job = Job()
            return statuses.first { $0 != 0 } ?? 0
        }
    }

    /// Sends spinning workers to sleep now: the caller is about to run work of
    /// its own that wants the cores (an interpreter kernel with its own threads,
    /// OpenBLAS's among them). The next `run` wakes them.
    func rest() {
        restRequests.add(1, ordering: .releasing)
    }

    private func work(part: Int) {
        var seen = 0
        while true {
            var checks = 0
            var deadline: UInt64 = 0
            let rests = restRequests.load(ordering: .acquiring)
            while generation.load(ordering: .acquiring) == seen {
                checks += 1
                dlmc_spin_wait_hint()
                // The clock (and a request to rest) is read every few thousand checks only.
                guard checks & 4095 == 0 else { continue }
                let now = DispatchTime.now().uptimeNanoseconds
                if deadline == 0 { deadline = now + Self.spinNanoseconds }
                if now < deadline && restRequests.load(ordering: .acquiring) == rests { continue }
                sleepers.add(1, ordering: .sequentiallyConsistent)
                wake.lock()
                while generation.load(ordering: .sequentiallyConsistent) == seen { wake.wait() }
                wake.unlock()
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
            }
            seen = generation.load(ordering: .acquiring)
            job.run(part: part)
            unfinished.subtract(1, ordering: .releasing)
        }
    }
}
