import DLMGraph
import DLMRuntime
import DLMTraining
import Foundation
import Testing

/// Every user mistake in data is a `TrainingError` at the data setting whose message names the file and the problem.
@Suite struct DataErrorTests {
    @Test func missingFile() throws {
        let dir = try DataScratchDirectory()
        let source = try DataFixture.source(#"csv(path: "nope.csv")"#)
        let message = DataFixture.loadError(source, in: dir.path, features: DataFixture.type(.f32, [4]), targets: .classIndices(classes: 3, shape: []))
        #expect(message == "data file 'nope.csv' does not exist (looked for \(dir.path("nope.csv")))")
    }

    @Test func unreadableFile() throws {
        let dir = try DataScratchDirectory()
        try FileManager.default.createDirectory(atPath: dir.path("x.npy"), withIntermediateDirectories: true)
        try NPY.write(Tensor(dtype: .f32, shape: [1], values: [0]), to: dir.path("y.npy"))
        let source = try DataFixture.source(#"npy(x: "x.npy", y: "y.npy")"#)
        let message = DataFixture.loadError(source, in: dir.path, features: DataFixture.type(.f32, [1]), targets: .values(shape: [1]))
        #expect(message == "'x.npy': is a directory")
    }

    @Test func corruptFiles() throws {
        let dir = try DataScratchDirectory()
        try dir.write("images.idx", bytes: [1, 2, 3, 4, 5])
        try dir.write("labels.idx", bytes: DataFixture.idx(type: 0x08, shape: [1], data: [0]))
        let idx = try DataFixture.source(#"idx(images: "images.idx", labels: "labels.idx")"#)
        #expect(DataFixture.loadError(idx, in: dir.path, features: DataFixture.type(.f32, [4]), targets: .classIndices(classes: 3, shape: []))
                == "'images.idx': not an IDX file (bad magic bytes)")

        try dir.write("bad.csv", text: "1,2,3\n4,x,6\n")
        let csv = try DataFixture.source(#"csv(path: "bad.csv")"#)
        #expect(DataFixture.loadError(csv, in: dir.path, features: DataFixture.type(.f32, [2]), targets: .classIndices(classes: 7, shape: []))
                == "'bad.csv': line 2, column 2: 'x' is not a number")
    }

    @Test func examplesThatDoNotFitTheInput() throws {
        let dir = try DataScratchDirectory()
        try dir.write("train.csv", text: "1,2,3,4,5,0\n6,7,8,9,10,1\n")
        let csv = try DataFixture.source(#"csv(path: "train.csv", label: -1)"#)
        #expect(DataFixture.loadError(csv, in: dir.path, features: DataFixture.type(.f32, [4], batch: "N"), targets: .classIndices(classes: 3, shape: []))
                == "'train.csv' has 5 feature columns but model input 'x' is f32[N, 4]")

        try dir.write("images.idx", bytes: DataFixture.idx(type: 0x08, shape: [2, 2, 2], data: [UInt8](repeating: 1, count: 8)))
        try dir.write("labels.idx", bytes: DataFixture.idx(type: 0x08, shape: [2], data: [0, 1]))
        let idx = try DataFixture.source(#"idx(images: "images.idx", labels: "labels.idx")"#)
        #expect(DataFixture.loadError(idx, in: dir.path, features: DataFixture.type(.f32, [10]), targets: .classIndices(classes: 3, shape: []))
                == "'images.idx' holds examples of shape [2, 2] (4 values each) but model input 'x' is f32[B, 10]")

        let inline = try DataFixture.source("inline(x: [[1, 2, 3]], y: [1])")
        #expect(DataFixture.loadError(inline, in: dir.path, features: DataFixture.type(.f32, [2]), targets: .values(shape: [1]), inputName: nil)
                == "the inline x has rows of 3 numbers but the model input is f32[B, 2]")

        // Targets that do not fit the loss.
        try NPY.write(Tensor(dtype: .f32, shape: [2, 3], values: [1, 2, 3, 4, 5, 6]), to: dir.path("y.npy"))
        try NPY.write(Tensor(dtype: .f32, shape: [2, 4], values: [Double](repeating: 0, count: 8)), to: dir.path("x.npy"))
        let npy = try DataFixture.source(#"npy(x: "x.npy", y: "y.npy")"#)
        #expect(DataFixture.loadError(npy, in: dir.path, features: DataFixture.type(.f32, [4]), targets: .classIndices(classes: 10, shape: []))
                == "'y.npy' has 3 values per example but the loss needs one class id (0..<10) per example")
        #expect(DataFixture.loadError(npy, in: dir.path, features: DataFixture.type(.f32, [4]), targets: .oneHot(classes: 4))
                == "'y.npy' has 3 values per example but the loss needs one class id (0..<4) or a one-hot row of 4 values per example")
    }

    @Test func differentExampleCounts() throws {
        let dir = try DataScratchDirectory()
        try dir.write("images.idx", bytes: DataFixture.idx(type: 0x08, shape: [3, 2], data: [1, 2, 3, 4, 5, 6]))
        try dir.write("labels.idx", bytes: DataFixture.idx(type: 0x08, shape: [2], data: [0, 1]))
        let source = try DataFixture.source(#"idx(images: "images.idx", labels: "labels.idx")"#)
        #expect(DataFixture.loadError(source, in: dir.path, features: DataFixture.type(.f32, [2]), targets: .classIndices(classes: 3, shape: []))
                == "'images.idx' has 3 examples but 'labels.idx' has 2 labels")
    }

