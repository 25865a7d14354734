import DLMGraph
import DLMRuntime
import Foundation
import Testing

/// A fresh temporary directory for files a test writes.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("dlmc-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite struct NPYTests {
    @Test(arguments: [DType.f32, .f64, .i32, .i64, .bool, .u8])
    func roundTripsEveryDType(dtype: DType) throws {
        let values: [Double] = dtype == .bool ? [1, 0, 1, 1, 0, 0] : [1, -2, 3, 4, 5, 6].map { dtype == .u8 ? abs($0) : $0 }
        let tensor = try Tensor(dtype: dtype, shape: [2, 3], values: values)
        let decoded = try NPY.decode(NPY.encode(tensor), path: "t.npy")
        #expect(decoded.dtype == dtype && decoded.shape == [2, 3] && decoded.scalars == values)
    }

    /// A header NumPy wrote (np.save of a big-endian '>f4' array of [1.5, -2]), byte for byte.
    @Test func readsBigEndianAsWrittenByNumPy() throws {
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        var header = "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }"
        header += String(repeating: " ", count: 128 - 10 - header.utf8.count - 1) + "\n"
        bytes += [UInt8(header.utf8.count), 0] + Array(header.utf8)
        bytes += [0x3F, 0xC0, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00]   // 1.5, -2.0 big-endian
        let tensor = try NPY.decode(bytes, path: "be.npy")
        #expect(tensor.scalars == [1.5, -2])
    }

    @Test func rejectsBadFilesWithTheirName() throws {
        let good = NPY.encode(try Tensor(shape: [4], scalars: [1, 2, 3, 4]))
        let cases: [(String, [UInt8])] = [
            ("truncated data", Array(good.dropLast(3))),
            ("truncated header", Array(good.prefix(20))),
            ("bad magic", [0x00] + Array(good.dropFirst())),
            ("fortran", Array(String(decoding: good, as: UTF8.self).replacingOccurrences(of: "False", with: "True ").utf8)),
            ("object", Array(String(decoding: good, as: UTF8.self).replacingOccurrences(of: "<f4", with: "|O8").utf8)),
            ("empty", []),
        ]
        for (name, bytes) in cases {
            #expect(throws: FormatError.self, "\(name)") { try NPY.decode(bytes, path: "\(name).npy") }
        }
        do {
            _ = try NPY.decode(Array(good.dropLast(3)), path: "short.npy")
        } catch let error as FormatError {
            #expect(error.description.hasPrefix("short.npy: header says <f4 [4] (16 bytes) but the file holds 13 bytes"))
        }
    }

    @Test func writesAtomically() throws {
        let directory = try temporaryDirectory()
        let path = directory.appendingPathComponent("out.npy").path
        try NPY.write(try Tensor(shape: [2], scalars: [1, 2]), to: path)
        try NPY.write(try Tensor(shape: [3], scalars: [1, 2, 3]), to: path)
        #expect(try NPY.read(path).shape == [3])
        // Only the file itself remains: no temporary left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["out.npy"])
    }
}

@Suite struct SafeTensorsTests {
    private func file(header: String, data: [UInt8]) -> [UInt8] {
        let json = Array(header.utf8)
        return (0..<8).map { UInt8(truncatingIfNeeded: json.count >> (8 * $0)) } + json + data
    }

    @Test func roundTrips() throws {
        let contents = SafeTensors.Contents(tensors: [
            "dense1.weight": try Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]),
            "dense1.bias": try Tensor(dtype: .f64, shape: [2], values: [0.5, -0.5]),
            "ids": try Tensor(dtype: .i64, shape: [0], values: []),
        ], metadata: ["model": "M"])
        let decoded = try SafeTensors.decode(SafeTensors.encode(contents), path: "w.safetensors")
        #expect(decoded.metadata == ["model": "M"])
        #expect(decoded.tensors["dense1.weight"]?.scalars == [1, 2, 3, 4])
        #expect(decoded.tensors["dense1.bias"]?.dtype == .f64)
        #expect(decoded.tensors["ids"]?.shape == [0])
    }

    @Test func headerIsPaddedToEightBytes() throws {
        let bytes = try SafeTensors.encode(SafeTensors.Contents(tensors: ["a": try Tensor(shape: [1], scalars: [1])]))
        let length = Int(bytes[0]) | Int(bytes[1]) << 8
        #expect(length % 8 == 0)
        #expect(bytes.count == 8 + length + 4)
    }

    @Test func rejectsLyingFiles() {
        let four = [UInt8](repeating: 0, count: 8)
        let cases: [(String, [UInt8])] = [
            ("too short", [1, 2, 3]),
            ("header past end", [0xFF, 0, 0, 0, 0, 0, 0, 0, 0x7B]),
            ("huge header", [0, 0, 0, 0, 0, 0, 0, 0x10]),
            ("not json", file(header: "{nope", data: [])),
            ("not an object", file(header: "[1, 2]", data: [])),
            ("bad dtype", file(header: #"{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, data: four)),
            ("offsets out of range", file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, data: four)),
            ("size mismatch", file(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: four)),
            ("overlap", file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: four)),
            ("negative shape", file(header: #"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, data: four)),
            ("reversed offsets", file(header: #"{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#, data: four)),
            ("missing offsets", file(header: #"{"a":{"dtype":"F32","shape":[2]}}"#, data: four)),
        ]
        for (name, bytes) in cases {
            #expect(throws: FormatError.self, "\(name)") { try SafeTensors.decode(bytes, path: "\(name).safetensors") }
        }
    }

    @Test func mutatedFilesNeverCrash() throws {
        let good = try SafeTensors.encode(SafeTensors.Contents(tensors: [
            "w": try Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6]), "b": try Tensor(shape: [2], scalars: [1, 2]),
        ]))
        var random = RandomSource(seed: 99)
        for _ in 0..<2000 {
            var bytes = good
            for _ in 0..<(1 + Int(random.next() % 4)) {
                let i = Int(random.next() % UInt64(bytes.count))
                bytes[i] = UInt8(truncatingIfNeeded: random.next())
            }
            if random.next() % 4 == 0 { bytes = Array(bytes.prefix(Int(random.next() % UInt64(bytes.count)))) }
            _ = try? SafeTensors.decode(bytes, path: "fuzz.safetensors")
            _ = try? NPY.decode(bytes, path: "fuzz.npy")
        }
    }
}
