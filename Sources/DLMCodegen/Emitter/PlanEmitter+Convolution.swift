import CLLVM
import DLMGraph

/// Convolutions with a shallow receptive field (kh·kw·C up to
/// `directDepth`, like a first layer on one-channel images) as direct loops:
/// per output pixel, a vectorised loop over the filters accumulates the
/// unrolled receptive field in registers, and the group's epilogue (bias,
/// activation) is applied before the single store. OpenBLAS handles such
/// thin GEMMs poorly and im2col would copy the input kh·kw times; deeper
/// unpadded ones are implicit GEMMs (below), padded ones keep the
/// interpreter's im2col + OpenBLAS path.
extension PlanEmitter {
    /// The largest receptive field compiled directly.
    static let directDepth = 64

    /// A kernel for a conv group computed directly, or `nil` when the convolution is too deep.
    /// It takes the `pendingPool` (clearing it): then it computes each pooling window's
    /// convolution pixels and stores only the pooled result, never the convolution's
    /// (for MNIST's first layer, 5.5 MB at batch 64 not written and read back).
    func directConvolution(_ node: Node, group: Graph, head: Node, outer: [ValueID: ValueID], root: ValueID) throws
        -> (LLVMValueRef?, LLVMValueRef?) throws -> Void
    {
        let graph = layout.graph
        let (input, filter, x, w) = try convolutionOperands(head, outer)
        let (strides, padding, dilations) = try convolutionAttributes(head)
        let out = try concreteShape(graph, node.results[0])
        let (height, width, channels) = (x[1], x[2], x[3])
        let (kh, kw, filters) = (w[0], w[1], w[3])
        guard kh * kw * channels <= Self.directDepth else { throw Unsupported("a deep convolution") }
        // The kernel's output grid: the pool's, or the convolution's (a 1×1 window).
        let pool = pendingPool.flatMap { kh * kw * channels * $0.window[0] * $0.window[1] <= Self.pooledTaps ? $0 : nil }
        let output = pool?.node.results[0] ?? node.results[0]
        let grid = try concreteShape(graph, output)
        let window = pool?.window ?? [1, 1], poolStrides = pool?.strides ?? [1, 1]
        let isMax = pool?.isMax ?? true
        let padded = padding.contains { $0 != 0 }
        let headValue = head.results[0]
        // The epilogue reads the convolution's value from a register.
        let epilogue = try ElementalBody(
            root: root, in: group, shape: out, bindings: layout.bindings,
            leaf: { value in
                if value == headValue { return .register(0) }
                return outer[value].flatMap { self.location(of: $0) }
            },
            shapeOf: { try self.concreteShape(group, $0) }, constants: constantLocation)
        let dtype = graph.type(of: output).dtype
        if pool != nil { pendingPool = nil }
        return { arena, slots in
            let m = self.module
            let b = m.builder
            let source = self.address(of: self.location(of: input), arena, slots)
            let weights = self.address(of: self.location(of: filter), arena, slots)
            let target = self.address(of: self.location(of: output), arena, slots)
            let bases = epilogue.accesses.map { self.address(of: $0.location, arena, slots) }
            let loops = LoopNest(module: m, function: self.currentFunction)
            let pixels = grid[0] * grid[1] * grid[2]
            self.kernelWork = pixels * window[0] * window[1] * filters * kh * kw * channels
            try loops.outerLoop(pixels, "pixel", range: self.takeSplit(pixels)) { pixel in
                let px = LLVMBuildURem(b, pixel, m.int64(grid[2]), "")
                let rest = LLVMBuildUDiv(b, pixel, m.int64(grid[2]), "")
                let py = LLVMBuildURem(b, rest, m.int64(grid[1]), "")
                let n = LLVMBuildUDiv(b, rest, m.int64(grid[1]), "")
                // Per convolution pixel of the window: its receptive field's input elements (a safe
                // address and a zero for cells in the padding) and its index in the convolution's output.
                var cells: [(values: [LLVMValueRef?], weightRows: [Int], indices: [LLVMValueRef?])] = []
                for wy in 0..<window[0] {
                    for wx in 0..<window[1] {
                        let oy = LLVMBuildAdd(b, LLVMBuildMul(b, py, m.int64(poolStrides[0]), ""), m.int64(wy), "")
                        let ox = LLVMBuildAdd(b, LLVMBuildMul(b, px, m.int64(poolStrides[1]), ""), m.int64(wx), "")
                        var values: [LLVMValueRef?] = [], weightRows: [Int] = []
                        for ky in 0..<kh {
                            for kx in 0..<kw {
                                let (base, inside) = self.windowCell(n: n, y: oy, x: ox, offset: (ky * dilations[0] - padding[0], kx * dilations[1] - padding[2]),
                                                                     strides: strides, input: (height, width, channels), padded: padded)
                                for c in 0..<channels {
                                    let value = self.scalar.load(.f32, source, LLVMBuildAdd(b, base, m.int64(c), ""))
                                    values.append(inside.map { LLVMBuildSelect(b, $0, value, m.real(0, m.f32), "") } ?? value)
                                    weightRows.append((ky * kw + kx) * channels + c)
                                }
                            }
                        }
                        cells.append((values, weightRows, [n, oy, ox]))
                    }
                }
                try loops.loop(filters, "f") { f in
                    let results = try cells.map { cell -> LLVMValueRef? in
                        var sum = m.real(0, m.f32)
                        for (value, row) in zip(cell.values, cell.weightRows) {
                            let weight = self.scalar.load(.f32, weights, LLVMBuildAdd(b, m.int64(row * filters), f, ""))
                            sum = LLVMBuildFAdd(b, sum, LLVMBuildFMul(b, value, weight, ""), "")
                        }
                        let full = cell.indices + [f]
                        return try self.element(of: epilogue, bases: bases, registers: [0: sum]) { a in
                            loops.linear(full, epilogue.accesses[a].strides, offset: epilogue.accesses[a].offset)
                        }
                    }
                    let pooled = self.pool(results, isMax: isMax)
                    let at = LLVMBuildNUWAdd(b, LLVMBuildNUWMul(b, pixel, m.int64(filters), ""), f, "")
                    self.scalar.store(pooled, dtype, target, at)
                }
            }
        }
    }

