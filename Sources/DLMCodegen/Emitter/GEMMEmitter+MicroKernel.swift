import CLLVM
import DLMGraph

/// A register-blocked float32 GEMM micro-kernel in explicit vector IR, for
/// products with few rows (dense layers and recurrent steps at batch 1..4),
/// where OpenBLAS's call and thread hand-off cost more than the arithmetic.
/// Measured in one run (runtime-bench on single matmuls, median of 2,000):
/// 1×128×512 0.004 vs 0.005 ms, 1×784×128 0.006 vs 0.007, 1×576×64 0.003 vs
/// 0.005; at 64 rows OpenBLAS wins (0.062 vs 0.090 ms for 64×128×512: it packs
/// B, while here B's rows, 2 KB apart, collide in L1), so more rows go to
/// OpenBLAS. Each tile keeps `rows` × `vectors`
/// accumulators of the host's vector width in registers while it walks K:
/// per step, `vectors` loads of B, `rows` broadcasts of A and rows·vectors
/// fused multiply-adds. Columns beyond the last full vector run as scalars.
/// The outer loop over row blocks can be split across threads.
extension GEMMEmitter {
    /// Rows per tile and vectors per tile (4 × 4 zmm accumulators on AVX-512: 16 of 32 registers).
    static let tileRows = 4, tileVectors = 4

    /// Whether the micro-kernel should compute this product (else loops or OpenBLAS).
    static func prefersMicroKernel(_ g: Operands, lanes: Int) -> Bool {
        g.dtype == .f32 && g.batch == 1 && g.m <= loopRows && g.k > 0 && g.k <= 1024 && g.n >= lanes && g.m * g.n * g.k <= 1 << 24
    }

    /// Row blocks: the outer loop's trip count.
    static func rowBlocks(_ g: Operands) -> Int { (g.m + tileRows - 1) / tileRows }

    func emitMicroKernel(_ g: Operands, a: LLVMValueRef?, b: LLVMValueRef?, c: LLVMValueRef?,
                         range: (begin: LLVMValueRef?, end: LLVMValueRef?)?) {
        let m = module
        let builder = m.builder
        let lanes = m.vectorLanes
        let loops = LoopNest(module: m, function: function)
        let fullRows = g.m / Self.tileRows * Self.tileRows
        loops.outerLoop(Self.rowBlocks(g), "rowblock", range: range) { block in
            let row0 = LLVMBuildNUWMul(builder, block, m.int64(Self.tileRows), "row0")
            // A partial last block (M not a multiple of the tile) takes its own, shorter tile.
            let remainder = g.m - fullRows
            if remainder == 0 {
                emitRowBlock(g, rows: Self.tileRows, row0: row0, a: a, b: b, c: c, lanes: lanes, loops: loops)
            } else {
                let full = m.block("tile.full", in: function), partial = m.block("tile.partial", in: function)
                let done = m.block("tile.done", in: function)
                LLVMBuildCondBr(builder, LLVMBuildICmp(builder, LLVMIntULT, row0, m.int64(fullRows), ""), full, partial)
                LLVMPositionBuilderAtEnd(builder, full)
                emitRowBlock(g, rows: Self.tileRows, row0: row0, a: a, b: b, c: c, lanes: lanes, loops: loops)
                LLVMBuildBr(builder, done)
                LLVMPositionBuilderAtEnd(builder, partial)
                emitRowBlock(g, rows: remainder, row0: row0, a: a, b: b, c: c, lanes: lanes, loops: loops)
                LLVMBuildBr(builder, done)
                LLVMPositionBuilderAtEnd(builder, done)
            }
        }
    }

