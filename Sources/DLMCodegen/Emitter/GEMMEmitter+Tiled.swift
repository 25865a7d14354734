import CLLVM
import DLMGraph

/// dlmc's own float32 GEMM: a register-tiled micro-kernel in explicit vector
/// IR, `C[M, N] = A[M, K] · B[K, N]` with B row-major and A's rows found
/// through a `RowAddressing` (a matrix, or a convolution's receptive fields
/// read in place: an implicit GEMM with no im2col copy).
///
/// The output is cut into tiles of `tileRows` rows × `tileVectors` vectors
/// of the host's width (6 × 4 zmm on AVX-512: 24 accumulators of 32
/// registers). A tile walks all of K with its accumulators in registers: per
/// step, `tileVectors` loads of a B row, one broadcast of A per row and
/// rows·vectors fused multiply-adds. The last vector of a panel narrower than
/// a vector is a masked load and store, so any N runs vectorised. Tiles are
/// numbered row block by row block, the panels of one row block adjacent (its
/// A rows stay in L1 while B streams from L2); the kernel's outer loop over
/// tile numbers is what the plan splits across threads. A fused epilogue runs
/// on each tile right after its store, while the tile is still in L1.
extension GEMMEmitter {
    /// The tiling of one product.
    struct Tiling {
        let m: Int, n: Int
        let rows: RowAddressing
        let lanes: Int
        /// Rows and vectors of a full tile.
        let tileRows: Int, tileVectors: Int
        /// C is one tile, `panelWidth` floats a row, that the epilogue consumes (a pooled
        /// convolution's window), not the `[M, N]` matrix.
        let localTile: Bool

        /// With `windowRows`, each tile is one pooling window of that many rows (`m` a multiple of
        /// it) and C is that tile's own buffer, for the epilogue to pool.
        init(m: Int, n: Int, rows: RowAddressing, lanes: Int, windowRows: Int? = nil) {
            self.m = m
            self.n = n
            self.rows = rows
            self.lanes = lanes
            tileVectors = min(4, (n + lanes - 1) / lanes)
            // 24 accumulators leave registers for B's vectors and A's broadcast.
            tileRows = windowRows ?? min(m, 8, 24 / tileVectors)
            localTile = windowRows != nil
        }

        var panelWidth: Int { tileVectors * lanes }
        var panels: Int { (n + panelWidth - 1) / panelWidth }
        var rowBlocks: Int { (m + tileRows - 1) / tileRows }
        /// Tiles: the trip count of the kernel's outer loop.
        var tiles: Int { rowBlocks * panels }
        /// Rows in the last row block.
        var lastRows: Int { m - (rowBlocks - 1) * tileRows }
        /// Columns in the last panel.
        var lastWidth: Int { n - (panels - 1) * panelWidth }
    }

    /// Emits an epilogue over rows `row0 ..< row0 + rows` and columns `column0 ..< column0 + width` of C.
    typealias TileEpilogue = (_ row0: LLVMValueRef?, _ rows: Int, _ column0: LLVMValueRef?, _ width: Int) throws -> Void

    /// A matrix D the sums start from, `C = D + A·B` (a bias, or a recurrent step's input
    /// projection): element (i, j) at `base[offset + i·rowStride + j]`. With `nextStep`, each
    /// tile also asks for the elements `nextStep` further on (the next time step's rows).
    struct Addend {
        let base: LLVMValueRef?
        let rowStride: Int, offset: Int
        var nextStep = 0
    }

