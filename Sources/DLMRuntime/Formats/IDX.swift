import DLMGraph

/// The IDX format of MNIST: a big-endian header (two zero bytes, a type
/// byte, the rank, one u32 per dimension) then the data, raw or gzipped.
public enum IDX {
    /// Reads an IDX file (gzip is detected from its magic number). u8 data
    /// stays u8; i8/i16/i32 become i32, f32 stays f32, f64 stays f64.
    public static func read(_ path: String) throws -> Tensor {
        var bytes = try FileIO.read(path)
        if Inflate.isGzip(bytes) {
            do { bytes = try Inflate.gunzip(bytes, maximumOutput: 4 << 30) } catch { throw FormatError(path, "\(error)") }
        }
        return try decode(bytes, path: path)
    }

    /// Parses uncompressed IDX bytes.
    public static func decode(_ bytes: [UInt8], path: String) throws -> Tensor {
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0 else { throw FormatError(path, "not an IDX file (bad magic bytes)") }
        let (dtype, size): (DType, Int)
        switch bytes[2] {
        case 0x08: (dtype, size) = (.u8, 1)
        case 0x09: (dtype, size) = (.i32, 1)
        case 0x0B: (dtype, size) = (.i32, 2)
        case 0x0C: (dtype, size) = (.i32, 4)
        case 0x0D: (dtype, size) = (.f32, 4)
        case 0x0E: (dtype, size) = (.f64, 8)
        default: throw FormatError(path, "unknown IDX element type 0x\(String(bytes[2], radix: 16))")
        }
        let rank = Int(bytes[3])
        guard rank >= 1, bytes.count >= 4 + 4 * rank else { throw FormatError(path, "truncated IDX header") }
        var shape: [Int] = []
        for axis in 0..<rank {
            let o = 4 + 4 * axis
            shape.append(Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3]))
        }
        let count: Int
        do { count = try Tensor.checkedCount(shape) } catch { throw FormatError(path, "IDX shape \(shape) is too large") }
        let start = 4 + 4 * rank
        guard bytes.count - start == count * size else {
            let what = shape.count >= 3 ? "\(shape[0]) items of \(shape.dropFirst().map(String.init).joined(separator: "×"))" : "shape \(shape)"
            throw FormatError(path, "header says \(what) (\(count * size) bytes of data) but the file holds \(bytes.count - start) bytes")
        }
        var tensor = try Tensor(zeros: dtype, shape: shape)
        tensor.withUnsafeMutableBytes { raw in
            switch bytes[2] {
            case 0x08: raw.copyBytes(from: bytes[start...])
            case 0x09:
                let out = raw.bindMemory(to: Int32.self)
                for i in 0..<count { out[i] = Int32(Int8(bitPattern: bytes[start + i])) }
            case 0x0B:
                let out = raw.bindMemory(to: Int32.self)
                for i in 0..<count { out[i] = Int32(Int16(bitPattern: UInt16(bytes[start + 2 * i]) << 8 | UInt16(bytes[start + 2 * i + 1]))) }
            default:
                // 4- and 8-byte big-endian elements: copy, then swap to little endian.
                raw.copyBytes(from: bytes[start...])
                ByteOrder.swap(raw, elementSize: size)
            }
        }
        return tensor
    }
}
