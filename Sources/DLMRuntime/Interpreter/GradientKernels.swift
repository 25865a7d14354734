import DLMGraph

/// Kernels of the ops gradients introduce: the two convolution gradients
/// (im2col/col2im around one GEMM), the pooling gradient, scatter-add (the
/// gather's adjoint) and training dropout. Every sum is accumulated in a
/// fixed order, whatever the thread count: threads split images or rows,
/// never one sum.
enum GradientKernels {
    /// dW[kh·kw·c, filters] = im2col(x)ᵀ · g.
    static func conv2dBackpropFilter(_ x: BufferView, _ g: BufferView, _ out: BufferView, _ attributes: [String: Attribute],
                                     workspace: Workspace, pool: ThreadPool) throws {
        let window = try LinearAlgebraKernels.Window(attributes, kernel: (out.shape[0], out.shape[1]))
        let (oh, ow, filters) = (g.shape[1], g.shape[2], g.shape[3])
        let rows = g.shape[0] * oh * ow
        let depth = window.kh * window.kw * x.shape[3]
        let columns = workspace.allocate(rows * depth * x.dtype.byteSize)
        LinearAlgebraKernels.im2col(x, window, outputSize: (oh, ow), into: columns, pool: pool)
        guard x.dtype.isFloatingPoint else { throw RuntimeError("convolution gradients need floating-point tensors") }
        LinearAlgebraKernels.blockedGEMM(x.dtype, transposeA: true, transposeB: false, m: depth, n: filters, k: rows,
                                         a: columns, lda: depth, b: g.pointer, ldb: filters, c: out.pointer, ldc: filters, pool: pool)
    }

