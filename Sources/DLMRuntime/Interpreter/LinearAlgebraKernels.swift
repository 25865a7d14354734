import COpenBLAS
import DLMGraph

/// Matrix multiplication, convolution (im2col + GEMM) and pooling.
enum LinearAlgebraKernels {
    /// Row-major C[M, N] = A[M, K] · B[K, N] (+ C when accumulating), through OpenBLAS for floats.
    static func gemm(_ dtype: DType, m: Int, n: Int, k: Int, a: UnsafeRawPointer, lda: Int, b: UnsafeRawPointer, ldb: Int,
                     c: UnsafeMutableRawPointer, ldc: Int, accumulate: Bool = false, pool: ThreadPool) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            if !accumulate { c.initializeMemory(as: UInt8.self, repeating: 0, count: m * ldc * dtype.byteSize) }
            return
        }
        switch dtype {
        case .f32 where m <= 4 && m * n * k <= 1 << 18:
            // A few rows (batch 1 of a recurrent step): BLAS call and threading overhead exceed the work.
            smallGemm(m: m, n: n, k: k, a: a.assumingMemoryBound(to: Float.self), lda: lda, b: b.assumingMemoryBound(to: Float.self),
                      ldb: ldb, c: c.assumingMemoryBound(to: Float.self), ldc: ldc, accumulate: accumulate)
        case .f32, .f64:
            blockedGEMM(dtype, transposeA: false, transposeB: false, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                        c: c, ldc: ldc, accumulate: accumulate, pool: pool)
        default:
            // Integers: exact (wrapping) loops; rare in models, so kept simple.
            let av = BufferView(pointer: UnsafeMutableRawPointer(mutating: a), dtype: dtype, shape: [m * lda])
            let bv = BufferView(pointer: UnsafeMutableRawPointer(mutating: b), dtype: dtype, shape: [k * ldb])
            let cv = BufferView(pointer: c, dtype: dtype, shape: [m * ldc])
            for i in 0..<m {
                for j in 0..<n {
                    var sum = accumulate ? BufferView.integer(cv.load(i * ldc + j)) : 0
                    for p in 0..<k {
                        sum = sum &+ BufferView.integer(av.load(i * lda + p)) &* BufferView.integer(bv.load(p * ldb + j))
                    }
                    cv.store(Double(sum), at: i * ldc + j)
                }
            }
        }
    }

    /// Row-major C = op(A)·op(B) (+ C) for f32 or f64 through single-threaded
    /// OpenBLAS calls on fixed tiles of C, shared out over the pool (see
    /// `BLASBlocks`): the same bits on any number of threads.
    static func blockedGEMM(_ dtype: DType, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                            a: UnsafeRawPointer, lda: Int, b: UnsafeRawPointer, ldb: Int,
                            c: UnsafeMutableRawPointer, ldc: Int, accumulate: Bool = false, pool: ThreadPool) {
        BLAS.useSingleThreadedCalls()
        let size = dtype.byteSize
        nonisolated(unsafe) let (a, b, c) = (a, b, c)
        let ta = transposeA ? CblasTrans : CblasNoTrans, tb = transposeB ? CblasTrans : CblasNoTrans
        let beta = accumulate ? 1.0 : 0.0
        // Rows r0..<r1 of op(A) start at row r0 of A, or at its column r0 when A is transposed;
        // columns c0..<c1 of op(B) at column c0 of B, or at its row c0 when B is transposed.
        let (tileRows, tileColumns) = BLASBlocks.tile(m: m, n: n, k: k)
        let columnTiles = (n + tileColumns - 1) / tileColumns
        pool.parallelFor(((m + tileRows - 1) / tileRows) * columnTiles, minimumWork: 1) { tiles in
            for tile in tiles {
                let r0 = (tile / columnTiles) * tileRows, rows = min(tileRows, m - r0)
                let c0 = (tile % columnTiles) * tileColumns, columns = min(tileColumns, n - c0)
                let aTile = a + (transposeA ? r0 : r0 * lda) * size, bTile = b + (transposeB ? c0 * ldb : c0) * size
                let cTile = c + (r0 * ldc + c0) * size
                if dtype == .f32 {
                    cblas_sgemm(CblasRowMajor, ta, tb, Int32(rows), Int32(columns), Int32(k), 1, aTile.assumingMemoryBound(to: Float.self), Int32(lda),
                                bTile.assumingMemoryBound(to: Float.self), Int32(ldb), Float(beta), cTile.assumingMemoryBound(to: Float.self), Int32(ldc))
                } else {
                    cblas_dgemm(CblasRowMajor, ta, tb, Int32(rows), Int32(columns), Int32(k), 1, aTile.assumingMemoryBound(to: Double.self), Int32(lda),
                                bTile.assumingMemoryBound(to: Double.self), Int32(ldb), beta, cTile.assumingMemoryBound(to: Double.self), Int32(ldc))
                }
            }
        }
    }

    /// Row-by-row C = A·B for a handful of rows: the inner loop runs along a
    /// row of B and C, contiguous, so it vectorises.
    private static func smallGemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                  c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        for i in 0..<m {
            let row = c + i * ldc
            if !accumulate { row.update(repeating: 0, count: n) }
            for p in 0..<k {
                let scale = a[i * lda + p]
                let source = b + p * ldb
                for j in 0..<n { row[j] += scale * source[j] }
            }
        }
    }

    static func matmul(_ a: BufferView, _ b: BufferView, _ out: BufferView, pool: ThreadPool) {
        let rank = a.shape.count
        let m = a.shape[rank - 2], k = a.shape[rank - 1], n = b.shape[rank - 1]
        let batch = a.shape.dropLast(2).reduce(1, *)
        let size = a.dtype.byteSize
        for i in 0..<batch {
            gemm(a.dtype, m: m, n: n, k: k, a: a.pointer + i * m * k * size, lda: k, b: b.pointer + i * k * n * size, ldb: n,
                 c: out.pointer + i * m * n * size, ldc: n, pool: pool)
        }
    }

    /// Convolution geometry read from a node's attributes.
    struct Window {
        let kh: Int, kw: Int
        let sh: Int, sw: Int
        let dh: Int, dw: Int
        let top: Int, left: Int

        init(_ attributes: [String: Attribute], kernel: (Int, Int)) throws {
            guard case .ints(let strides)? = attributes["strides"], strides.count == 2,
                  case .ints(let padding)? = attributes["padding"], padding.count == 4 else {
                throw RuntimeError("internal: window op without strides/padding")
            }
            var dilations = [1, 1]
            if case .ints(let d)? = attributes["dilations"], d.count == 2 { dilations = d }
            (kh, kw) = kernel
            (sh, sw) = (strides[0], strides[1])
            (dh, dw) = (dilations[0], dilations[1])
            (top, left) = (padding[0], padding[2])
        }
    }

    static func conv2d(_ x: BufferView, _ w: BufferView, _ out: BufferView, _ attributes: [String: Attribute],
                       workspace: Workspace, pool: ThreadPool) throws {
        guard x.dtype.isFloatingPoint else { throw RuntimeError("conv2d needs floating-point tensors") }
        let (batch, height, width, channels) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let window = try Window(attributes, kernel: (w.shape[0], w.shape[1]))
        let filters = w.shape[3]
        let (oh, ow) = (out.shape[1], out.shape[2])
        let rows = batch * oh * ow
        let depth = window.kh * window.kw * channels
        let size = x.dtype.byteSize
        let pointwise = window.kh == 1 && window.kw == 1 && window.sh == 1 && window.sw == 1 && window.top == 0 && window.left == 0
            && oh == height && ow == width
        if pointwise {
            gemm(x.dtype, m: rows, n: filters, k: channels, a: x.pointer, lda: channels, b: w.pointer, ldb: filters,
                 c: out.pointer, ldc: filters, pool: pool)
            return
        }
        let columns = workspace.allocate(rows * depth * size)
        im2col(x, window, outputSize: (oh, ow), into: columns, pool: pool)
        gemm(x.dtype, m: rows, n: filters, k: depth, a: columns, lda: depth, b: w.pointer, ldb: filters, c: out.pointer, ldc: filters, pool: pool)
    }

    /// im2col: one row per output pixel holding its receptive field in (kh, kw, c) order,
    /// which matches the HWIO filter's row order, so one GEMM does the whole convolution.
    static func im2col(_ x: BufferView, _ window: Window, outputSize: (Int, Int), into columns: UnsafeMutableRawPointer, pool: ThreadPool) {
        let (batch, height, width, channels) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (oh, ow) = outputSize
        let depth = window.kh * window.kw * channels
        let size = x.dtype.byteSize
        nonisolated(unsafe) let columns = columns
        nonisolated(unsafe) let src = x.pointer
        pool.parallelFor(batch * oh, minimumWork: 4) { range in
            for row in range {
                let n = row / oh, y = row % oh
                for xo in 0..<ow {
                    var dst = columns + ((row * ow + xo) * depth) * size
                    for ky in 0..<window.kh {
                        let iy = y * window.sh + ky * window.dh - window.top
                        let x0 = xo * window.sw - window.left
                        // Fast path: the whole kernel row is inside the image and contiguous.
                        if window.dw == 1 && iy >= 0 && iy < height && x0 >= 0 && x0 + window.kw <= width {
                            let run = window.kw * channels * size
                            dst.copyMemory(from: src + (((n * height + iy) * width + x0) * channels) * size, byteCount: run)
                            dst += run
                            continue
                        }
                        for kx in 0..<window.kw {
                            let ix = xo * window.sw + kx * window.dw - window.left
                            if iy >= 0 && iy < height && ix >= 0 && ix < width {
                                dst.copyMemory(from: src + (((n * height + iy) * width + ix) * channels) * size, byteCount: channels * size)
                            } else {
                                dst.initializeMemory(as: UInt8.self, repeating: 0, count: channels * size)
                            }
                            dst += channels * size
                        }
                    }
                }
            }
        }
    }

    static func pool2d(_ x: BufferView, _ out: BufferView, _ attributes: [String: Attribute], pool: ThreadPool) throws {
        guard case .string(let kind)? = attributes["kind"], case .ints(let size)? = attributes["window"], size.count == 2 else {
            throw RuntimeError("internal: pool2d without kind/window")
        }
        let window = try Window(attributes, kernel: (size[0], size[1]))
        let isMax = kind == "max"
        switch x.dtype {
        case .f32: poolWindows(Float.self, x, out, window, isMax: isMax, pool: pool)
        case .f64: poolWindows(Double.self, x, out, window, isMax: isMax, pool: pool)
        default: throw RuntimeError("pool2d needs floating-point tensors")
        }
    }

    private static func poolWindows<T: ScalarMath>(_: T.Type, _ x: BufferView, _ out: BufferView, _ window: Window, isMax: Bool, pool: ThreadPool) {
        let (batch, height, width, channels) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (oh, ow) = (out.shape[1], out.shape[2])
        let src = x.typed(T.self), dst = out.typed(T.self)
        nonisolated(unsafe) let (input, output) = (src, dst)
        pool.parallelFor(batch * oh, minimumWork: 8) { range in
            for row in range {
                let n = row / oh, y = row % oh
                for xo in 0..<ow {
                    let o = output + ((row * ow + xo) * channels)
                    var cells = 0
                    for ky in 0..<window.kh {
                        let iy = y * window.sh + ky - window.top
                        guard iy >= 0 && iy < height else { continue }
                        for kx in 0..<window.kw {
                            let ix = xo * window.sw + kx - window.left
                            guard ix >= 0 && ix < width else { continue }
                            let i = input + (((n * height + iy) * width + ix) * channels)
                            if cells == 0 {
                                o.update(from: i, count: channels)
                            } else if isMax {
                                // NaN-propagating max, branch-free so it vectorises.
                                for c in 0..<channels { o[c] = (o[c] >= i[c] || o[c].isNaN) ? o[c] : i[c] }
                            } else {
                                for c in 0..<channels { o[c] += i[c] }
                            }
                            cells += 1
                        }
                    }
                    if cells == 0 {
                        for c in 0..<channels { o[c] = isMax ? -T.infinity : 0 }
                    } else if !isMax && cells > 1 {
                        let scale = 1 / T(Double(cells))
                        for c in 0..<channels { o[c] *= scale }
                    }
                }
            }
        }
    }
}