    /// A pooling window's float32 values combined as the interpreter's pooling does: their
    /// maximum, or their sum scaled once by 1/count.
    func pool(_ values: [LLVMValueRef?], isMax: Bool) -> LLVMValueRef? {
        let combined = values.dropFirst().reduce(values.first ?? nil) { isMax ? scalar.maximum($0, $1) : LLVMBuildFAdd(b, $0, $1, "") }
        guard !isMax, values.count > 1 else { return combined }
        return LLVMBuildFMul(b, combined, module.real(1 / Double(values.count), module.f32), "")
    }

    /// Receptive-field elements of all a pooling window's convolution pixels, at most, that a
    /// fused kernel keeps in registers.
    static let pooledTaps = 256

    /// The unpadded max or average pool that is the only reader of node `index`'s result, when
    /// that node is a convolution (its group) the direct loops could compute with the pool.
    func poolFollowing(_ index: Int) -> PoolFusion? {
        let graph = layout.graph
        let node = graph.nodes[index]
        guard node.results.count == 1, node.op == .conv2d || (node.op == .fused && node.attributes["kind"] == .string("conv")) else { return nil }
        let result = node.results[0]
        guard !graph.outputs.contains(result) else { return nil }
        let readers = graph.nodes.indices.filter { graph.nodes[$0].operands.contains(result) }
        guard readers.count == 1, let j = readers.first, j > index, graph.nodes[j].operands == [result], graph.nodes[j].op == .pool2d else { return nil }
        let pool = graph.nodes[j]
        guard case .string(let kind)? = pool.attributes["kind"], kind == "max" || kind == "avg",
              case .ints(let window)? = pool.attributes["window"], window.count == 2,
              case .ints(let strides)? = pool.attributes["strides"], strides.count == 2,
              case .ints(let padding)? = pool.attributes["padding"], padding.allSatisfy({ $0 == 0 }),
              graph.type(of: pool.results[0]).dtype == .f32 else { return nil }
        return PoolFusion(node: pool, index: j, isMax: kind == "max", window: window, strides: strides)
    }
}

/// A max or average pool computed by the kernel of the convolution it reads.
struct PoolFusion {
    let node: Node
    /// The pool's node index, which then has no kernel of its own.
    let index: Int
    let isMax: Bool
    let window: [Int], strides: [Int]
}

