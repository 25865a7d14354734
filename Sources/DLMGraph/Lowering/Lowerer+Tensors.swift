import DLMSyntax

/// Graph-building helpers shared by operators, functions and layers. Each
/// checks its operands in the user's terms before emitting ops.
extension Lowerer {
    /// The NumPy broadcast of two shapes, or the first conflicting pair of dims.
    static func broadcastShape(_ a: Shape, _ b: Shape) -> Result<Shape, BroadcastConflict> {
        let rank = max(a.rank, b.rank)
        var dims: [Dim] = []
        for i in 0..<rank {
            let da = i < rank - a.rank ? Dim.constant(1) : a.dims[i - (rank - a.rank)]
            let db = i < rank - b.rank ? Dim.constant(1) : b.dims[i - (rank - b.rank)]
            if da == db || db.constantValue == 1 {
                dims.append(da)
            } else if da.constantValue == 1 {
                dims.append(db)
            } else {
                return .failure(BroadcastConflict(axis: i, lhs: da, rhs: db))
            }
        }
        return .success(Shape(dims))
    }

    struct BroadcastConflict: Error {
        let axis: Int
        let lhs: Dim
        let rhs: Dim
    }

    /// Broadcasts `t` to `shape` (no op when it already has it).
    func broadcast(_ t: TensorRef, to shape: Shape, at range: SourceRange) throws -> TensorRef {
        if t.type.shape == shape { return t }
        return try emit1(.broadcast, [t], attributes: ["shape": .dims(shape.dims)], at: range)
    }

    /// A binary elementwise op with NumPy broadcasting made explicit.
    func elementwise(_ op: OpCode, _ a: TensorRef, _ b: TensorRef, at range: SourceRange, symbol: String) throws -> TensorRef {
        switch Self.broadcastShape(a.type.shape, b.type.shape) {
        case .failure(let conflict):
            // `[B, 10] + [N, 10]`: two names are two independent sizes.
            var notes: [DiagnosticNote] = []
            if conflict.lhs.constantValue == nil, conflict.rhs.constantValue == nil {
                notes.append(DiagnosticNote("'\(conflict.lhs)' and '\(conflict.rhs)' are independent sizes; if they are always equal, use one name for both"))
            }
            throw fail(.cannotBroadcast(symbol, a.type.description, b.type.description, conflict.lhs.description, conflict.rhs.description),
                       at: range, notes: notes)
        case .success(let shape):
            let l = try broadcast(a, to: shape, at: range)
            let r = try broadcast(b, to: shape, at: range)
            return try emit1(op, [l, r], at: range)
        }
    }

    /// A unary elementwise op; float-only ops reject integer tensors.
    func unary(_ op: OpCode, _ t: TensorRef, attributes: [String: Attribute] = [:], at range: SourceRange, name: String) throws -> TensorRef {
        guard t.type.dtype.isFloatingPoint else {
            throw fail(.needsFloat(name, t.type.description), at: range,
                       notes: [DiagnosticNote("convert it first: cast(x, f32)")])
        }
        return try emit1(op, [t], attributes: attributes, at: range)
    }

    /// Matrix multiplication over the last two axes, with batch dims broadcast.
    /// `[…, M, K] @ [K, N]` folds the batch dims into M so the weights are not copied.
    func matmul(_ a: TensorRef, _ b: TensorRef, at range: SourceRange) throws -> TensorRef {
        let sa = a.type.shape, sb = b.type.shape
        guard sa.rank >= 2, sb.rank >= 2 else {
            throw fail(.matmulRank(a.type.description, b.type.description), at: range)
        }
        guard a.type.dtype == b.type.dtype else {
            throw fail(.mixedElementTypes("'@'", a.type.description, b.type.description), at: range)
        }
        guard a.type.dtype != .bool else { throw fail(.arithmeticOnBool("@"), at: range) }
        let k1 = sa.dims[sa.rank - 1], k2 = sb.dims[sb.rank - 2]
        guard k1 == k2 else {
            throw fail(.matmulInner(a.type.description, b.type.description, k1.description, k2.description), at: range)
        }
        if sb.rank == 2 && sa.rank > 2 {
            let rows = sa.dims.dropLast().reduce(Dim.constant(1), *)
            let flat = try reshape(a, to: Shape([rows, k1]), at: range)
            let product = try emit1(.matmul, [flat, b], at: range)
            return try reshape(product, to: Shape(Array(sa.dims.dropLast()) + [sb.dims[1]]), at: range)
        }
        let batchA = Shape(Array(sa.dims.dropLast(2))), batchB = Shape(Array(sb.dims.dropLast(2)))
        guard case .success(let batch) = Self.broadcastShape(batchA, batchB) else {
            throw fail(.matmulBatch(a.type.description, b.type.description), at: range)
        }
        let l = try broadcast(a, to: Shape(batch.dims + Array(sa.dims.suffix(2))), at: range)
        let r = try broadcast(b, to: Shape(batch.dims + Array(sb.dims.suffix(2))), at: range)
        return try emit1(.matmul, [l, r], at: range)
    }

