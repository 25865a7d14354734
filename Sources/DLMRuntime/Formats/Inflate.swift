/// DEFLATE (RFC 1951) decompression and the gzip container (RFC 1952), with
/// every read bounds-checked and a cap on the output size, so a corrupt or
/// hostile file is an error, never a crash or a memory blow-up.
public enum Inflate {
    /// Errors in compressed data.
    public struct DataError: Error, CustomStringConvertible, Sendable {
        public let problem: String
        public var description: String { problem }
    }

    /// Whether bytes start with the gzip magic number.
    public static func isGzip(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// Decompresses a gzip file (all members), checking each member's CRC-32 and length.
    public static func gunzip(_ bytes: [UInt8], maximumOutput: Int = 1 << 32) throws -> [UInt8] {
        var output: [UInt8] = []
        var position = 0
        while position < bytes.count {
            guard bytes.count - position >= 18, bytes[position] == 0x1F, bytes[position + 1] == 0x8B else {
                if output.isEmpty { throw DataError(problem: "not a gzip file") }
                break   // trailing garbage after a complete member, as gzip(1) tolerates
            }
            guard bytes[position + 2] == 8 else { throw DataError(problem: "unsupported gzip compression method \(bytes[position + 2])") }
            let flags = bytes[position + 3]
            var cursor = position + 10
            func need(_ n: Int) throws { if cursor + n > bytes.count { throw DataError(problem: "truncated gzip header") } }
            if flags & 0x04 != 0 {   // FEXTRA
                try need(2)
                let length = Int(bytes[cursor]) | Int(bytes[cursor + 1]) << 8
                cursor += 2
                try need(length)
                cursor += length
            }
            for flag: UInt8 in [0x08, 0x10] where flags & flag != 0 {   // FNAME, FCOMMENT: zero-terminated
                while true {
                    try need(1)
                    cursor += 1
                    if bytes[cursor - 1] == 0 { break }
                }
            }
            if flags & 0x02 != 0 { try need(2); cursor += 2 }   // FHCRC
            let start = output.count
            var reader = BitReader(bytes: bytes, position: cursor)
            try inflate(&reader, into: &output, maximumOutput: maximumOutput)
            cursor = reader.alignedPosition
            guard cursor + 8 <= bytes.count else { throw DataError(problem: "truncated gzip trailer") }
            let crc = UInt32(bytes[cursor]) | UInt32(bytes[cursor + 1]) << 8 | UInt32(bytes[cursor + 2]) << 16 | UInt32(bytes[cursor + 3]) << 24
            let size = UInt32(bytes[cursor + 4]) | UInt32(bytes[cursor + 5]) << 8 | UInt32(bytes[cursor + 6]) << 16 | UInt32(bytes[cursor + 7]) << 24
            guard CRC32.checksum(output[start...]) == crc else { throw DataError(problem: "gzip CRC-32 mismatch (corrupt data)") }
            guard UInt32(truncatingIfNeeded: output.count - start) == size else { throw DataError(problem: "gzip length mismatch (corrupt data)") }
            position = cursor + 8
        }
        return output
    }

    /// Decompresses a raw DEFLATE stream.
    static func inflate(_ reader: inout BitReader, into output: inout [UInt8], maximumOutput: Int) throws {
        var last = false
        while !last {
            last = try reader.bits(1) == 1
            switch try reader.bits(2) {
            case 0:
                reader.alignToByte()
                let length = try reader.bits(16), complement = try reader.bits(16)
                guard length == ~complement & 0xFFFF else { throw DataError(problem: "corrupt stored block length") }
                guard output.count + length <= maximumOutput else { throw DataError(problem: "decompressed data exceeds \(maximumOutput) bytes") }
                output += try reader.bytes(length)
            case 1:
                try decodeBlock(&reader, &output, literals: Huffman.fixedLiterals, distances: Huffman.fixedDistances, maximumOutput: maximumOutput)
            case 2:
                let (literals, distances) = try readDynamicTables(&reader)
                try decodeBlock(&reader, &output, literals: literals, distances: distances, maximumOutput: maximumOutput)
            default:
                throw DataError(problem: "invalid DEFLATE block type")
            }
        }
    }

    private static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    private static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    private static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
                                       4097, 6145, 8193, 12289, 16385, 24577]
    private static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    private static func decodeBlock(_ reader: inout BitReader, _ output: inout [UInt8], literals: Huffman, distances: Huffman, maximumOutput: Int) throws {
        while true {
            let symbol = try literals.decode(&reader)
            if symbol < 256 {
                guard output.count < maximumOutput else { throw DataError(problem: "decompressed data exceeds \(maximumOutput) bytes") }
                output.append(UInt8(symbol))
            } else if symbol == 256 {
                return
            } else {
                let index = symbol - 257
                guard index < lengthBase.count else { throw DataError(problem: "invalid DEFLATE length code") }
                let length = lengthBase[index] + (try reader.bits(lengthExtra[index]))
                let code = try distances.decode(&reader)
                guard code < distanceBase.count else { throw DataError(problem: "invalid DEFLATE distance code") }
                let distance = distanceBase[code] + (try reader.bits(distanceExtra[code]))
                guard distance <= output.count else { throw DataError(problem: "DEFLATE distance reaches before the start of the data") }
                guard output.count + length <= maximumOutput else { throw DataError(problem: "decompressed data exceeds \(maximumOutput) bytes") }
                let from = output.count - distance
                for i in 0..<length { output.append(output[from + i]) }
            }
        }
    }