/// Deeper unpadded convolutions as an implicit GEMM: dlmc's tiled
/// micro-kernel reads each output pixel's receptive field straight from the
/// NHWC input (no im2col copy) against the `[kh·kw·C, F]` filter, and the
/// group's epilogue runs on each tile while it is in L1.
extension PlanEmitter {
    func implicitConvolution(group: Graph, head: Node, outer: [ValueID: ValueID], output: ValueID, epilogue: ElementalBody?, root: ValueID) throws
        -> (LLVMValueRef?, LLVMValueRef?) throws -> Void
    {
        let (input, filter, x, w) = try convolutionOperands(head, outer)
        let (strides, padding, dilations) = try convolutionAttributes(head)
        guard padding.allSatisfy({ $0 == 0 }) else { throw Unsupported("a padded convolution") }
        let out = try concreteShape(layout.graph, output)
        if let pool = pendingPool, pool.window[0] * pool.window[1] <= Self.pooledTileRows {
            return try pooledImplicitConvolution(group: group, head: head, outer: outer, root: root, pool: pool, convolution: out)
        }
        let rows = RowAddressing.convolution(input: (x[1], x[2], x[3]), kernel: (w[0], w[1]), strides: strides, dilations: dilations,
                                             output: (out[1], out[2]))
        let pixels = out[0] * out[1] * out[2]
        guard rows.depth > 0, pixels > 0 else { throw Unsupported("an empty convolution") }
        let tiling = GEMMEmitter.Tiling(m: pixels, n: w[3], rows: rows, lanes: module.vectorLanes)
        return { arena, slots in
            let emitter = GEMMEmitter(module: self.module, scalar: self.scalar, function: self.currentFunction)
            let finish = epilogue.map { self.tileEpilogue($0, output: output, dtype: .f32, arena, slots) }
            self.kernelWork = pixels * w[3] * rows.depth
            try emitter.emitTiled(tiling, a: self.address(of: self.location(of: input), arena, slots),
                                  b: self.address(of: self.location(of: filter), arena, slots),
                                  c: self.address(of: self.location(of: output), arena, slots),
                                  range: self.takeSplit(tiling.tiles), epilogue: finish)
        }
    }
}

/// An implicit GEMM whose rows are the convolution pixels of each pooling window in turn:
/// a tile is one window (its cells × a panel of filters), kept in a small buffer on the
/// stack, and the epilogue (bias, activation) and the pool run on it and store only the
/// pooled pixel. Pixels no window covers (the last row and column of an odd grid pooled
/// 2×2) are never computed. MNIST CNN A's second convolution and pool at batch 64: its
/// 2 MB output is neither written nor read back, and 17% of its products are skipped.
extension PlanEmitter {
    /// Cells of a pooling window at most (the tile's rows: cells × 4 vectors of accumulators).
    static let pooledTileRows = 6