    @Test func labelsOutOfRange() throws {
        let dir = try DataScratchDirectory()
        var labels = [UInt8](repeating: 3, count: 20)
        labels[16] = 10   // row 17
        try dir.write("images.idx", bytes: DataFixture.idx(type: 0x08, shape: [20, 1], data: [UInt8](repeating: 0, count: 20)))
        try dir.write("labels.idx", bytes: DataFixture.idx(type: 0x08, shape: [20], data: labels))
        let source = try DataFixture.source(#"idx(images: "images.idx", labels: "labels.idx")"#)
        let expected = "label 10 in row 17 of 'labels.idx' is outside 0..<10 for a 10-class output"
        #expect(DataFixture.loadError(source, in: dir.path, features: DataFixture.type(.f32, [1]), targets: .classIndices(classes: 10, shape: [])) == expected)
        #expect(DataFixture.loadError(source, in: dir.path, features: DataFixture.type(.f32, [1]), targets: .oneHot(classes: 10)) == expected)

        let negative = try DataFixture.source("inline(x: [[1], [2]], y: [0, -1])")
        #expect(DataFixture.loadError(negative, in: dir.path, features: DataFixture.type(.f32, [1]), targets: .classIndices(classes: 2, shape: []))
                == "label -1 in row 2 of the inline y is outside 0..<2 for a 2-class output")
    }

    @Test func nonIntegerClassLabels() throws {
        let dir = try DataScratchDirectory()
        try dir.write("t.csv", text: "1,2,0\n3,4,0.5\n")
        let source = try DataFixture.source(#"csv(path: "t.csv")"#)
        #expect(DataFixture.loadError(source, in: dir.path, features: DataFixture.type(.f32, [2]), targets: .classIndices(classes: 3, shape: []))
                == "label 0.5 in row 2 of 't.csv' is not a whole number; the loss needs class ids 0..<3")
        // The same file is fine for a regression target.
        let data = try DatasetLoader.load(source, relativeTo: dir.path, features: DataFixture.type(.f32, [2]), targets: .values(shape: [1]))
        #expect(data.targets.scalars == [0, 0.5])
    }

    @Test func nanAndInfinity() throws {
        let dir = try DataScratchDirectory()
        try NPY.write(Tensor(dtype: .f32, shape: [4, 2], values: [0, 1, 2, 3, 4, .nan, 6, 7]), to: dir.path("x.npy"))
        try NPY.write(Tensor(dtype: .f32, shape: [4], values: [0, 1, 0, 1]), to: dir.path("y.npy"))
        let features = try DataFixture.source(#"npy(x: "x.npy", y: "y.npy")"#)
        #expect(DataFixture.loadError(features, in: dir.path, features: DataFixture.type(.f32, [2]), targets: .values(shape: [1]))
                == "row 3 of 'x.npy' holds NaN; training data must be finite")

        try NPY.write(Tensor(dtype: .f32, shape: [4, 2], values: [Double](repeating: 1, count: 8)), to: dir.path("ok.npy"))
        try NPY.write(Tensor(dtype: .f64, shape: [4], values: [0, 1, 0, -.infinity]), to: dir.path("inf.npy"))
        let targets = try DataFixture.source(#"npy(x: "ok.npy", y: "inf.npy")"#)
        #expect(DataFixture.loadError(targets, in: dir.path, features: DataFixture.type(.f32, [2]), targets: .values(shape: [1]))
                == "row 4 of 'inf.npy' holds -infinity; training data must be finite")
    }

    @Test func emptyData() throws {
        let dir = try DataScratchDirectory()
        try NPY.write(Tensor(dtype: .f32, shape: [0, 4], values: []), to: dir.path("x.npy"))
        try NPY.write(Tensor(dtype: .f32, shape: [0], values: []), to: dir.path("y.npy"))
        let npy = try DataFixture.source(#"npy(x: "x.npy", y: "y.npy")"#)
        #expect(DataFixture.loadError(npy, in: dir.path, features: DataFixture.type(.f32, [4]), targets: .values(shape: [1]))
                == "'x.npy' holds no examples")

        try dir.write("empty.csv", text: "a,b,label\n")
        let csv = try DataFixture.source(#"csv(path: "empty.csv", label: "label")"#)
        #expect(DataFixture.loadError(csv, in: dir.path, features: DataFixture.type(.f32, [2]), targets: .values(shape: [1]))
                == "'empty.csv': has a header but no data rows")
    }

    @Test func scalingAnIntegerInputAndFractionalIds() throws {
        let dir = try DataScratchDirectory()
        try NPY.write(Tensor(dtype: .f32, shape: [2, 2], values: [1, 2, 3.5, 4]), to: dir.path("x.npy"))
        try NPY.write(Tensor(dtype: .f32, shape: [2], values: [0, 1]), to: dir.path("y.npy"))
        let scaled = try DataFixture.source(#"npy(x: "x.npy", y: "y.npy") / 255"#)
        #expect(DataFixture.loadError(scaled, in: dir.path, features: DataFixture.type(.i32, [2]), targets: .values(shape: [1]), inputName: "tokens")
                == "the data is scaled (/ 255) but model input 'tokens' is i32[B, 2]: only floating inputs can be scaled")
        let plain = try DataFixture.source(#"npy(x: "x.npy", y: "y.npy")"#)
        #expect(DataFixture.loadError(plain, in: dir.path, features: DataFixture.type(.i32, [2]), targets: .values(shape: [1]), inputName: "tokens")
                == "row 2 of 'x.npy' holds 3.5 but model input 'tokens' is i32[B, 2], which takes whole numbers")
    }
}
