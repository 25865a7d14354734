/// Copies a strided view into another: the one loop behind broadcast,
/// transpose, slice, concat and the scan's per-step slices. Strides are in
/// elements and may be 0 (broadcast); the innermost axis is a memcpy when
/// both sides are contiguous there.
enum StridedCopy {
    static func copy(shape: [Int], elementSize: Int,
                     from source: UnsafeRawPointer, _ sourceOffset: Int, _ sourceStrides: [Int],
                     to destination: UnsafeMutableRawPointer, _ destinationOffset: Int, _ destinationStrides: [Int]) {
        let rank = shape.count
        if shape.contains(0) { return }
        if rank == 0 {
            (destination + destinationOffset * elementSize).copyMemory(from: source + sourceOffset * elementSize, byteCount: elementSize)
            return
        }
        let inner = shape[rank - 1]
        let si = sourceStrides[rank - 1], di = destinationStrides[rank - 1]
        var index = [Int](repeating: 0, count: max(0, rank - 1))
        var s = sourceOffset, d = destinationOffset
        while true {
            let src = source + s * elementSize
            let dst = destination + d * elementSize
            if si == 1 && di == 1 {
                dst.copyMemory(from: src, byteCount: inner * elementSize)
            } else {
                for i in 0..<inner {
                    (dst + i * di * elementSize).copyMemory(from: src + i * si * elementSize, byteCount: elementSize)
                }
            }
            // Advance the outer index like an odometer.
            var axis = rank - 2
            while axis >= 0 {
                index[axis] += 1
                s += sourceStrides[axis]
                d += destinationStrides[axis]
                if index[axis] < shape[axis] { break }
                s -= sourceStrides[axis] * shape[axis]
                d -= destinationStrides[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
            if axis < 0 { return }
        }
    }
}