    /// The tiles numbered `range` (all of them without one), each followed by `epilogue`.
    func emitTiled(_ tiling: Tiling, a: LLVMValueRef?, b: LLVMValueRef?, c: LLVMValueRef?, addend: Addend? = nil,
                   range: (begin: LLVMValueRef?, end: LLVMValueRef?)?, epilogue: TileEpilogue?) throws {
        let m = module
        let builder = m.builder
        let loops = LoopNest(module: m, function: function)
        try loops.outerLoop(tiling.tiles, "tile", range: range) { tile in
            let block = LLVMBuildUDiv(builder, tile, m.int64(tiling.panels), "rowblock")
            let panel = LLVMBuildURem(builder, tile, m.int64(tiling.panels), "panel")
            let row0 = LLVMBuildNUWMul(builder, block, m.int64(tiling.tileRows), "row0")
            let column0 = LLVMBuildNUWMul(builder, panel, m.int64(tiling.panelWidth), "column0")
            // A short last row block and a narrow last panel are tiles of their own constant shape.
            try branch(if: tiling.lastRows == tiling.tileRows ? nil : LLVMBuildICmp(builder, LLVMIntEQ, block, m.int64(tiling.rowBlocks - 1), ""),
                       then: { try emitColumns(rows: tiling.lastRows) }, else: { try emitColumns(rows: tiling.tileRows) })
            func emitColumns(rows: Int) throws {
                try branch(if: tiling.lastWidth == tiling.panelWidth ? nil : LLVMBuildICmp(builder, LLVMIntEQ, panel, m.int64(tiling.panels - 1), ""),
                           then: { try emitTile(tiling, rows: rows, width: tiling.lastWidth) },
                           else: { try emitTile(tiling, rows: rows, width: tiling.panelWidth) })
            }
            func emitTile(_ tiling: Tiling, rows: Int, width: Int) throws {
                emitTileProduct(tiling, rows: rows, width: width, row0: row0, column0: column0, a: a, b: b, c: c, addend: addend)
                try epilogue?(row0, rows, column0, width)
            }
        }
    }

    /// `then` where `condition` holds and `else` elsewhere; just `else` without a condition.
    private func branch(if condition: LLVMValueRef?, then: () throws -> Void, else otherwise: () throws -> Void) rethrows {
        guard let condition else { return try otherwise() }
        let m = module
        let yes = m.block("tile.edge", in: function), no = m.block("tile.inner", in: function), done = m.block("tile.joined", in: function)
        LLVMBuildCondBr(m.builder, condition, yes, no)
        LLVMPositionBuilderAtEnd(m.builder, yes)
        try then()
        LLVMBuildBr(m.builder, done)
        LLVMPositionBuilderAtEnd(m.builder, no)
        try otherwise()
        LLVMBuildBr(m.builder, done)
        LLVMPositionBuilderAtEnd(m.builder, done)
    }

