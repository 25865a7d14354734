import CLLVM
import DLMRuntime
import DLMGraph

/// Matrix products `[..., M, K] x [..., K, N]` in a compiled plan. Float32
/// products whose B fits in L2 run on dlmc's tiled micro-kernel
/// (`GEMMEmitter+Tiled`); the rest call OpenBLAS's `cblas_sgemm`/`cblas_dgemm`
/// once per batch matrix, resolved from the process when the JIT links, or,
/// with a handful of rows, plain vectorised loops over the output row.
struct GEMMEmitter {
    /// The sizes of one matmul.
    struct Operands {
        let dtype: DType
        let batch: Int, m: Int, k: Int, n: Int

        init(graph: Graph, node: Node, shapeOf: (ValueID) throws -> [Int]) throws {
            let a = try shapeOf(node.operands[0]), b = try shapeOf(node.operands[1])
            dtype = graph.type(of: node.operands[0]).dtype
            guard dtype == .f32 || dtype == .f64 else { throw Unsupported("matmul of \(dtype.rawValue)") }
            guard a.count >= 2, b.count == a.count else { throw Unsupported("matmul of rank \(a.count)") }
            m = a[a.count - 2]
            k = a[a.count - 1]
            n = b[b.count - 1]
            batch = a.dropLast(2).reduce(1, *)
            guard m > 0, n > 0, batch > 0 else { throw Unsupported("empty matmul") }
            // BLAS takes 32-bit sizes; each batch matrix is one call, so keep their number small.
            guard [m, k, n].allSatisfy({ $0 <= Int(Int32.max) }) else { throw Unsupported("matmul larger than BLAS's 32-bit sizes") }
            guard batch <= 64 || m <= GEMMEmitter.loopRows else { throw Unsupported("matmul over \(batch) batch matrices") }
        }
    }

    /// Row counts up to this run as loops instead of BLAS calls.
    static let loopRows = 4

    let module: CodeModule
    let scalar: ScalarEmitter
    let function: LLVMValueRef?

    /// The OpenBLAS calls of a product: one per tile of `BLASBlocks` of each batch matrix's output.
    static func blasBlocks(_ g: Operands) -> Int { g.batch * tiles(g).rows * tiles(g).columns }

    /// Row and column tiles of each batch matrix, and their sizes (one tile when the product is small).
    static func tiles(_ g: Operands) -> (rows: Int, columns: Int, rowSize: Int, columnSize: Int) {
        let size = BLASBlocks.tile(m: g.m, n: g.n, k: g.k)
        return ((g.m + size.rows - 1) / size.rows, (g.n + size.columns - 1) / size.columns, size.rows, size.columns)
    }

    /// `range`: the share of `blasBlocks(g)` this kernel computes, when the plan splits it over threads.
    func emit(_ g: Operands, a: LLVMValueRef?, b: LLVMValueRef?, c: LLVMValueRef?,
              range: (begin: LLVMValueRef?, end: LLVMValueRef?)? = nil) throws {
        if g.m <= Self.loopRows || g.k == 0 {
            emitLoops(g, a: a, b: b, c: c)
        } else {
            emitBLAS(g, a: a, b: b, c: c, range: range)
        }
    }

    /// `C[m, :] = Σ_k A[m, k] · B[k, :]`, the inner loop over the row of B (contiguous, vectorised).
    private func emitLoops(_ g: Operands, a: LLVMValueRef?, b: LLVMValueRef?, c: LLVMValueRef?) {
        let type = scalar.representation(g.dtype)
        let builder = module.builder
        let loops = LoopNest(module: module, function: function)
        loops.loop(g.batch * g.m, "row") { row in
            let cRow = LLVMBuildNUWMul(builder, row, module.int64(g.n), "")
            loops.loop(g.n, "zero") { j in
                module.store(module.real(0, type), type, c, LLVMBuildNUWAdd(builder, cRow, j, ""))
            }
            guard g.k > 0 else { return }
            // Row `row` of the stacked A; its batch selects the matrix of B.
            let aRow = LLVMBuildNUWMul(builder, row, module.int64(g.k), "")
            let batchIndex = LLVMBuildUDiv(builder, row, module.int64(g.m), "")
            let bMatrix = LLVMBuildNUWMul(builder, batchIndex, module.int64(g.k * g.n), "")
            loops.loop(g.k, "k") { p in
                let aValue = module.load(type, a, LLVMBuildNUWAdd(builder, aRow, p, ""))
                let bRow = LLVMBuildNUWAdd(builder, bMatrix, LLVMBuildNUWMul(builder, p, module.int64(g.n), ""), "")
                loops.loop(g.n, "n") { j in
                    let cIndex = LLVMBuildNUWAdd(builder, cRow, j, "")
                    let product = LLVMBuildFMul(builder, aValue, module.load(type, b, LLVMBuildNUWAdd(builder, bRow, j, "")), "")
                    module.store(LLVMBuildFAdd(builder, module.load(type, c, cIndex), product, ""), type, c, cIndex)
                }
            }
        }
    }