    /// Reshape (no op when the shape is unchanged).
    func reshape(_ t: TensorRef, to shape: Shape, at range: SourceRange) throws -> TensorRef {
        if t.type.shape == shape { return t }
        return try emit1(.reshape, [t], attributes: ["shape": .dims(shape.dims)], at: range)
    }

    /// A reduction over `axes` (already normalised to 0..<rank).
    func reduce(_ kind: String, _ t: TensorRef, axes: [Int], keepDims: Bool, at range: SourceRange) throws -> TensorRef {
        try emit1(.reduce, [t], attributes: ["kind": .string(kind), "axes": .ints(axes.sorted()), "keepdims": .bool(keepDims)], at: range)
    }

    /// Normalises a possibly negative axis against a rank, or reports it.
    func axis(_ value: Int, rank: Int, at range: SourceRange) throws -> Int {
        let normalised = value < 0 ? value + rank : value
        guard normalised >= 0, normalised < rank else {
            throw fail(.axisOutOfRange(value, rank), at: range)
        }
        return normalised
    }

    /// Slices `[start, end)` along one axis.
    func slice(_ t: TensorRef, axis: Int, start: Dim, end: Dim, at range: SourceRange) throws -> TensorRef {
        var starts = [Dim](repeating: .constant(0), count: t.type.shape.rank)
        var ends = t.type.shape.dims
        starts[axis] = start
        ends[axis] = end
        return try emit1(.slice, [t], attributes: [
            "starts": .dims(starts), "ends": .dims(ends), "steps": .ints([Int](repeating: 1, count: t.type.shape.rank)),
        ], at: range)
    }

    /// A tensor of `shape` filled with `value`.
    func filled(_ value: Double, dtype: DType, shape: Shape, at range: SourceRange) throws -> TensorRef {
        try broadcast(try constant(value, dtype: dtype, at: range), to: shape, at: range)
    }

    /// Softmax along one axis, as max-shifted exponentials over their sum.
    func softmax(_ t: TensorRef, axis: Int, at range: SourceRange) throws -> TensorRef {
        let shifted = try shiftedByMax(t, axis: axis, at: range)
        let e = try emit1(.exp, [shifted], at: range)
        let total = try reduce("sum", e, axes: [axis], keepDims: true, at: range)
        return try elementwise(.div, e, total, at: range, symbol: "softmax")
    }

    /// Log-softmax along one axis: x - max - log(sum(exp(x - max))).
    func logSoftmax(_ t: TensorRef, axis: Int, at range: SourceRange) throws -> TensorRef {
        let shifted = try shiftedByMax(t, axis: axis, at: range)
        let e = try emit1(.exp, [shifted], at: range)
        let total = try reduce("sum", e, axes: [axis], keepDims: true, at: range)
        let logTotal = try emit1(.log, [total], at: range)
        return try elementwise(.sub, shifted, logTotal, at: range, symbol: "log_softmax")
    }

    private func shiftedByMax(_ t: TensorRef, axis: Int, at range: SourceRange) throws -> TensorRef {
        guard t.type.dtype.isFloatingPoint else {
            throw fail(.needsFloat("softmax", t.type.description), at: range)
        }
        let peak = try reduce("max", t, axes: [axis], keepDims: true, at: range)
        return try elementwise(.sub, t, peak, at: range, symbol: "softmax")
    }
}
