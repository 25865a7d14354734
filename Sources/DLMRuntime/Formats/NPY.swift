import DLMGraph

/// NumPy `.npy` files: versions 1.0–3.0, little or big endian, C order.
public enum NPY {
    private static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// Reads a `.npy` file into a tensor (big-endian data is byte-swapped).
    public static func read(_ path: String) throws -> Tensor {
        try decode(try FileIO.read(path), path: path)
    }

    /// Parses `.npy` bytes; `path` names the source in errors.
    public static func decode(_ bytes: [UInt8], path: String) throws -> Tensor {
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw FormatError(path, "not a .npy file (bad magic bytes)") }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw FormatError(path, "truncated .npy header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw FormatError(path, "unsupported .npy version \(major).\(bytes[7])")
        }
        guard headerLength <= 1 << 20 else { throw FormatError(path, ".npy header of \(headerLength) bytes is too large") }
        guard headerStart + headerLength <= bytes.count else { throw FormatError(path, "truncated .npy header") }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        let fields = try parseHeader(header, path: path)
        guard !fields.fortranOrder else {
            throw FormatError(path, "Fortran-ordered arrays are not supported; save with numpy.ascontiguousarray(x)")
        }
        let (dtype, bigEndian) = try elementType(fields.descr, path: path)
        let count: Int
        do { count = try Tensor.checkedCount(fields.shape) } catch { throw FormatError(path, "shape \(fields.shape) is invalid") }
        let dataStart = headerStart + headerLength
        let expected = count * dtype.byteSize
        guard bytes.count - dataStart == expected else {
            throw FormatError(path, "header says \(fields.descr) \(fields.shape) (\(expected) bytes) but the file holds \(bytes.count - dataStart) bytes of data")
        }
        var tensor = try bytes[dataStart...].withUnsafeBytes { try Tensor(dtype: dtype, shape: fields.shape, bytes: $0) }
        if bigEndian && dtype.byteSize > 1 {
            tensor.withUnsafeMutableBytes { raw in ByteOrder.swap(raw, elementSize: dtype.byteSize) }
        }
        return tensor
    }

    /// Encodes a tensor as `.npy` (version 1.0, or 2.0 if the header needs it), little endian.
    public static func encode(_ tensor: Tensor) -> [UInt8] {
        let descr: String = switch tensor.dtype {
        case .f32: "<f4"
        case .f64: "<f8"
        case .i32: "<i4"
        case .i64: "<i8"
        case .bool: "|b1"
        case .u8: "|u1"
        }
        let shape = tensor.shape.count == 1 ? "(\(tensor.shape[0]),)" : "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
        let prefixV1 = 10, prefixV2 = 12
        let useV2 = prefixV1 + header.utf8.count + 1 > 65_535
        let prefix = useV2 ? prefixV2 : prefixV1
        // Pad with spaces so the data starts on a 64-byte boundary, ending in a newline.
        let padding = (64 - (prefix + header.utf8.count + 1) % 64) % 64
        header += String(repeating: " ", count: padding) + "\n"
        var bytes = magic + [useV2 ? 2 : 1, 0]
        let length = header.utf8.count
        bytes += useV2 ? [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 24 & 0xFF)]
                       : [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF)]
        bytes += Array(header.utf8)
        tensor.withUnsafeBytes { bytes += $0 }
        return bytes
    }

    /// Writes a tensor to a `.npy` file atomically.
    public static func write(_ tensor: Tensor, to path: String) throws {
        try FileIO.writeAtomically(encode(tensor), to: path)
    }

    private struct Header {
        var descr = ""
        var fortranOrder = false
        var shape: [Int] = []
    }

    /// Parses the Python-literal header dict: `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
    private static func parseHeader(_ text: String, path: String) throws -> Header {
        func value(of key: String) throws -> Substring {
            guard let keyRange = text.range(of: "'\(key)'") ?? text.range(of: "\"\(key)\"") else {
                throw FormatError(path, ".npy header has no '\(key)'")
            }
            let rest = text[keyRange.upperBound...].drop { $0 == " " || $0 == ":" }
            return rest
        }
        var header = Header()
        let descr = try value(of: "descr")
        guard let quote = descr.first, quote == "'" || quote == "\"", let end = descr.dropFirst().firstIndex(of: quote) else {
            throw FormatError(path, ".npy header has a malformed 'descr' (object or structured arrays are not supported)")
        }
        header.descr = String(descr[descr.index(after: descr.startIndex)..<end])
        let order = try value(of: "fortran_order")
        if order.hasPrefix("True") { header.fortranOrder = true } else if !order.hasPrefix("False") {
            throw FormatError(path, ".npy header has a malformed 'fortran_order'")
        }
        let shape = try value(of: "shape")
        guard shape.first == "(", let close = shape.firstIndex(of: ")") else { throw FormatError(path, ".npy header has a malformed 'shape'") }
        for part in shape[shape.index(after: shape.startIndex)..<close].split(separator: ",") {
            let trimmed = part.filter { $0 != " " && $0 != "L" }
            if trimmed.isEmpty { continue }
            guard let n = Int(trimmed), n >= 0 else { throw FormatError(path, ".npy header has a malformed 'shape'") }
            header.shape.append(n)
        }
        return header
    }

    private static func elementType(_ descr: String, path: String) throws -> (DType, bigEndian: Bool) {
        guard descr.count >= 3, let order = descr.first else { throw FormatError(path, "unsupported .npy dtype '\(descr)'") }
        let code = String(descr.dropFirst())
        let dtype: DType? = switch code {
        case "f4": .f32
        case "f8": .f64
        case "i4": .i32
        case "i8": .i64
        case "b1": .bool
        case "u1": .u8
        default: nil
        }
        guard let dtype, "<>|=".contains(order) else {
            let hint = code.hasPrefix("O") ? " (object arrays cannot be loaded; convert to a numeric dtype)" : " (supported: f4, f8, i4, i8, b1, u1)"
            throw FormatError(path, "unsupported .npy dtype '\(descr)'\(hint)")
        }
        return (dtype, order == ">")
    }
}

/// Byte-order helpers for big-endian formats (IDX, big-endian .npy).
enum ByteOrder {
    /// Reverses the bytes of every element in place.
    static func swap(_ raw: UnsafeMutableRawBufferPointer, elementSize: Int) {
        guard elementSize > 1 else { return }
        var i = 0
        while i + elementSize <= raw.count {
            var a = i, b = i + elementSize - 1
            while a < b {
                raw.swapAt(a, b)
                a += 1
                b -= 1
            }
            i += elementSize
        }
    }
}