    /// All columns of `rows` rows starting at `row0`.
    private func emitRowBlock(_ g: Operands, rows: Int, row0: LLVMValueRef?, a: LLVMValueRef?, b: LLVMValueRef?, c: LLVMValueRef?,
                              lanes: Int, loops: LoopNest) {
        let m = module
        let width = lanes * Self.tileVectors
        let fullBlocks = g.n / width
        if fullBlocks > 0 {
            loops.loop(fullBlocks, "colblock") { block in
                emitTile(g, rows: rows, vectors: Self.tileVectors, row0: row0,
                         column0: LLVMBuildNUWMul(m.builder, block, m.int64(width), ""), a: a, b: b, c: c, lanes: lanes)
            }
        }
        let vectorsLeft = (g.n - fullBlocks * width) / lanes
        if vectorsLeft > 0 {
            emitTile(g, rows: rows, vectors: vectorsLeft, row0: row0, column0: m.int64(fullBlocks * width), a: a, b: b, c: c, lanes: lanes)
        }
        let scalarStart = fullBlocks * width + vectorsLeft * lanes
        if scalarStart < g.n { emitScalarColumns(g, rows: rows, row0: row0, from: scalarStart, a: a, b: b, c: c, loops: loops) }
    }

    /// One tile: `rows` × `vectors`·lanes accumulators carried through the K loop as phis.
    private func emitTile(_ g: Operands, rows: Int, vectors: Int, row0: LLVMValueRef?, column0: LLVMValueRef?,
                          a: LLVMValueRef?, b: LLVMValueRef?, c: LLVMValueRef?, lanes: Int) {
        let m = module
        let builder = m.builder
        let vector: LLVMTypeRef = LLVMVectorType(m.f32, UInt32(lanes))
        let zero = LLVMConstNull(vector)
        let fmaType = m.functionType(vector, [vector, vector, vector])
        let fma = m.function("llvm.fmuladd.v\(lanes)f32", fmaType)
        let preheader = LLVMGetInsertBlock(builder)
        let body = m.block("k.body", in: function), exit = m.block("k.exit", in: function)
        LLVMBuildBr(builder, body)
        LLVMPositionBuilderAtEnd(builder, body)
        let k = LLVMBuildPhi(builder, m.i64, "k")
        let accumulators = (0..<(rows * vectors)).map { _ in LLVMBuildPhi(builder, vector, "acc") }
        let bRow = LLVMBuildNUWAdd(builder, LLVMBuildNUWMul(builder, k, m.int64(g.n), ""), column0, "")
        let bVectors = (0..<vectors).map { v -> LLVMValueRef? in
            vectorLoad(vector, b, LLVMBuildNUWAdd(builder, bRow, m.int64(v * lanes), ""))
        }
        var next: [LLVMValueRef?] = []
        for r in 0..<rows {
            let aIndex = LLVMBuildNUWAdd(builder, LLVMBuildNUWMul(builder, LLVMBuildNUWAdd(builder, row0, m.int64(r), ""), m.int64(g.k), ""), k, "")
            let scalar = m.load(m.f32, a, aIndex)
            let splat = LLVMBuildShuffleVector(builder, LLVMBuildInsertElement(builder, LLVMGetUndef(vector), scalar, m.int32(0), ""),
                                               LLVMGetUndef(vector), LLVMConstNull(LLVMVectorType(m.i32, UInt32(lanes))), "")
            for v in 0..<vectors {
                next.append(m.call(fma, fmaType, [splat, bVectors[v], accumulators[r * vectors + v]]))
            }
        }
        let kNext = LLVMBuildNUWAdd(builder, k, m.int64(1), "")
        let latch = LLVMGetInsertBlock(builder)
        LLVMBuildCondBr(builder, LLVMBuildICmp(builder, LLVMIntULT, kNext, m.int64(g.k), ""), body, exit)
        func incoming(_ phi: LLVMValueRef?, _ start: LLVMValueRef?, _ step: LLVMValueRef?) {
            var values: [LLVMValueRef?] = [start, step]
            var blocks: [LLVMBasicBlockRef?] = [preheader, latch]
            LLVMAddIncoming(phi, &values, &blocks, 2)
        }
        incoming(k, m.int64(0), kNext)
        for (phi, value) in zip(accumulators, next) { incoming(phi, zero, value) }
        LLVMPositionBuilderAtEnd(builder, exit)
        for r in 0..<rows {
            let cRow = LLVMBuildNUWAdd(builder, LLVMBuildNUWMul(builder, LLVMBuildNUWAdd(builder, row0, m.int64(r), ""), m.int64(g.n), ""), column0, "")
            for v in 0..<vectors {
                vectorStore(next[r * vectors + v], vector, c, LLVMBuildNUWAdd(builder, cRow, m.int64(v * lanes), ""))
            }
        }
    }

