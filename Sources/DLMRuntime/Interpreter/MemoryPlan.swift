import DLMGraph

/// Places every intermediate result of a graph at an offset in one arena,
/// reusing the space of values after their last use (first fit over free
/// gaps), and letting a plain elementwise op write over an operand that dies
/// at it. Inputs and parameters live outside the arena; graph outputs stay
/// live to the end.
struct MemoryPlan {
    /// Byte offset of each node result, parallel to the graph's nodes and their results.
    let offsets: [[Int]]
    /// The arena size the plan needs.
    let arenaBytes: Int
    /// What giving every intermediate its own buffer would need.
    let naiveBytes: Int

    static let alignment = 64

    static func aligned(_ bytes: Int) -> Int { (max(bytes, 1) + alignment - 1) / alignment * alignment }

    /// Plans `graph` for concrete result sizes (`sizes[node][result]` in bytes).
    /// `inPlace` nodes may write over an operand that dies there; `pinned`
    /// values get space of their own for the whole run (they are computed
    /// once and read by later runs, so nothing before them may use it either).
    init(graph: Graph, sizes: [[Int]], inPlace: Set<Int>, pinned: Set<ValueID> = []) {
        var lastUse: [ValueID: Int] = [:]
        for (index, node) in graph.nodes.enumerated() {
            for operand in node.operands { lastUse[operand] = index }
        }
        for output in graph.outputs { lastUse[output] = Int.max }
        for value in pinned { lastUse[value] = Int.max }

        var free: [(offset: Int, size: Int)] = []   // sorted by offset, coalesced
        var end = 0
        var placed: [ValueID: (offset: Int, size: Int)] = [:]
        var exactBytes: [ValueID: Int] = [:]
        var offsets: [[Int]] = []
        var naive = 0

        func release(_ block: (offset: Int, size: Int)) {
            free.append(block)
            free.sort { $0.offset < $1.offset }
            var merged: [(offset: Int, size: Int)] = []
            for b in free {
                if let last = merged.last, last.offset + last.size == b.offset {
                    merged[merged.count - 1].size += b.size
                } else {
                    merged.append(b)
                }
            }
            free = merged
        }

        func allocate(_ size: Int) -> Int {
            if let index = free.firstIndex(where: { $0.size >= size }) {
                let block = free[index]
                if block.size == size { free.remove(at: index) } else { free[index] = (block.offset + size, block.size - size) }
                return block.offset
            }
            // Grow the arena, extending a free gap at its end if there is one.
            if let last = free.last, last.offset + last.size == end {
                free.removeLast()
                end = last.offset + size
                return last.offset
            }
            let offset = end
            end += size
            return offset
        }

        // Pinned values first, at the bottom of the arena, never released.
        var pinnedOffsets: [ValueID: Int] = [:]
        for (index, node) in graph.nodes.enumerated() {
            for (position, result) in node.results.enumerated() where pinned.contains(result) {
                pinnedOffsets[result] = end
                end += Self.aligned(sizes[index][position])
            }
        }

        for (index, node) in graph.nodes.enumerated() {
            var nodeOffsets: [Int] = []
            // An operand that dies here, of exactly the result's size, can be written over. Exactly:
            // same element count and width, so each element overwrites only itself (a result
            // of wider elements in a block of the same rounded size would clobber unread input).
            var reusable: (ValueID, (offset: Int, size: Int))?
            if inPlace.contains(index), node.results.count == 1 {
                for operand in node.operands where lastUse[operand] == index {
                    if let block = placed[operand], exactBytes[operand] == sizes[index][0],
                       node.operands.filter({ $0 == operand }).count == 1 {
                        reusable = (operand, block)
                        break
                    }
                }
            }
            for (position, result) in node.results.enumerated() {
                exactBytes[result] = sizes[index][position]
                let size = Self.aligned(sizes[index][position])
                naive += size
                if let offset = pinnedOffsets[result] {
                    nodeOffsets.append(offset)
                } else if position == 0, let (operand, block) = reusable {
                    placed[operand] = nil
                    placed[result] = block
                    nodeOffsets.append(block.offset)
                } else {
                    let offset = allocate(size)
                    placed[result] = (offset, size)
                    nodeOffsets.append(offset)
                }
            }
            // Operands whose last use is this node give their space back.
            for operand in Set(node.operands) where lastUse[operand] == index {
                if let block = placed.removeValue(forKey: operand) { release(block) }
            }
            // Results nobody reads are dead at once.
            for result in node.results where lastUse[result] == nil {
                if let block = placed.removeValue(forKey: result) { release(block) }
            }
            offsets.append(nodeOffsets)
        }
        self.offsets = offsets
        arenaBytes = end
        naiveBytes = naive
    }
}