    /// One `cblas_?gemm` call per output tile, row-major, no transposes.
    /// OpenBLAS runs single-threaded (see `BLASBlocks`); threads split the blocks.
    private func emitBLAS(_ g: Operands, a: LLVMValueRef?, b: LLVMValueRef?, c: LLVMValueRef?,
                          range: (begin: LLVMValueRef?, end: LLVMValueRef?)?) {
        let single = g.dtype == .f32
        let real = single ? module.f32 : module.f64
        let pointer = module.pointer(to: real)
        let i32 = module.i32
        let signature = module.functionType(module.void, [i32, i32, i32, i32, i32, i32, real, pointer, i32, pointer, i32, real, pointer, i32])
        let gemm = module.function(single ? "cblas_sgemm" : "cblas_dgemm", signature)
        let (rowMajor, noTranspose): (Int32, Int32) = (101, 111)
        let size = g.dtype.byteSize
        let builder = module.builder
        let tiling = Self.tiles(g)
        let columnTiles = tiling.columns
        let perMatrix = tiling.rows * tiling.columns
        let loops = LoopNest(module: module, function: function)
        loops.loop(from: range?.begin ?? module.int64(0), to: range?.end ?? module.int64(Self.blasBlocks(g)), "tile") { tile in
            let matrix = LLVMBuildUDiv(builder, tile, module.int64(perMatrix), "")
            let inMatrix = LLVMBuildURem(builder, tile, module.int64(perMatrix), "")
            let firstRow = LLVMBuildNUWMul(builder, LLVMBuildUDiv(builder, inMatrix, module.int64(columnTiles), ""), module.int64(tiling.rowSize), "")
            let firstColumn = LLVMBuildNUWMul(builder, LLVMBuildURem(builder, inMatrix, module.int64(columnTiles), ""), module.int64(tiling.columnSize), "")
            func clipped(_ first: LLVMValueRef?, _ total: Int, _ tile: Int) -> LLVMValueRef? {
                let left = LLVMBuildNUWSub(builder, module.int64(total), first, "")
                return LLVMBuildSelect(builder, LLVMBuildICmp(builder, LLVMIntULT, left, module.int64(tile), ""), left, module.int64(tile), "")
            }
            let rows = clipped(firstRow, g.m, tiling.rowSize), columns = clipped(firstColumn, g.n, tiling.columnSize)
            func at(_ base: LLVMValueRef?, matrixElements: Int, _ offset: LLVMValueRef?) -> LLVMValueRef? {
                let start = LLVMBuildNUWAdd(builder, LLVMBuildNUWMul(builder, matrix, module.int64(matrixElements), ""), offset, "")
                return LLVMBuildBitCast(builder, module.element(module.i8, base, LLVMBuildNUWMul(builder, start, module.int64(size), "")), pointer, "")
            }
            let aOffset = LLVMBuildNUWMul(builder, firstRow, module.int64(g.k), "")
            let bOffset = firstColumn
            let cOffset = LLVMBuildNUWAdd(builder, LLVMBuildNUWMul(builder, firstRow, module.int64(g.n), ""), firstColumn, "")
            module.call(gemm, signature, [
                module.int32(rowMajor), module.int32(noTranspose), module.int32(noTranspose),
                LLVMBuildTrunc(builder, rows, i32, ""), LLVMBuildTrunc(builder, columns, i32, ""), module.int32(Int32(g.k)),
                module.real(1, real), at(a, matrixElements: g.m * g.k, aOffset), module.int32(Int32(max(1, g.k))),
                at(b, matrixElements: g.k * g.n, bOffset), module.int32(Int32(g.n)),
                module.real(0, real), at(c, matrixElements: g.m * g.n, cOffset), module.int32(Int32(g.n)),
            ])
        }
    }
}
