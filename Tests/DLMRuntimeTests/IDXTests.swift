import DLMGraph
import DLMRuntime
import Foundation
import Testing

private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
/// The shared MNIST data, next to the project (see ../shared/data/README.md).
private let mnist = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data/mnist")

@Suite struct IDXTests {
    @Test(.enabled(if: FileManager.default.fileExists(atPath: mnist.path)))
    func readsMNISTTestLabelsWithThePublishedHistogram() throws {
        let labels = try IDX.read(mnist.appendingPathComponent("t10k-labels-idx1-ubyte.gz").path)
        #expect(labels.dtype == .u8 && labels.shape == [10_000])
        var histogram = [Int](repeating: 0, count: 10)
        for value in labels.scalars { histogram[Int(value)] += 1 }
        #expect(histogram == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: mnist.path)))
    func readsMNISTTestImages() throws {
        let images = try IDX.read(mnist.appendingPathComponent("t10k-images-idx3-ubyte.gz").path)
        #expect(images.dtype == .u8 && images.shape == [10_000, 28, 28])
        // Pixel sum of the first image (a 7), computed with Python's gzip + numpy: 18,454.
        let values = images.scalars
        #expect(values[0..<784].reduce(0, +) == 18_454)
    }

    @Test func rejectsLyingHeaders() throws {
        let header: [UInt8] = [0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2]
        #expect(throws: FormatError.self) { try IDX.decode(header + [1, 2, 3], path: "short.idx") }
        #expect(throws: FormatError.self) { try IDX.decode([1, 2, 3], path: "magic.idx") }
        #expect(throws: FormatError.self) { try IDX.decode([0, 0, 0x07, 1, 0, 0, 0, 1, 5], path: "type.idx") }
        #expect(throws: FormatError.self) { try IDX.decode([0, 0, 0x08, 2, 0, 0], path: "header.idx") }
        #expect(try IDX.decode(header + [UInt8](repeating: 7, count: 8), path: "ok.idx").shape == [2, 2, 2])
    }

    @Test func bigEndianElementTypes() throws {
        let floats = try IDX.decode([0, 0, 0x0D, 1, 0, 0, 0, 2, 0x3F, 0xC0, 0, 0, 0xC0, 0, 0, 0], path: "f.idx")
        #expect(floats.scalars == [1.5, -2])
        let shorts = try IDX.decode([0, 0, 0x0B, 1, 0, 0, 0, 2, 0xFF, 0xFE, 0x01, 0x00], path: "s.idx")
        #expect(shorts.scalars == [-2, 256])
    }
}

@Suite struct InflateTests {
    /// gzip of "hello hello hello hello\n" made by Python's gzip module (fixed Huffman block).
    static let hello: [UInt8] = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xff, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x57, 0xc8,
                                 0x40, 0x27, 0xb9, 0x00, 0x00, 0x88, 0x59, 0x0b, 0x18, 0x00, 0x00, 0x00]

    @Test func decompressesAndChecksTheCRC() throws {
        #expect(String(decoding: try Inflate.gunzip(Self.hello), as: UTF8.self) == "hello hello hello hello\n")
        var corrupt = Self.hello
        corrupt[corrupt.count - 6] ^= 0xFF   // CRC byte
        #expect(throws: Inflate.DataError.self) { try Inflate.gunzip(corrupt) }
    }

    @Test func truncationsAndBitFlipsNeverCrash() {
        var random = RandomSource(seed: 3)
        for _ in 0..<3000 {
            var bytes = Self.hello
            if random.next() % 2 == 0 {
                bytes = Array(bytes.prefix(Int(random.next() % UInt64(bytes.count))))
            } else {
                bytes[10 + Int(random.next() % UInt64(bytes.count - 10))] ^= UInt8(truncatingIfNeeded: random.next() | 1)
            }
            _ = try? Inflate.gunzip(bytes, maximumOutput: 1 << 16)
        }
    }

    @Test func outputIsCapped() {
        // A stored block claims more than the cap allows.
        #expect(throws: Inflate.DataError.self) { try Inflate.gunzip(Self.hello, maximumOutput: 4) }
    }
}
