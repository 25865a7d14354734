import DLMGraph
import DLMRuntime
import DLMTraining
import Foundation
import Testing

/// The package root, from this file's path; the shared data sets sit next to it (see ../shared/data/README.md).
private let sharedData = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("shared/data")
private let haveIris = FileManager.default.fileExists(atPath: sharedData.appendingPathComponent("tabular/iris.csv").path)
private let haveMNIST = FileManager.default.fileExists(atPath: sharedData.appendingPathComponent("mnist/t10k-images-idx3-ubyte.gz").path)

@Suite struct DataSharedSetTests {
    @Test(.enabled(if: haveIris, "../shared/data/tabular/iris.csv is not here"))
    func loadsIris() throws {
        let source = try DataFixture.source(#"csv(path: "tabular/iris.csv", label: -1)"#)
        let iris = try DatasetLoader.load(source, relativeTo: sharedData.path, features: DataFixture.type(.f32, [4], batch: "N"),
                                          targets: .classIndices(classes: 3, shape: []), inputName: "x")
        #expect(iris.count == 150)
        #expect(iris.features.shape == [150, 4])
        #expect(iris.features.floats.prefix(4) == [5.1, 3.5, 1.4, 0.2])   // the first row of the file
        var histogram = [0, 0, 0]
        for label in iris.targets.scalars { histogram[Int(label)] += 1 }
        #expect(histogram == [50, 50, 50])
        // validate = split(0.2): the last 30 rows, all virginica (the file is sorted by class).
        let (training, validation) = try iris.splitLast(fraction: 0.2)
        #expect(training.count == 120 && validation.count == 30)
        #expect(validation.targets.scalars == [Double](repeating: 2, count: 30))
    }

    @Test(.enabled(if: haveMNIST, "../shared/data/mnist is not here"))
    func loadsTheMNISTTestSet() throws {
        let source = try DataFixture.source(#"idx(images: "mnist/t10k-images-idx3-ubyte.gz", labels: "mnist/t10k-labels-idx1-ubyte.gz") / 255"#)
        let mnist = try DatasetLoader.load(source, relativeTo: sharedData.path, features: DataFixture.type(.f32, [28, 28, 1]),
                                           targets: .classIndices(classes: 10, shape: []))
        #expect(mnist.count == 10_000)
        #expect(mnist.features.shape == [10_000, 28, 28, 1])
        // The first image's pixels sum to 18,454 (Python's gzip + numpy), so scaled to 18454/255.
        let first = mnist.features.floats.prefix(784).reduce(0) { $0 + Double($1) }
        #expect(abs(first - 18_454.0 / 255) < 1e-3)
        var histogram = [Int](repeating: 0, count: 10)
        for label in mnist.targets.scalars { histogram[Int(label)] += 1 }
        #expect(histogram == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])   // the published test-set counts
    }
}