    /// dX = col2im(g · Wᵀ): each output pixel's receptive-field row is added back into the input positions it read.
    static func conv2dBackpropInput(_ g: BufferView, _ w: BufferView, _ out: BufferView, _ attributes: [String: Attribute],
                                    workspace: Workspace, pool: ThreadPool) throws {
        let window = try LinearAlgebraKernels.Window(attributes, kernel: (w.shape[0], w.shape[1]))
        let (oh, ow, filters) = (g.shape[1], g.shape[2], g.shape[3])
        let rows = out.shape[0] * oh * ow
        let depth = window.kh * window.kw * out.shape[3]
        let columns = workspace.allocate(rows * depth * out.dtype.byteSize)
        guard out.dtype.isFloatingPoint else { throw RuntimeError("convolution gradients need floating-point tensors") }
        LinearAlgebraKernels.blockedGEMM(out.dtype, transposeA: false, transposeB: true, m: rows, n: depth, k: filters,
                                         a: g.pointer, lda: filters, b: w.pointer, ldb: filters, c: columns, ldc: depth, pool: pool)
        switch out.dtype {
        case .f32: col2im(Float.self, columns, out, window, (oh, ow), pool: pool)
        case .f64: col2im(Double.self, columns, out, window, (oh, ow), pool: pool)
        default: throw RuntimeError("convolution gradients need floating-point tensors")
        }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private static func col2im<T: BinaryFloatingPoint & SendableMetatype>(_: T.Type, _ columns: UnsafeMutableRawPointer, _ out: BufferView,
                                                        _ window: LinearAlgebraKernels.Window, _ outputSize: (Int, Int), pool: ThreadPool) {
        let (batch, height, width, channels) = (out.shape[0], out.shape[1], out.shape[2], out.shape[3])
        let (oh, ow) = outputSize
        let depth = window.kh * window.kw * channels
        nonisolated(unsafe) let source = columns.assumingMemoryBound(to: T.self)
        nonisolated(unsafe) let destination = out.typed(T.self)
        destination.update(repeating: 0, count: out.count)
        // One image per task: images never share input pixels, and each image adds in a fixed order.
        pool.parallelFor(batch) { images in
            for n in images {
                for y in 0..<oh {
                    for xo in 0..<ow {
                        var cell = source + ((n * oh + y) * ow + xo) * depth
                        for ky in 0..<window.kh {
                            let iy = y * window.sh + ky * window.dh - window.top
                            for kx in 0..<window.kw {
                                let ix = xo * window.sw + kx * window.dw - window.left
                                if iy >= 0 && iy < height && ix >= 0 && ix < width {
                                    let target = destination + ((n * height + iy) * width + ix) * channels
                                    for c in 0..<channels { target[c] += cell[c] }
                                }
                                cell += channels
                            }
                        }
                    }
                }
            }
        }
    }

    /// The pooling gradient: a max window's cotangent goes to its first largest
    /// input (the one the forward kernel kept), an average window's is shared
    /// by the inputs it covered (padding excluded, as in the forward average).
    static func pool2dBackprop(_ x: BufferView, _ g: BufferView, _ out: BufferView, _ attributes: [String: Attribute], pool: ThreadPool) throws {
        guard case .string(let kind)? = attributes["kind"], case .ints(let size)? = attributes["window"], size.count == 2 else {
            throw RuntimeError("internal: pool2d_backprop without kind/window")
        }
        let window = try LinearAlgebraKernels.Window(attributes, kernel: (size[0], size[1]))
        switch x.dtype {
        case .f32: poolBackprop(Float.self, x, g, out, window, isMax: kind == "max", pool: pool)
        case .f64: poolBackprop(Double.self, x, g, out, window, isMax: kind == "max", pool: pool)
        default: throw RuntimeError("pool2d_backprop needs floating-point tensors")
        }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private static func poolBackprop<T: BinaryFloatingPoint & SendableMetatype>(_: T.Type, _ x: BufferView, _ g: BufferView, _ out: BufferView,
                                                                                _ window: LinearAlgebraKernels.Window, isMax: Bool, pool: ThreadPool) {
        let (batch, height, width, channels) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (oh, ow) = (g.shape[1], g.shape[2])
        nonisolated(unsafe) let (input, cotangent, result) = (x.typed(T.self), g.typed(T.self), out.typed(T.self))
        result.update(repeating: 0, count: out.count)
        // One image per task: windows of one image may overlap, images never do.
        pool.parallelFor(batch) { images in
            // Per channel: where the window's running maximum is (as an element offset).
            let best = UnsafeMutablePointer<Int>.allocate(capacity: channels)
            defer { best.deallocate() }
            for n in images {
                for y in 0..<oh {
                    let y0 = max(0, y * window.sh - window.top), y1 = min(height, y * window.sh - window.top + window.kh)
                    for xo in 0..<ow {
                        let x0 = max(0, xo * window.sw - window.left), x1 = min(width, xo * window.sw - window.left + window.kw)
                        guard y0 < y1, x0 < x1 else { continue }
                        let gRow = cotangent + ((n * oh + y) * ow + xo) * channels
                        let first = ((n * height + y0) * width + x0) * channels
                        if isMax {
                            // The forward kernel keeps the running value unless a later one is larger (or it is NaN).
                            for c in 0..<channels { best[c] = first + c }
                            for iy in y0..<y1 {
                                for ix in x0..<x1 {
                                    let cell = ((n * height + iy) * width + ix) * channels
                                    for c in 0..<channels where !(input[best[c]] >= input[cell + c] || input[best[c]].isNaN) { best[c] = cell + c }
                                }
                            }
                            for c in 0..<channels { result[best[c]] += gRow[c] }
                        } else {
                            let scale = 1 / T((y1 - y0) * (x1 - x0))
                            for iy in y0..<y1 {
                                for ix in x0..<x1 {
                                    let cell = result + ((n * height + iy) * width + ix) * channels
                                    for c in 0..<channels { cell[c] += gRow[c] * scale }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Zeros, plus each slice of `updates` added at its index along the axis, in index order.
    static func scatterAdd(_ indices: BufferView, _ updates: BufferView, _ out: BufferView, _ attributes: [String: Attribute]) throws {
        guard case .int(let axis)? = attributes["axis"] else { throw RuntimeError("internal: scatter_add without an axis") }
        let outer = out.shape[..<axis].reduce(1, *)
        let rows = out.shape[axis]
        let inner = out.shape[(axis + 1)...].reduce(1, *)
        let picks = indices.count
        switch out.dtype {
        case .f32: try scatter(Float.self, indices, updates, out, outer: outer, rows: rows, inner: inner, picks: picks)
        case .f64: try scatter(Double.self, indices, updates, out, outer: outer, rows: rows, inner: inner, picks: picks)
        default: throw RuntimeError("scatter_add needs floating-point updates")
        }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private static func scatter<T: BinaryFloatingPoint>(_: T.Type, _ indices: BufferView, _ updates: BufferView, _ out: BufferView,
                                                         outer: Int, rows: Int, inner: Int, picks: Int) throws {
        let source = updates.typed(T.self), destination = out.typed(T.self)
        destination.update(repeating: 0, count: out.count)
        for o in 0..<outer {
            for p in 0..<picks {
                let index = Int(indices.load(p))
                guard index >= 0 && index < rows else {
                    throw RuntimeError("index \(index) is out of range for \(rows) rows")
                }
                let from = source + (o * picks + p) * inner
                let to = destination + (o * rows + index) * inner
                for i in 0..<inner { to[i] += from[i] }
            }
        }
    }

    /// Training dropout: element `i` is kept when `DropoutMask.keeps` says so, and scaled by 1/(1-rate).
    static func dropout(_ x: BufferView, step: BufferView, _ out: BufferView, _ attributes: [String: Attribute]) throws {
        guard case .float(let rate)? = attributes["rate"], case .int(let seed)? = attributes["seed"] else {
            throw RuntimeError("internal: dropout without rate/seed")
        }
        let mask = DropoutMask(seed: seed, step: Int(step.load(0)), rate: rate)
        let scale = 1 / (1 - rate)
        switch x.dtype {
        case .f32:
            let (a, b) = (x.typed(Float.self), out.typed(Float.self))
            let s = Float(scale)
            for i in 0..<x.count { b[i] = mask.keeps(i) ? a[i] * s : 0 }
        case .f64:
            let (a, b) = (x.typed(Double.self), out.typed(Double.self))
            for i in 0..<x.count { b[i] = mask.keeps(i) ? a[i] * scale : 0 }
        default:
            throw RuntimeError("dropout needs a floating-point operand")
        }
    }
}

/// The dropout mask as a pure function of (seed, step, element): a
/// SplitMix64 finaliser over the three, compared with the rate. Any backend
/// that computes it this way draws the same mask.
package struct DropoutMask: Sendable {
    let key: UInt64
    let threshold: UInt64

    package init(seed: Int, step: Int, rate: Double) {
        key = Self.mix(UInt64(bitPattern: Int64(seed)) &* 0x9E37_79B9_7F4A_7C15 ^ Self.mix(UInt64(bitPattern: Int64(step))))
        // Keep when the top 53 bits, as a fraction of 2^53, are at least rate.
        threshold = UInt64((rate * 0x1.0p53).rounded(.up))
    }

    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// True when element `index` survives.
    package func keeps(_ index: Int) -> Bool {
        (Self.mix(key ^ UInt64(index)) >> 11) >= threshold
    }
}
