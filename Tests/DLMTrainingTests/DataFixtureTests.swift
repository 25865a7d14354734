import DLMGraph
import DLMRuntime
import DLMSyntax
import DLMTraining
import Foundation
import Testing

// Helpers shared by the data pipeline tests (this file holds no tests of its own).

/// A temporary directory for one test's files, removed when released.
final class DataScratchDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("dlmc-data-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    var path: String { url.path }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func write(_ name: String, text: String) throws {
        try Data(text.utf8).write(to: url.appendingPathComponent(name))
    }

    func write(_ name: String, bytes: [UInt8]) throws {
        try Data(bytes).write(to: url.appendingPathComponent(name))
    }
}

enum DataFixture {
    /// The `DataSource` that a `train` block's `data = …` setting gives, parsed and checked by the front end.
    static func source(_ data: String) throws -> DataSource {
        let text = """
        model M(x: f32[B, 4]) -> f32[B, 3] {
            return dense(x, 3, activation: softmax)
        }
        train M {
            data      = \(data)
            loss      = mse
            optimizer = sgd
        }
        """
        let diagnostics = DiagnosticEngine()
        let unit = Parser.parse(SourceFile(path: "model.dlm", text: text), diagnostics: diagnostics)
        let module = Lowering.lower(unit, diagnostics: diagnostics)
        #expect(diagnostics.diagnostics.isEmpty, "\(DiagnosticRenderer().render(diagnostics.diagnostics))")
        return try #require(module.models.first?.training?.data)
    }

    /// `f32[B, 28, 28, 1]` and the like: `B` (or the given symbol) first, then fixed sizes (negative ones symbolic as `T`).
    static func type(_ dtype: DType, _ sizes: [Int], batch: String = "B") -> TensorType {
        TensorType(dtype, Shape([.symbol(batch)] + sizes.map { $0 < 0 ? Dim.symbol("T") : Dim.constant($0) }))
    }

    /// A big-endian IDX file: magic, type byte, rank, sizes, then the data.
    static func idx(type: UInt8, shape: [Int], data: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, type, UInt8(shape.count)]
        for size in shape { bytes += [UInt8(size >> 24 & 0xFF), UInt8(size >> 16 & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size & 0xFF)] }
        return bytes + data
    }

    /// A gzip member holding `data` in one stored (uncompressed) deflate block.
    static func gzipStored(_ data: [UInt8]) -> [UInt8] {
        precondition(data.count < 65_536)
        let length = UInt16(data.count), complement = ~length
        var bytes: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF]
        bytes += [1, UInt8(length & 0xFF), UInt8(length >> 8), UInt8(complement & 0xFF), UInt8(complement >> 8)]
        bytes += data
        let crc = crc32(data), size = UInt32(data.count)
        bytes += [UInt8(crc & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 24)]
        bytes += [UInt8(size & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size >> 16 & 0xFF), UInt8(size >> 24)]
        return bytes
    }

    /// CRC-32 (IEEE, reflected), bit by bit.
    static func crc32(_ data: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    /// Loads and returns the error message, or records an issue when loading succeeds.
    static func loadError(_ source: DataSource, in directory: String, features: TensorType, targets: TargetEncoding, inputName: String? = "x",
                          sourceLocation: SourceLocation = #_sourceLocation) -> String? {
        do {
            _ = try DatasetLoader.load(source, relativeTo: directory, features: features, targets: targets, inputName: inputName)
            Issue.record("expected loading to fail", sourceLocation: sourceLocation)
            return nil
        } catch let error as TrainingError {
            #expect(error.range == source.range, "the error should point at the data setting", sourceLocation: sourceLocation)
            return error.message
        } catch {
            Issue.record("expected a TrainingError, got \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }
}