    private static func readDynamicTables(_ reader: inout BitReader) throws -> (Huffman, Huffman) {
        let literalCount = try reader.bits(5) + 257, distanceCount = try reader.bits(5) + 1, codeLengthCount = try reader.bits(4) + 4
        guard literalCount <= 286, distanceCount <= 30 else { throw DataError(problem: "too many DEFLATE codes") }
        let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
        var codeLengths = [Int](repeating: 0, count: 19)
        for i in 0..<codeLengthCount { codeLengths[order[i]] = try reader.bits(3) }
        let codeLengthCode = try Huffman(lengths: codeLengths)
        var lengths: [Int] = []
        while lengths.count < literalCount + distanceCount {
            let symbol = try codeLengthCode.decode(&reader)
            switch symbol {
            case 0..<16: lengths.append(symbol)
            case 16:
                guard let previous = lengths.last else { throw DataError(problem: "DEFLATE repeat with nothing to repeat") }
                lengths += [Int](repeating: previous, count: 3 + (try reader.bits(2)))
            case 17: lengths += [Int](repeating: 0, count: 3 + (try reader.bits(3)))
            default: lengths += [Int](repeating: 0, count: 11 + (try reader.bits(7)))
            }
        }
        guard lengths.count == literalCount + distanceCount else { throw DataError(problem: "DEFLATE code lengths overflow") }
        guard lengths[256] > 0 else { throw DataError(problem: "DEFLATE block has no end-of-block code") }
        return (try Huffman(lengths: Array(lengths[..<literalCount])), try Huffman(lengths: Array(lengths[literalCount...])))
    }
}

/// Reads bits least-significant first, as DEFLATE stores them.
struct BitReader {
    let bytes: [UInt8]
    private(set) var position: Int
    private var bitBuffer: UInt64 = 0
    private var bitCount = 0

    init(bytes: [UInt8], position: Int) {
        self.bytes = bytes
        self.position = position
    }

    mutating func bits(_ n: Int) throws -> Int {
        guard n > 0 else { return 0 }
        while bitCount < n {
            guard position < bytes.count else { throw Inflate.DataError(problem: "compressed data is truncated") }
            bitBuffer |= UInt64(bytes[position]) << UInt64(bitCount)
            position += 1
            bitCount += 8
        }
        let value = Int(bitBuffer & ((1 << UInt64(n)) - 1))
        bitBuffer >>= UInt64(n)
        bitCount -= n
        return value
    }

    mutating func alignToByte() {
        bitBuffer >>= UInt64(bitCount % 8)
        bitCount -= bitCount % 8
    }

    mutating func bytes(_ n: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(UInt8(try bits(8))) }
        return out
    }

    /// The byte position after the last bit consumed (whole buffered bytes are given back).
    var alignedPosition: Int { position - bitCount / 8 }
}

/// A canonical Huffman code, decoded with a table indexed by up to 9 bits
/// and a per-length search for longer codes.
struct Huffman {
    private var counts = [Int](repeating: 0, count: 16)
    private var symbols: [Int] = []

    init(lengths: [Int]) throws {
        for length in lengths {
            guard length >= 0 && length <= 15 else { throw Inflate.DataError(problem: "invalid Huffman code length") }
            counts[length] += 1
        }
        counts[0] = 0
        var offsets = [Int](repeating: 0, count: 16)
        for length in 1..<16 { offsets[length] = offsets[length - 1] + counts[length - 1] }
        symbols = [Int](repeating: 0, count: lengths.count)
        for (symbol, length) in lengths.enumerated() where length > 0 {
            symbols[offsets[length]] = symbol
            offsets[length] += 1
        }
        // Over-subscribed codes are invalid.
        var left = 1
        for length in 1..<16 {
            left <<= 1
            left -= counts[length]
            guard left >= 0 else { throw Inflate.DataError(problem: "over-subscribed Huffman code") }
        }
    }

    /// Canonical decoding, one bit at a time (simple and bounded: at most 15 steps).
    func decode(_ reader: inout BitReader) throws -> Int {
        var code = 0, first = 0, index = 0
        for length in 1..<16 {
            code |= try reader.bits(1)
            let count = counts[length]
            if code - first < count { return symbols[index + code - first] }
            index += count
            first += count
            first <<= 1
            code <<= 1
        }
        throw Inflate.DataError(problem: "invalid Huffman code in compressed data")
    }

    /// A code with no symbols (decoding always fails); stands in if a fixed table were ever rejected.
    private init() {}

    static let fixedLiterals: Huffman = {
        let lengths = [Int](repeating: 8, count: 144) + [Int](repeating: 9, count: 112) + [Int](repeating: 7, count: 24) + [Int](repeating: 8, count: 8)
        return (try? Huffman(lengths: lengths)) ?? Huffman()
    }()

    static let fixedDistances: Huffman = (try? Huffman(lengths: [Int](repeating: 5, count: 30))) ?? Huffman()
}

/// CRC-32 (IEEE 802.3), as gzip uses.
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