    func pooledImplicitConvolution(group: Graph, head: Node, outer: [ValueID: ValueID], root: ValueID, pool: PoolFusion,
                                   convolution out: [Int]) throws -> (LLVMValueRef?, LLVMValueRef?) throws -> Void {
        let graph = layout.graph
        let (input, filter, x, w) = try convolutionOperands(head, outer)
        let (strides, _, dilations) = try convolutionAttributes(head)
        let output = pool.node.results[0]
        let grid = try concreteShape(graph, output)
        let cells = pool.window[0] * pool.window[1]
        let rows = RowAddressing.convolution(input: (x[1], x[2], x[3]), kernel: (w[0], w[1]), strides: strides, dilations: dilations,
                                             output: (out[1], out[2]), pool: (grid: [grid[1], grid[2]], window: pool.window, strides: pool.strides))
        let pooledPixels = grid[0] * grid[1] * grid[2]
        let filters = w[3]
        guard rows.depth > 0, pooledPixels > 0 else { throw Unsupported("an empty convolution") }
        let tiling = GEMMEmitter.Tiling(m: pooledPixels * cells, n: filters, rows: rows, lanes: module.vectorLanes, windowRows: cells)
        // The epilogue reads the convolution's value from a register (the tile buffer's element).
        let headValue = head.results[0]
        let epilogue = try ElementalBody(
            root: root, in: group, shape: out, bindings: layout.bindings,
            leaf: { value in value == headValue ? .register(0) : outer[value].flatMap { self.location(of: $0) } },
            shapeOf: { try self.concreteShape(group, $0) }, constants: constantLocation)
        pendingPool = nil
        return { arena, slots in
            let m = self.module
            let b = m.builder
            let tileType = LLVMArrayType(m.f32, UInt32(cells * tiling.panelWidth))
            let tile = LLVMBuildBitCast(b, LLVMBuildAlloca(b, tileType, "window.tile"), m.bytePointer, "")
            let bases = epilogue.accesses.map { self.address(of: $0.location, arena, slots) }
            let target = self.address(of: self.location(of: output), arena, slots)
            let emitter = GEMMEmitter(module: m, scalar: self.scalar, function: self.currentFunction)
            self.kernelWork = pooledPixels * cells * filters * rows.depth
            try emitter.emitTiled(tiling, a: self.address(of: self.location(of: input), arena, slots),
                                  b: self.address(of: self.location(of: filter), arena, slots), c: tile,
                                  range: self.takeSplit(tiling.tiles)) { row0, _, column0, width in
                let pixel = LLVMBuildUDiv(b, row0, m.int64(cells), "pooled")
                let px = LLVMBuildURem(b, pixel, m.int64(grid[2]), "")
                let rest = LLVMBuildUDiv(b, pixel, m.int64(grid[2]), "")
                let py = LLVMBuildURem(b, rest, m.int64(grid[1]), "")
                let n = LLVMBuildUDiv(b, rest, m.int64(grid[1]), "")
                let windowCells = (0..<cells).map { cell -> [LLVMValueRef?] in
                    [n, LLVMBuildNUWAdd(b, LLVMBuildNUWMul(b, py, m.int64(pool.strides[0]), ""), m.int64(cell / pool.window[1]), ""),
                     LLVMBuildNUWAdd(b, LLVMBuildNUWMul(b, px, m.int64(pool.strides[1]), ""), m.int64(cell % pool.window[1]), "")]
                }
                let loops = LoopNest(module: m, function: self.currentFunction)
                try loops.loop(width, "pool.column", unrolled: false) { j in
                    let column = LLVMBuildNUWAdd(b, column0, j, "")
                    let values = try windowCells.enumerated().map { cell, indices -> LLVMValueRef? in
                        let product = m.load(m.f32, tile, LLVMBuildNUWAdd(b, m.int64(cell * tiling.panelWidth), j, ""))
                        return try self.element(of: epilogue, bases: bases, registers: [0: product]) { a in
                            loops.linear(indices + [column], epilogue.accesses[a].strides, offset: epilogue.accesses[a].offset)
                        }
                    }
                    self.scalar.store(self.pool(values, isMax: pool.isMax), .f32, target, LLVMBuildNUWAdd(b, LLVMBuildNUWMul(b, pixel, m.int64(filters), ""), column, ""))
                }
            }
        }
    }
}

extension PlanEmitter {
    /// A float32 convolution's input and filter values (outside its group) and their shapes.
    func convolutionOperands(_ head: Node, _ outer: [ValueID: ValueID]) throws -> (input: ValueID, filter: ValueID, x: [Int], w: [Int]) {
        let graph = layout.graph
        guard let input = outer[head.operands[0]], let filter = outer[head.operands[1]],
              graph.type(of: input).dtype == .f32, graph.type(of: filter).dtype == .f32 else {
            throw Unsupported("a convolution of values computed inside the group")
        }
        return (input, filter, try concreteShape(graph, input), try concreteShape(graph, filter))
    }

    /// A convolution's strides, padding (top, bottom, left, right) and dilations.
    func convolutionAttributes(_ head: Node) throws -> (strides: [Int], padding: [Int], dilations: [Int]) {
        guard case .ints(let strides)? = head.attributes["strides"], strides.count == 2,
              case .ints(let padding)? = head.attributes["padding"], padding.count == 4 else { throw Unsupported("conv2d attributes") }
        var dilations = [1, 1]
        if case .ints(let d)? = head.attributes["dilations"], d.count == 2 { dilations = d }
        return (strides, padding, dilations)
    }
}