    /// Columns past the last full vector: one scalar dot product each.
    private func emitScalarColumns(_ g: Operands, rows: Int, row0: LLVMValueRef?, from start: Int,
                                   a: LLVMValueRef?, b: LLVMValueRef?, c: LLVMValueRef?, loops: LoopNest) {
        let m = module
        let builder = m.builder
        loops.loop(rows, "r") { r in
            let row = LLVMBuildNUWAdd(builder, row0, r, "")
            loops.loop(g.n - start, "j") { j in
                let column = LLVMBuildNUWAdd(builder, j, m.int64(start), "")
                var sum = m.real(0, m.f32)
                let preheader = LLVMGetInsertBlock(builder)
                let body = m.block("dot.body", in: function), exit = m.block("dot.exit", in: function)
                LLVMBuildBr(builder, body)
                LLVMPositionBuilderAtEnd(builder, body)
                let k = LLVMBuildPhi(builder, m.i64, "k")
                let accumulator = LLVMBuildPhi(builder, m.f32, "dot")
                let product = LLVMBuildFMul(builder, m.load(m.f32, a, LLVMBuildNUWAdd(builder, LLVMBuildNUWMul(builder, row, m.int64(g.k), ""), k, "")),
                                            m.load(m.f32, b, LLVMBuildNUWAdd(builder, LLVMBuildNUWMul(builder, k, m.int64(g.n), ""), column, "")), "")
                sum = LLVMBuildFAdd(builder, accumulator, product, "")
                let kNext = LLVMBuildNUWAdd(builder, k, m.int64(1), "")
                let latch = LLVMGetInsertBlock(builder)
                LLVMBuildCondBr(builder, LLVMBuildICmp(builder, LLVMIntULT, kNext, m.int64(g.k), ""), body, exit)
                var kValues: [LLVMValueRef?] = [m.int64(0), kNext], sumValues: [LLVMValueRef?] = [m.real(0, m.f32), sum]
                var blocks: [LLVMBasicBlockRef?] = [preheader, latch]
                LLVMAddIncoming(k, &kValues, &blocks, 2)
                LLVMAddIncoming(accumulator, &sumValues, &blocks, 2)
                LLVMPositionBuilderAtEnd(builder, exit)
                m.store(sum, m.f32, c, LLVMBuildNUWAdd(builder, LLVMBuildNUWMul(builder, row, m.int64(g.n), ""), column, ""))
            }
        }
    }

    private func vectorLoad(_ vector: LLVMTypeRef, _ base: LLVMValueRef?, _ index: LLVMValueRef?) -> LLVMValueRef? {
        let pointer = LLVMBuildBitCast(module.builder, module.element(module.f32, base, index), module.pointer(to: vector), "")
        let load = LLVMBuildLoad2(module.builder, vector, pointer, "")
        LLVMSetAlignment(load, 4)
        return load
    }

    private func vectorStore(_ value: LLVMValueRef?, _ vector: LLVMTypeRef, _ base: LLVMValueRef?, _ index: LLVMValueRef?) {
        let pointer = LLVMBuildBitCast(module.builder, module.element(module.f32, base, index), module.pointer(to: vector), "")
        LLVMSetAlignment(LLVMBuildStore(module.builder, value, pointer), 4)
    }
}
