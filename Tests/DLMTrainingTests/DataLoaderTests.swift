import DLMGraph
import DLMRuntime
import DLMTraining
import Foundation
import Testing

@Suite struct DataLoaderTests {
    /// Three 2×2 u8 images: pixel values chosen so each differs.
    static let pixels: [UInt8] = [0, 51, 102, 255, 10, 20, 30, 40, 200, 100, 50, 25]
    static let labels: [UInt8] = [7, 0, 9]

    @Test func readsRawIDXScalesAndReshapesToTheInput() throws {
        let dir = try DataScratchDirectory()
        try dir.write("images.idx", bytes: DataFixture.idx(type: 0x08, shape: [3, 2, 2], data: Self.pixels))
        try dir.write("labels.idx", bytes: DataFixture.idx(type: 0x08, shape: [3], data: Self.labels))
        let source = try DataFixture.source(#"idx(images: "images.idx", labels: "labels.idx") / 255"#)
        #expect(source.scale == 1.0 / 255)

        let images = try DatasetLoader.load(source, relativeTo: dir.path, features: DataFixture.type(.f32, [2, 2, 1]),
                                            targets: .classIndices(classes: 10, shape: []))
        #expect(images.count == 3)
        #expect(images.features.dtype == .f32 && images.features.shape == [3, 2, 2, 1])
        for (value, pixel) in zip(images.features.floats, Self.pixels) {
            #expect(abs(value - Float(Double(pixel) / 255)) <= 1e-7)
        }
        #expect(images.features.floats[3] == 1)   // 255 / 255
        #expect(images.targets.dtype == .i32 && images.targets.shape == [3])
        #expect(images.targets.scalars == [7, 0, 9])

        // The same examples as flat rows of 4 for a dense input.
        let flat = try DatasetLoader.load(source, relativeTo: dir.path, features: DataFixture.type(.f32, [4]),
                                          targets: .classIndices(classes: 10, shape: []))
        #expect(flat.features.shape == [3, 4])
        #expect(flat.features.floats == images.features.floats)
    }

    @Test func readsGzippedIDX() throws {
        let dir = try DataScratchDirectory()
        try dir.write("images.idx.gz", bytes: DataFixture.gzipStored(DataFixture.idx(type: 0x08, shape: [3, 2, 2], data: Self.pixels)))
        try dir.write("labels.idx.gz", bytes: DataFixture.gzipStored(DataFixture.idx(type: 0x08, shape: [3], data: Self.labels)))
        let source = try DataFixture.source(#"idx(images: "images.idx.gz", labels: "labels.idx.gz")"#)
        let data = try DatasetLoader.load(source, relativeTo: dir.path, features: DataFixture.type(.f32, [2, 2]),
                                          targets: .classIndices(classes: 10, shape: []))
        #expect(data.features.shape == [3, 2, 2])
        #expect(data.features.scalars == Self.pixels.map(Double.init))   // scale 1: the pixel values themselves
        #expect(data.targets.scalars == [7, 0, 9])
    }

    @Test func readsCSVWithAHeaderAndANamedLabelColumn() throws {
        let dir = try DataScratchDirectory()
        try dir.write("train.csv", text: "a,label,b\n1.5,2,-3\n4,0,5.25\n")
        let byName = try DataFixture.source(#"csv(path: "train.csv", label: "label") * 2"#)
        let data = try DatasetLoader.load(byName, relativeTo: dir.path, features: DataFixture.type(.f32, [2]),
                                          targets: .oneHot(classes: 3))
        #expect(data.features.shape == [2, 2])
        #expect(data.features.scalars == [3, -6, 8, 10.5])   // columns a and b, times 2
        #expect(data.targets.dtype == .f32 && data.targets.shape == [2, 3])
        #expect(data.targets.scalars == [0, 0, 1, 1, 0, 0])

        // The same column by index.
        let byIndex = try DataFixture.source(#"csv(path: "train.csv", label: 1)"#)
        let indexed = try DatasetLoader.load(byIndex, relativeTo: dir.path, features: DataFixture.type(.f32, [2]),
                                             targets: .classIndices(classes: 3, shape: []))
        #expect(indexed.features.scalars == [1.5, -3, 4, 5.25])
        #expect(indexed.targets.scalars == [2, 0])
    }

    @Test func readsNPYFeaturesAndTargets() throws {
        let dir = try DataScratchDirectory()
        try NPY.write(Tensor(dtype: .f64, shape: [4, 3], values: (0..<12).map { Double($0) / 4 }), to: dir.path("x.npy"))
        try NPY.write(Tensor(dtype: .f32, shape: [4], values: [0.5, -1, 2, 8]), to: dir.path("y.npy"))
        let source = try DataFixture.source(#"npy(x: "x.npy", y: "y.npy")"#)
        let data = try DatasetLoader.load(source, relativeTo: dir.path, features: DataFixture.type(.f32, [3]), targets: .values(shape: [1]))
        #expect(data.features.dtype == .f32 && data.features.shape == [4, 3])
        #expect(data.features.scalars == (0..<12).map { Double($0) / 4 })
        // A target vector [N] becomes [N, 1].
        #expect(data.targets.dtype == .f32 && data.targets.shape == [4, 1])
        #expect(data.targets.scalars == [0.5, -1, 2, 8])
    }

    @Test func readsInlineRows() throws {
        let source = try DataFixture.source("inline(x: [[0, 0], [0, 1], [1, 0], [1, 1]], y: [0, 1, 1, 0])")
        let data = try DatasetLoader.load(source, relativeTo: "/nonexistent", features: DataFixture.type(.f32, [2]), targets: .values(shape: [1]))
        #expect(data.count == 4)
        #expect(data.features.scalars == [0, 0, 0, 1, 1, 0, 1, 1])
        #expect(data.targets.shape == [4, 1] && data.targets.scalars == [0, 1, 1, 0])
    }

    @Test func integerInputsWithSymbolicLengthsAndSequenceTargets() throws {
        let dir = try DataScratchDirectory()
        try NPY.write(Tensor(dtype: .i64, shape: [2, 5], values: [1, 2, 3, 4, 5, 6, 7, 8, 9, 0]), to: dir.path("ids.npy"))
        try NPY.write(Tensor(dtype: .i64, shape: [2, 5], values: [2, 3, 4, 5, 6, 7, 8, 9, 0, 1]), to: dir.path("next.npy"))
        let source = try DataFixture.source(#"npy(x: "ids.npy", y: "next.npy")"#)
        // tokens: i32[B, T] -> targets: class ids of shape [T].
        let data = try DatasetLoader.load(source, relativeTo: dir.path, features: DataFixture.type(.i32, [-1]),
                                          targets: .classIndices(classes: 10, shape: [-1]))
        #expect(data.features.dtype == .i32 && data.features.shape == [2, 5])
        #expect(data.features.scalars == [1, 2, 3, 4, 5, 6, 7, 8, 9, 0])
        #expect(data.targets.dtype == .i32 && data.targets.shape == [2, 5])
        #expect(data.targets.scalars == [2, 3, 4, 5, 6, 7, 8, 9, 0, 1])
    }

    @Test func oneHotRowsPassThrough() throws {
        let dir = try DataScratchDirectory()
        try NPY.write(Tensor(dtype: .f32, shape: [2, 1], values: [1, 2]), to: dir.path("x.npy"))
        try NPY.write(Tensor(dtype: .f64, shape: [2, 3], values: [0.1, 0.8, 0.1, 0, 0, 1]), to: dir.path("y.npy"))
        let source = try DataFixture.source(#"npy(x: "x.npy", y: "y.npy")"#)
        let data = try DatasetLoader.load(source, relativeTo: dir.path, features: DataFixture.type(.f32, [1]), targets: .oneHot(classes: 3))
        #expect(data.targets.dtype == .f32 && data.targets.shape == [2, 3])
        #expect(data.targets.floats == [0.1, 0.8, 0.1, 0, 0, 1].map { Float($0) })
    }

    @Test func pathsResolveAgainstTheModelsFolderAndAbsolutePathsStay() throws {
        let dir = try DataScratchDirectory()
        try FileManager.default.createDirectory(atPath: dir.path("data"), withIntermediateDirectories: true)
        try dir.write("data/t.csv", text: "1,2,0\n3,4,1\n")
        let relative = try DataFixture.source(#"csv(path: "data/t.csv")"#)
        let fromFolder = try DatasetLoader.load(relative, relativeTo: dir.path, features: DataFixture.type(.f32, [2]),
                                                targets: .classIndices(classes: 2, shape: []))
        #expect(fromFolder.features.scalars == [1, 2, 3, 4] && fromFolder.targets.scalars == [0, 1])

        let absolute = try DataFixture.source("csv(path: \"\(dir.path("data/t.csv"))\")")
        let fromAnywhere = try DatasetLoader.load(absolute, relativeTo: "/somewhere/else", features: DataFixture.type(.f32, [2]),
                                                  targets: .classIndices(classes: 2, shape: []))
        #expect(fromAnywhere.features.scalars == [1, 2, 3, 4])
    }
}
