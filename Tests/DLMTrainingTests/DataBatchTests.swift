import DLMRuntime
import DLMTraining
import Foundation
import Testing

@Suite struct DataBatchTests {
    @Test func shuffleIsSeededPerEpoch() throws {
        let order = try BatchOrder(count: 10, batchSize: 4, shuffle: true, seed: 42)
        // From an independent Python transcription of SplitMix64, FNV-1a ("shuffle epoch N"),
        // Lemire's bounded draw and Fisher–Yates from the last index down.
        #expect(order.permutation(epoch: 0) == [1, 3, 2, 4, 9, 8, 6, 7, 0, 5])
        #expect(order.permutation(epoch: 1) == [0, 4, 1, 3, 8, 2, 6, 5, 7, 9])
        #expect(try BatchOrder(count: 10, batchSize: 4, shuffle: true, seed: 7).permutation(epoch: 0) == [9, 8, 0, 1, 4, 3, 2, 5, 6, 7])
        // The same seed and epoch always give the same order.
        #expect(try BatchOrder(count: 10, batchSize: 4, shuffle: true, seed: 42).batches(epoch: 1) == order.batches(epoch: 1))
    }

    @Test func everyEpochIsAPermutationWithAPartialLastBatch() throws {
        let order = try BatchOrder(count: 103, batchSize: 10, shuffle: true, seed: 3)
        #expect(order.batchesPerEpoch == 11)
        var orders = Set<[Int]>()
        for epoch in 0..<20 {
            let batches = order.batches(epoch: epoch)
            #expect(batches.map(\.count) == [Int](repeating: 10, count: 10) + [3])
            #expect(batches.flatMap { $0 }.sorted() == Array(0..<103))
            orders.insert(batches.flatMap { $0 })
        }
        #expect(orders.count == 20, "different epochs give different orders")
    }

    @Test func withoutShuffleTheOrderIsTheFileOrder() throws {
        let order = try BatchOrder(count: 7, batchSize: 3, shuffle: false, seed: 99)
        #expect(order.batches(epoch: 0) == [[0, 1, 2], [3, 4, 5], [6]])
        #expect(order.batches(epoch: 5) == order.batches(epoch: 0))
        #expect(try BatchOrder(count: 0, batchSize: 3, shuffle: true, seed: 1).batches(epoch: 0).isEmpty)
        #expect(throws: TrainingError.self) { try BatchOrder(count: 5, batchSize: 0, shuffle: false, seed: 0) }
    }

    @Test func shufflesAreUniform() throws {
        // Each of the 6 orders of 3 examples should come up about 1/6 of the time over 6000 epochs:
        // a binomial(6000, 1/6) count lies within 1000 ± 150 (5 standard deviations) unless the shuffle is biased.
        let order = try BatchOrder(count: 3, batchSize: 3, shuffle: true, seed: 2024)
        var counts: [[Int]: Int] = [:]
        for epoch in 0..<6000 { counts[order.permutation(epoch: epoch), default: 0] += 1 }
        #expect(counts.count == 6)
        for (permutation, count) in counts { #expect(abs(count - 1000) < 150, "\(permutation) came up \(count) times") }
    }

    /// Features f32 [n, 3] and i64 targets [n] holding each row's number.
    static func numbered(_ count: Int) throws -> Dataset {
        try Dataset(features: Tensor(dtype: .f32, shape: [count, 3], values: (0..<count).flatMap { [Double($0), -Double($0), 0.25] }),
                    targets: Tensor(dtype: .i64, shape: [count], values: (0..<count).map(Double.init)))
    }

    @Test func loaderReturnsExactlyTheBatchesTheOrderSays() throws {
        let data = try Self.numbered(23)
        let order = try BatchOrder(count: 23, batchSize: 5, shuffle: true, seed: 11)
        for epoch in 0..<3 {
            let loader = BatchLoader(dataset: data, order: order, epoch: epoch)
            #expect(loader.batchCount == 5)
            var seen: [[Int]] = []
            while let batch = try loader.next() {
                let rows = batch.targets.scalars.map { Int($0) }
                #expect(batch.count == rows.count)
                #expect(batch.features.shape == [rows.count, 3])
                #expect(batch.features.scalars == rows.flatMap { [Double($0), -Double($0), 0.25] })
                seen.append(rows)
            }
            #expect(seen == order.batches(epoch: epoch))
            #expect(try loader.next() == nil)
        }
    }

    @Test func batchesDoNotDependOnTiming() throws {
        let data = try Self.numbered(40)
        let order = try BatchOrder(count: 40, batchSize: 6, shuffle: true, seed: 5)
        func collect(pause: Double) throws -> [[Double]] {
            let loader = BatchLoader(dataset: data, order: order, epoch: 2)
            var result: [[Double]] = []
            while let batch = try loader.next() {
                if pause > 0 { Thread.sleep(forTimeInterval: pause) }   // a slow training step: the next batch is ready early
                result.append(batch.features.scalars + batch.targets.scalars)
            }
            return result
        }
        let fast = try collect(pause: 0)
        #expect(try collect(pause: 0.005) == fast)
        #expect(fast.count == 7)
    }

    @Test func loaderReportsBadIndices() throws {
        let loader = BatchLoader(dataset: try Self.numbered(4), batches: [[0, 1], [2, 9]])
        #expect(try loader.next()?.count == 2)
        #expect(throws: TrainingError.self) { try loader.next() }
        #expect(try loader.next() == nil)
    }
}
