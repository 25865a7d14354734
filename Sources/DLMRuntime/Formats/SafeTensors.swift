import DLMGraph
import Foundation

/// The safetensors weight format: an 8-byte little-endian header length, a
/// JSON header mapping names to dtype, shape and byte range, then the data.
/// Every header field is checked against the file before any data is read.
public enum SafeTensors {
    /// Largest header accepted (the reference implementation's limit).
    public static let maximumHeaderSize = 100_000_000

    /// A file's tensors by name, with its free-form metadata.
    public struct Contents: Sendable {
        public var tensors: [String: Tensor]
        public var metadata: [String: String]

        public init(tensors: [String: Tensor], metadata: [String: String] = [:]) {
            self.tensors = tensors
            self.metadata = metadata
        }
    }

    /// Reads a safetensors file.
    public static func read(_ path: String) throws -> Contents {
        try decode(try FileIO.read(path), path: path)
    }

    /// Parses safetensors bytes; `path` names the source in errors.
    public static func decode(_ bytes: [UInt8], path: String) throws -> Contents {
        guard bytes.count >= 8 else { throw FormatError(path, "too short to be a safetensors file (\(bytes.count) bytes)") }
        var length: UInt64 = 0
        for i in 0..<8 { length |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard length <= UInt64(maximumHeaderSize) else { throw FormatError(path, "header length \(length) exceeds the \(maximumHeaderSize)-byte limit") }
        guard length <= UInt64(bytes.count - 8) else {
            throw FormatError(path, "header length \(length) runs past the end of the file (\(bytes.count) bytes)")
        }
        let headerEnd = 8 + Int(length)
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd]))
        } catch {
            throw FormatError(path, "header is not valid JSON")
        }
        guard let header = json as? [String: Any] else { throw FormatError(path, "header is not a JSON object") }
        let dataSize = bytes.count - headerEnd
        var contents = Contents(tensors: [:])
        var ranges: [(name: String, begin: Int, end: Int)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let metadata = value as? [String: Any] else { throw FormatError(path, "__metadata__ must be an object of strings") }
                for (key, item) in metadata {
                    guard let text = item as? String else { throw FormatError(path, "__metadata__ value '\(key)' is not a string") }
                    contents.metadata[key] = text
                }
                continue
            }
            guard let entry = value as? [String: Any] else { throw FormatError(path, "entry '\(name)' is not an object") }
            guard let dtypeName = entry["dtype"] as? String else { throw FormatError(path, "tensor '\(name)' has no dtype") }
            guard let dtype = dtype(named: dtypeName) else {
                throw FormatError(path, "tensor '\(name)' has unsupported dtype '\(dtypeName)' (supported: F32, F64, I32, I64, BOOL, U8)")
            }
            guard let shapeValues = entry["shape"] as? [Any], let shape = integers(shapeValues), shape.allSatisfy({ $0 >= 0 }) else {
                throw FormatError(path, "tensor '\(name)' has a malformed shape")
            }
            guard let offsetValues = entry["data_offsets"] as? [Any], let offsets = integers(offsetValues), offsets.count == 2 else {
                throw FormatError(path, "tensor '\(name)' has malformed data_offsets")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= dataSize else {
                throw FormatError(path, "tensor '\(name)' data_offsets [\(begin), \(end)] lie outside the \(dataSize)-byte data area")
            }
            let count: Int
            do { count = try Tensor.checkedCount(shape) } catch { throw FormatError(path, "tensor '\(name)' has an invalid shape \(shape)") }
            guard end - begin == count * dtype.byteSize else {
                throw FormatError(path, "tensor '\(name)' is \(dtypeName)\(shape) (\(count * dtype.byteSize) bytes) but its data_offsets span \(end - begin) bytes")
            }
            ranges.append((name, begin, end))
            contents.tensors[name] = try bytes[(headerEnd + begin)..<(headerEnd + end)].withUnsafeBytes {
                try Tensor(dtype: dtype, shape: shape, bytes: $0)
            }
        }
        ranges.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        for (previous, next) in zip(ranges, ranges.dropFirst()) where next.begin < previous.end {
            throw FormatError(path, "tensors '\(previous.name)' and '\(next.name)' overlap in the data area")
        }
        return contents
    }

    /// Encodes tensors (sorted by name) with optional metadata.
    public static func encode(_ contents: Contents) throws -> [UInt8] {
        var header: [String: Any] = [:]
        var offset = 0
        let names = contents.tensors.keys.sorted()
        for name in names {
            guard let tensor = contents.tensors[name] else { continue }
            header[name] = ["dtype": Self.name(of: tensor.dtype), "shape": tensor.shape, "data_offsets": [offset, offset + tensor.byteCount]]
            offset += tensor.byteCount
        }
        if !contents.metadata.isEmpty { header["__metadata__"] = contents.metadata }
        var json = [UInt8](try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
        // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
        json += [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8)
        var bytes: [UInt8] = (0..<8).map { UInt8(truncatingIfNeeded: UInt64(json.count) >> (8 * UInt64($0))) }
        bytes.reserveCapacity(8 + json.count + offset)
        bytes += json
        for name in names {
            contents.tensors[name]?.withUnsafeBytes { bytes += $0 }
        }
        return bytes
    }

    /// Writes tensors to a safetensors file atomically.
    public static func write(_ contents: Contents, to path: String) throws {
        try FileIO.writeAtomically(try encode(contents), to: path)
    }

    static func dtype(named name: String) -> DType? {
        switch name {
        case "F32": .f32
        case "F64": .f64
        case "I32": .i32
        case "I64": .i64
        case "BOOL": .bool
        case "U8": .u8
        default: nil
        }
    }

    static func name(of dtype: DType) -> String {
        switch dtype {
        case .f32: "F32"
        case .f64: "F64"
        case .i32: "I32"
        case .i64: "I64"
        case .bool: "BOOL"
        case .u8: "U8"
        }
    }

    /// JSON numbers as Ints, rejecting fractions and out-of-range values.
    private static func integers(_ values: [Any]) -> [Int]? {
        var result: [Int] = []
        for value in values {
            guard let number = value as? NSNumber else { return nil }
            let double = number.doubleValue
            guard double == double.rounded(), abs(double) < 9e15 else { return nil }
            result.append(number.intValue)
        }
        return result
    }
}
