/// The memory behind tensors: one 64-byte-aligned allocation, freed with
/// its last owner. Tensors share storage until one of them is mutated.
final class TensorStorage: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    let byteCount: Int

    /// Zero-filled storage of `byteCount` bytes.
    init(byteCount: Int) {
        self.byteCount = byteCount
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(1, byteCount), alignment: 64)
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: max(1, byteCount))
    }

    /// A copy of `byteCount` bytes at `source`.
    init(copying source: UnsafeRawPointer, byteCount: Int) {
        self.byteCount = byteCount
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(1, byteCount), alignment: 64)
        pointer.copyMemory(from: source, byteCount: byteCount)
    }

    deinit {
        pointer.deallocate()
    }
}
