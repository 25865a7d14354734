import DLMRuntime

/// Whole-row copies along a tensor's first axis, by `memcpy`, for any dtype.
extension Tensor {
    /// The number of bytes in one row (one example) along the first axis.
    var rowByteCount: Int {
        guard let rows = shape.first, rows > 0 else { return 0 }
        return byteCount / rows
    }

    /// A new tensor holding the rows at `indices`, in that order (rows may repeat).
    func gatheringRows(_ indices: [Int]) throws -> Tensor {
        let rows = shape.first ?? 0
        if let bad = indices.first(where: { $0 < 0 || $0 >= rows }) {
            throw TrainingError("row \(bad) is outside 0..<\(rows)")
        }
        var result = try Tensor(zeros: dtype, shape: [indices.count] + shape.dropFirst())
        let stride = rowByteCount
        guard stride > 0 else { return result }
        withUnsafeBytes { source in
            result.withUnsafeMutableBytes { destination in
                guard let from = source.baseAddress, let to = destination.baseAddress else { return }
                for (i, row) in indices.enumerated() {
                    (to + i * stride).copyMemory(from: from + row * stride, byteCount: stride)
                }
            }
        }
        return result
    }

    /// A new tensor holding the contiguous rows in `range` (one copy).
    func slicingRows(_ range: Range<Int>) throws -> Tensor {
        let rows = shape.first ?? 0
        guard range.lowerBound >= 0, range.upperBound <= rows else {
            throw TrainingError("rows \(range) are outside 0..<\(rows)")
        }
        let stride = rowByteCount
        return try withUnsafeBytes { bytes in
            try Tensor(dtype: dtype, shape: [range.count] + shape.dropFirst(),
                       bytes: UnsafeRawBufferPointer(rebasing: bytes[(range.lowerBound * stride)..<(range.upperBound * stride)]))
        }
    }
}
