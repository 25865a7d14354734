import DLMGraph

/// Kernels that move elements: constant, broadcast, reshape, transpose,
/// slice, concat, gather, one_hot.
enum DataMovementKernels {
    static func constant(_ attributes: [String: Attribute], _ out: BufferView) throws {
        guard case .floats(let values)? = attributes["values"], !values.isEmpty else {
            throw RuntimeError("internal: constant without values")
        }
        if values.count == 1 {
            fill(out, with: values[0])
        } else {
            for i in 0..<min(values.count, out.count) { out.store(values[i], at: i) }
        }
    }

    /// Fills a buffer with one value (fast path for f32).
    static func fill(_ out: BufferView, with value: Double) {
        if out.dtype == .f32 {
            let p = out.typed(Float.self)
            let v = Float(value)
            for i in 0..<out.count { p[i] = v }
        } else {
            for i in 0..<out.count { out.store(value, at: i) }
        }
    }

    static func copy(_ x: BufferView, _ out: BufferView) {
        if x.pointer != out.pointer { out.pointer.copyMemory(from: x.pointer, byteCount: min(x.byteCount, out.byteCount)) }
    }

    static func broadcast(_ x: BufferView, _ out: BufferView) {
        let rank = out.shape.count
        let padded = [Int](repeating: 1, count: rank - x.shape.count) + x.shape
        var strides = BufferView.strides(of: padded)
        for axis in 0..<rank where padded[axis] == 1 { strides[axis] = 0 }
        StridedCopy.copy(shape: out.shape, elementSize: out.dtype.byteSize, from: x.pointer, 0, strides,
                         to: out.pointer, 0, out.strides)
    }

    static func transpose(_ x: BufferView, _ out: BufferView, _ attributes: [String: Attribute]) throws {
        guard case .ints(let permutation)? = attributes["permutation"], permutation.count == x.shape.count else {
            throw RuntimeError("internal: transpose without a permutation")
        }
        let inStrides = x.strides
        StridedCopy.copy(shape: out.shape, elementSize: out.dtype.byteSize, from: x.pointer, 0, permutation.map { inStrides[$0] },
                         to: out.pointer, 0, out.strides)
    }

    static func slice(_ x: BufferView, _ out: BufferView, _ attributes: [String: Attribute], _ bindings: [String: Int]) throws {
        guard case .dims(let startDims)? = attributes["starts"], case .ints(let steps)? = attributes["steps"],
              startDims.count == x.shape.count, steps.count == x.shape.count else {
            throw RuntimeError("internal: slice without starts/steps")
        }
        let starts = try startDims.map { try $0.evaluate(bindings) }
        let inStrides = x.strides
        var offset = 0
        for axis in 0..<starts.count {
            guard starts[axis] >= 0, out.shape[axis] == 0 || starts[axis] + (out.shape[axis] - 1) * steps[axis] < x.shape[axis] else {
                throw RuntimeError("slice start \(starts[axis]) is out of range for size \(x.shape[axis]) on axis \(axis)")
            }
            offset += starts[axis] * inStrides[axis]
        }
        StridedCopy.copy(shape: out.shape, elementSize: out.dtype.byteSize, from: x.pointer, offset,
                         zip(inStrides, steps).map { $0 * $1 }, to: out.pointer, 0, out.strides)
    }

    static func concat(_ inputs: [BufferView], _ out: BufferView, _ attributes: [String: Attribute]) throws {
        guard case .int(let axis)? = attributes["axis"] else { throw RuntimeError("internal: concat without an axis") }
        let outStrides = out.strides
        var position = 0
        for x in inputs {
            StridedCopy.copy(shape: x.shape, elementSize: out.dtype.byteSize, from: x.pointer, 0, x.strides,
                             to: out.pointer, position * outStrides[axis], outStrides)
            position += x.shape[axis]
        }
    }

    static func gather(_ table: BufferView, _ indices: BufferView, _ out: BufferView, _ attributes: [String: Attribute]) throws {
        guard case .int(let axis)? = attributes["axis"] else { throw RuntimeError("internal: gather without an axis") }
        let outer = table.shape[..<axis].reduce(1, *)
        let size = table.shape[axis]
        let inner = table.shape[(axis + 1)...].reduce(1, *)
        let count = indices.count
        let rowBytes = inner * table.dtype.byteSize
        for o in 0..<outer {
            for j in 0..<count {
                let index = BufferView.integer(indices.load(j))
                guard index >= 0, index < size else {
                    throw RuntimeError("index \(index) is out of range for a table of \(size) rows (axis \(axis))")
                }
                let src = table.pointer + ((o * size + index) * inner) * table.dtype.byteSize
                let dst = out.pointer + ((o * count + j) * inner) * out.dtype.byteSize
                dst.copyMemory(from: src, byteCount: rowBytes)
            }
        }
    }

    /// Rows of zeros with a one at each index; out-of-range indices give all zeros (as in TensorFlow).
    static func oneHot(_ indices: BufferView, _ out: BufferView) {
        let depth = out.shape.last ?? 0
        fill(out, with: 0)
        for j in 0..<indices.count {
            let index = BufferView.integer(indices.load(j))
            if index >= 0 && index < depth { out.store(1, at: j * depth + index) }
        }
    }
}
