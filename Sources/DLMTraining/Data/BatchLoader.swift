import Dispatch
import DLMRuntime

/// One batch of examples: the rows of a `Dataset` that a `BatchOrder` chose.
public struct Batch: Sendable {
    /// Features, `[count, …]`.
    public let features: Tensor
    /// Targets, `[count, …]`.
    public let targets: Tensor
    /// The number of examples (the last batch of an epoch may be partial).
    public let count: Int
}

/// Produces the batches of one epoch in order, preparing the next batch on a
/// background thread while the caller works on the current one (one batch
/// ahead). The batches depend only on the data and the order, never on timing.
///
/// Use it from one thread: call `next()` until it returns nil.
public final class BatchLoader {
    private let dataset: Dataset
    private let plan: [[Int]]
    private var position = 0
    private var pending: PendingBatch?
    private let queue = DispatchQueue(label: "dlmc.batch-loader", qos: .userInitiated)

    /// The batches of `epoch` under `order`.
    public convenience init(dataset: Dataset, order: BatchOrder, epoch: Int) {
        self.init(dataset: dataset, batches: order.batches(epoch: epoch))
    }

    /// The given batches of example indices, in order.
    public init(dataset: Dataset, batches: [[Int]]) {
        self.dataset = dataset
        plan = batches
        pending = prepare(0)
    }

    /// The number of batches this loader produces.
    public var batchCount: Int { plan.count }

    /// The next batch (waiting for it if it is still being copied), or nil
    /// after the last. Starts preparing the batch after it.
    public func next() throws -> Batch? {
        guard let current = pending else { return nil }
        position += 1
        pending = prepare(position)
        return try current.wait()
    }

    /// Starts copying batch `index` on the background queue.
    private func prepare(_ index: Int) -> PendingBatch? {
        guard index < plan.count else { return nil }
        let slot = PendingBatch()
        let dataset = dataset, indices = plan[index]
        queue.async {
            slot.fulfil(Result {
                let rows = try dataset.rows(indices)
                return Batch(features: rows.features, targets: rows.targets, count: indices.count)
            })
        }
        return slot
    }
}

/// A batch being prepared: written once by the background queue, then read by the caller.
///
/// `@unchecked Sendable` is sound: `result` is written exactly once, before
/// `ready` is signalled, and read only after waiting on `ready`, so the
/// semaphore orders the write before every read.
private final class PendingBatch: @unchecked Sendable {
    private let ready = DispatchSemaphore(value: 0)
    private var result: Result<Batch, any Error>?

    func fulfil(_ result: Result<Batch, any Error>) {
        self.result = result
        ready.signal()
    }

    /// Waits for the batch (once).
    func wait() throws -> Batch {
        ready.wait()
        guard let result else { throw TrainingError("a batch was read before it was prepared") }
        return try result.get()
    }
}