    /// One tile: `rows` × `width` accumulators (whole vectors, the last one masked) carried through K as phis.
    private func emitTileProduct(_ tiling: Tiling, rows: Int, width: Int, row0: LLVMValueRef?, column0: LLVMValueRef?,
                                 a: LLVMValueRef?, b: LLVMValueRef?, c: LLVMValueRef?, addend: Addend?) {
        let m = module
        let builder = m.builder
        let lanes = tiling.lanes
        let vectors = (width + lanes - 1) / lanes
        let lastLanes = width - (vectors - 1) * lanes
        let access = VectorAccess(module: m, lanes: lanes, activeLanes: lastLanes)
        let fmaType = m.functionType(access.vector, [access.vector, access.vector, access.vector])
        let fma = m.function("llvm.fmuladd.v\(lanes)f32", fmaType)
        let rowBases = (0..<rows).map { r in tiling.rows.base(of: LLVMBuildNUWAdd(builder, row0, m.int64(r), ""), in: m) }
        var accumulators = [LLVMValueRef?](repeating: LLVMConstNull(access.vector), count: rows * vectors)
        if let addend {
            // The sums start from D's elements of the tile.
            for r in 0..<rows {
                let row = LLVMBuildNUWAdd(builder, row0, m.int64(r), "")
                let start = LLVMBuildAdd(builder, LLVMBuildAdd(builder, LLVMBuildMul(builder, row, m.int64(addend.rowStride), ""),
                                                               m.int64(addend.offset), ""), column0, "")
                for v in 0..<vectors {
                    accumulators[r * vectors + v] = access.load(addend.base, LLVMBuildAdd(builder, start, m.int64(v * lanes), ""), masked: v == vectors - 1)
                }
                if addend.nextStep != 0 {
                    m.prefetch(m.f32, addend.base, from: LLVMBuildAdd(builder, start, m.int64(addend.nextStep), ""), count: width,
                               forWriting: false, locality: 2)
                }
            }
        }
        // Where row r of the tile goes in C.
        func cRow(_ r: Int) -> LLVMValueRef? {
            if tiling.localTile { return m.int64(r * tiling.panelWidth) }
            return LLVMBuildNUWAdd(builder, LLVMBuildNUWMul(builder, LLVMBuildNUWAdd(builder, row0, m.int64(r), ""), m.int64(tiling.n), ""), column0, "")
        }
        if !tiling.localTile {
            // C's lines, for writing, before the K loop, so the stores at the end find them in cache.
            // Measured in one run (runtime-bench, JIT, median ms, with / without): LSTM b64 8.4 / 9.3
            // and 8.1 / 8.5, MNIST CNN A b64 1.79 / 2.03 and 1.79 / 1.79.
            for r in 0..<rows { m.prefetch(m.f32, c, from: cRow(r), count: width, forWriting: true, locality: 3) }
        }
        for (segment, offset) in tiling.rows.segmentOffsets.enumerated() {
            // Each row's segment and the B panel's first row as pointers made before the loop, so a step
            // addresses them as pointer + j (left as index sums, the SLP vectoriser packed the rows'
            // additions into vector registers and extracted them again, eight instructions a step).
            let aSegments = rowBases.map { base in m.element(m.f32, a, LLVMBuildNUWAdd(builder, base, m.int64(offset), "")) }
            let bPanel = m.element(m.f32, b, LLVMBuildNUWAdd(builder, m.int64(segment * tiling.rows.segmentLength * tiling.n), column0, ""))
            accumulators = carriedLoop(tiling.rows.segmentLength, carrying: accumulators) { j, sums in
                let bRow = LLVMBuildNUWMul(builder, j, m.int64(tiling.n), "")
                let bVectors = (0..<vectors).map { v in
                    access.load(bPanel, LLVMBuildNUWAdd(builder, bRow, m.int64(v * lanes), ""), masked: v == vectors - 1)
                }
                var next: [LLVMValueRef?] = []
                for r in 0..<rows {
                    let splat = access.splat(m.load(m.f32, aSegments[r], j))
                    for v in 0..<vectors { next.append(m.call(fma, fmaType, [splat, bVectors[v], sums[r * vectors + v]])) }
                }
                return next
            }
        }
        for r in 0..<rows {
            let start = cRow(r)
            for v in 0..<vectors {
                access.store(accumulators[r * vectors + v], c, LLVMBuildNUWAdd(builder, start, m.int64(v * lanes), ""), masked: v == vectors - 1)
            }
        }
    }

    /// `for j in 0..<count` whose body maps the carried values to their next ones; returns the final values.
    private func carriedLoop(_ count: Int, carrying initial: [LLVMValueRef?],
                             _ body: (LLVMValueRef?, [LLVMValueRef?]) -> [LLVMValueRef?]) -> [LLVMValueRef?] {
        let m = module
        let builder = m.builder
        let preheader = LLVMGetInsertBlock(builder)
        let loop = m.block("k.body", in: function), exit = m.block("k.exit", in: function)
        LLVMBuildBr(builder, loop)
        LLVMPositionBuilderAtEnd(builder, loop)
        let j = LLVMBuildPhi(builder, m.i64, "j")
        let carried = initial.map { LLVMBuildPhi(builder, LLVMTypeOf($0), "acc") }
        let next = body(j, carried)
        let jNext = LLVMBuildNUWAdd(builder, j, m.int64(1), "")
        let latch = LLVMGetInsertBlock(builder)
        let backEdge = LLVMBuildCondBr(builder, LLVMBuildICmp(builder, LLVMIntULT, jNext, m.int64(count), ""), loop, exit)
        // Unrolled, a tile's dozens of addresses per step make LLVM's loop strength
        // reduction take seconds (measured: 2.5 of 3.1 s of llc on MNIST CNN A at
        // batch 64); one step already holds rows·vectors independent FMAs.
        m.disableUnrolling(backEdge)
        func incoming(_ phi: LLVMValueRef?, _ start: LLVMValueRef?, _ step: LLVMValueRef?) {
            var values: [LLVMValueRef?] = [start, step]
            var blocks: [LLVMBasicBlockRef?] = [preheader, latch]
            LLVMAddIncoming(phi, &values, &blocks, 2)
        }
        incoming(j, m.int64(0), jNext)
        for (phi, (start, step)) in zip(carried, zip(initial, next)) { incoming(phi, start, step) }
        LLVMPositionBuilderAtEnd(builder, exit)
        return next
    }
}

