import DLMRuntime
import DLMTraining
import Testing

@Suite struct DataSplitTests {
    /// `count` examples whose features hold their row number (f32 [count, 2]) and whose targets hold it too (i32 [count]).
    static func numbered(_ count: Int) throws -> Dataset {
        try Dataset(features: Tensor(dtype: .f32, shape: [count, 2], values: (0..<count).flatMap { [Double($0), Double($0) + 0.5] }),
                    targets: Tensor(dtype: .i32, shape: [count], values: (0..<count).map(Double.init)))
    }

    /// Keras's counts, from Python: `n - int(math.floor(n * (1.0 - f)))` for each (n, f).
    @Test(arguments: [(150, 0.1, 15), (5, 0.5, 3), (10, 0.25, 3), (7, 0.3, 3), (1000, 0.2, 200), (3, 0.5, 2), (10, 0.3, 3)])
    func validationCountsMatchKeras(count: Int, fraction: Double, expected: Int) throws {
        #expect(Dataset.validationCount(of: count, fraction: fraction) == expected)
        let (training, validation) = try Self.numbered(count).splitLast(fraction: fraction)
        #expect(validation.count == expected)
        #expect(training.count == count - expected)
    }

    @Test func takesTheLastRowsInFileOrder() throws {
        let (training, validation) = try Self.numbered(10).splitLast(fraction: 0.3)
        #expect(training.targets.scalars == [0, 1, 2, 3, 4, 5, 6])
        #expect(validation.targets.scalars == [7, 8, 9])
        #expect(validation.features.shape == [3, 2])
        #expect(validation.features.scalars == [7, 7.5, 8, 8.5, 9, 9.5])
        #expect(training.features.scalars == (0..<7).flatMap { [Double($0), Double($0) + 0.5] })
    }

    @Test func refusesSplitsThatLeaveAPartEmpty() throws {
        #expect(throws: TrainingError.self) { try Self.numbered(1).splitLast(fraction: 0.5) }
        // 1 - 1e-17 rounds to 1: floor(10 × 1) = 10 leaves no validation example (Keras raises too).
        #expect(throws: TrainingError.self) { try Self.numbered(10).splitLast(fraction: 1e-17) }
        #expect(try Self.numbered(10).splitLast(fraction: 0.01).validation.count == 1)   // floor(9.9) = 9
        #expect(throws: TrainingError.self) { try Self.numbered(10).splitLast(fraction: 1) }
    }

    @Test func rowsGathersWholeRowsOfAnyDtype() throws {
        let data = try Dataset(features: Tensor(dtype: .u8, shape: [4, 3], values: (0..<12).map(Double.init)),
                               targets: Tensor(dtype: .f64, shape: [4, 1, 2], values: (0..<8).map { Double($0) * 1.25 }))
        let picked = try data.rows([3, 0, 3])
        #expect(picked.count == 3)
        #expect(picked.features.dtype == .u8 && picked.features.shape == [3, 3])
        #expect(picked.features.scalars == [9, 10, 11, 0, 1, 2, 9, 10, 11])
        #expect(picked.targets.shape == [3, 1, 2])
        #expect(picked.targets.scalars == [7.5, 8.75, 0, 1.25, 7.5, 8.75])
        #expect(throws: TrainingError.self) { try data.rows([4]) }
        #expect(throws: TrainingError.self) { try data.rows([-1]) }
        #expect(try data.rows([]).count == 0)
    }

    @Test func datasetsNeedMatchingExampleCounts() throws {
        #expect(throws: TrainingError.self) {
            try Dataset(features: Tensor(zeros: .f32, shape: [3, 2]), targets: Tensor(zeros: .f32, shape: [2]))
        }
    }
}
