import DLMRuntime

/// Which examples go into each batch of an epoch: in order, or shuffled by a
/// seeded Fisher–Yates shuffle that depends only on the seed and the epoch
/// (so a run can be repeated, and resumed at any epoch). The last batch
/// keeps the remainder when the count is not a multiple of the batch size,
/// as Keras does.
public struct BatchOrder: Sendable, Hashable {
    /// The number of examples.
    public let count: Int
    /// Examples per batch (the last batch may hold fewer).
    public let batchSize: Int
    /// Whether each epoch visits the examples in a new random order.
    public let shuffle: Bool
    /// The run's seed.
    public let seed: UInt64

    /// An order for `count` examples in batches of `batchSize` (at least 1).
    public init(count: Int, batchSize: Int, shuffle: Bool, seed: UInt64) throws {
        guard count >= 0 else { throw TrainingError("a data set cannot have \(count) examples") }
        guard batchSize > 0 else { throw TrainingError("the batch size must be positive, not \(batchSize)") }
        self.count = count
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
    }

    /// Batches per epoch, counting a partial last batch.
    public var batchesPerEpoch: Int { (count + batchSize - 1) / batchSize }

    /// The order in which `epoch` visits the examples: `0..<count`, or its
    /// shuffle for that epoch.
    public func permutation(epoch: Int) -> [Int] {
        var indices = Array(0..<count)
        guard shuffle, count > 1 else { return indices }
        // Each epoch has its own stream, seeded from the run's seed and the epoch number.
        var random = RandomSource(seed: seed, name: "shuffle epoch \(epoch)")
        for i in stride(from: count - 1, to: 0, by: -1) {
            indices.swapAt(i, Self.uniform(below: i + 1, from: &random))
        }
        return indices
    }

    /// The example indices of each batch of `epoch`, in order.
    public func batches(epoch: Int) -> [[Int]] {
        let order = permutation(epoch: epoch)
        return stride(from: 0, to: count, by: batchSize).map { Array(order[$0..<min($0 + batchSize, count)]) }
    }

    /// A uniform integer in `0..<bound` without modulo bias (Lemire's multiply-and-reject).
    static func uniform(below bound: Int, from random: inout RandomSource) -> Int {
        let range = UInt64(bound)
        var product = random.next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold { product = random.next().multipliedFullWidth(by: range) }
        }
        return Int(product.high)
    }
}