/// Loads, stores and broadcasts of float32 vectors at element indices; the
/// `masked` ones touch only the first `activeLanes` lanes (a panel's last,
/// partial vector), through LLVM's masked-memory intrinsics, so no lane past
/// the end is read or written.
private struct VectorAccess {
    let module: CodeModule
    let lanes: Int
    let activeLanes: Int
    let vector: LLVMTypeRef

    init(module: CodeModule, lanes: Int, activeLanes: Int) {
        self.module = module
        self.lanes = lanes
        self.activeLanes = activeLanes
        vector = LLVMVectorType(module.f32, UInt32(lanes))
    }

    private var isPartial: Bool { activeLanes < lanes }

    private var mask: LLVMValueRef? {
        var bits: [LLVMValueRef?] = (0..<lanes).map { LLVMConstInt(module.i1, $0 < activeLanes ? 1 : 0, 0) }
        return LLVMConstVector(&bits, UInt32(lanes))
    }

    private func address(_ base: LLVMValueRef?, _ index: LLVMValueRef?) -> LLVMValueRef? {
        LLVMBuildBitCast(module.builder, module.element(module.f32, base, index), module.pointer(to: vector), "")
    }

    /// The declaration of the overloaded intrinsic `name` for this vector type.
    private func intrinsic(_ name: String) -> (LLVMValueRef?, LLVMTypeRef?) {
        let id = LLVMLookupIntrinsicID(name, name.utf8.count)
        var overloads: [LLVMTypeRef?] = [vector, module.pointer(to: vector)]
        return (LLVMGetIntrinsicDeclaration(module.module, id, &overloads, 2), LLVMIntrinsicGetType(module.context, id, &overloads, 2))
    }

    func load(_ base: LLVMValueRef?, _ index: LLVMValueRef?, masked: Bool) -> LLVMValueRef? {
        if masked && isPartial {
            let (function, type) = intrinsic("llvm.masked.load")
            guard let type else { return nil }
            return module.call(function, type, [address(base, index), module.int32(4), mask, LLVMConstNull(vector)])
        }
        let load = LLVMBuildLoad2(module.builder, vector, address(base, index), "")
        LLVMSetAlignment(load, 4)
        return load
    }

    func store(_ value: LLVMValueRef?, _ base: LLVMValueRef?, _ index: LLVMValueRef?, masked: Bool) {
        if masked && isPartial {
            let (function, type) = intrinsic("llvm.masked.store")
            guard let type else { return }
            module.call(function, type, [value, address(base, index), module.int32(4), mask])
            return
        }
        LLVMSetAlignment(LLVMBuildStore(module.builder, value, address(base, index)), 4)
    }

    /// `scalar` in every lane.
    func splat(_ scalar: LLVMValueRef?) -> LLVMValueRef? {
        let b = module.builder
        return LLVMBuildShuffleVector(b, LLVMBuildInsertElement(b, LLVMGetUndef(vector), scalar, module.int32(0), ""),
                                      LLVMGetUndef(vector), LLVMConstNull(LLVMVectorType(module.i32, UInt32(lanes))), "")
    }
}

extension GEMMEmitter {
    /// B's largest size, in elements, for the tiled kernel. It streams B from
    /// L2 once per row block and never packs or blocks K, so past L2 OpenBLAS's
    /// cache blocking wins. Measured in one run (`runtime-bench --sgemm`, 2
    /// threads, GFLOPS tiled / OpenBLAS): 256² 190/163, 512² 169/163, 1024²
    /// 154/173, 2048² 71/186; 7744×64×288 (a convolution's GEMM) 197/121,
    /// 576×64×576 203/155, 64×512×128 143/138, 1×512×128 24/19.
    static let largestTiledB = 1 << 19

    /// Whether the tiled kernel should compute an `m × k × n` float32 product (else OpenBLAS).
    static func prefersTiled(m: Int, n: Int, k: Int) -> Bool {
        k * n <= largestTiledB
    }
}
