/// A bump allocator for intermediate tensors. `reset()` keeps its memory,
/// so a graph run again with the same shapes (or a scan body run once per
/// time step) allocates nothing after the first run.
final class Workspace {
    private struct Block {
        let base: UnsafeMutableRawPointer
        let size: Int
    }

    private var blocks: [Block] = []
    private var current = 0
    private var offset = 0
    static let alignment = 64

    init() {}

    deinit {
        for block in blocks { block.base.deallocate() }
    }

    /// Bytes held, for statistics.
    var capacity: Int { blocks.reduce(0) { $0 + $1.size } }

    /// Makes all memory available again without freeing it.
    func reset() {
        current = 0
        offset = 0
    }

    /// `byteCount` bytes aligned to 64, valid until the next `reset()`.
    func allocate(_ byteCount: Int) -> UnsafeMutableRawPointer {
        let size = max(Self.alignment, (byteCount + Self.alignment - 1) / Self.alignment * Self.alignment)
        while current < blocks.count {
            if offset + size <= blocks[current].size {
                let pointer = blocks[current].base + offset
                offset += size
                return pointer
            }
            current += 1
            offset = 0
        }
        let blockSize = max(size, 1 << 20, (blocks.last?.size ?? 0) * 2)
        let base = UnsafeMutableRawPointer.allocate(byteCount: blockSize, alignment: Self.alignment)
        blocks.append(Block(base: base, size: blockSize))
        current = blocks.count - 1
        offset = size
        return base
    }
}
