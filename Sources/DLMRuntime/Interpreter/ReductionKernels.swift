import DLMGraph

/// Reductions (sum, mean, max, min, prod over axes) and argmax.
enum ReductionKernels {
    /// One pass over the input in memory order, accumulating each element
    /// into its output slot (reduced axes have output stride 0). Sums
    /// accumulate in double precision.
    static func reduce(_ x: BufferView, _ out: BufferView, _ attributes: [String: Attribute], workspace: Workspace) throws {
        guard case .string(let kind)? = attributes["kind"], case .ints(let axes)? = attributes["axes"] else {
            throw RuntimeError("internal: reduce without kind/axes")
        }
        let rank = x.shape.count
        let reduced = Set(axes)
        // Output strides over the input's axes (0 on reduced axes).
        var keptShape: [Int] = []
        for axis in 0..<rank where !reduced.contains(axis) { keptShape.append(x.shape[axis]) }
        let keptStrides = BufferView.strides(of: keptShape)
        var strides = [Int](repeating: 0, count: rank)
        var k = 0
        for axis in 0..<rank where !reduced.contains(axis) {
            strides[axis] = keptStrides[k]
            k += 1
        }
        let outCount = out.count
        let groupSize = axes.reduce(1) { $0 * x.shape[$1] }
        let accumulator = workspace.allocate(max(1, outCount) * 8).bindMemory(to: Double.self, capacity: max(1, outCount))
        let initial: Double = switch kind {
        case "max": -.infinity
        case "min": .infinity
        case "prod": 1
        default: 0
        }
        for i in 0..<outCount { accumulator[i] = initial }
        let combine: (Double, Double) -> Double = switch kind {
        case "max": { a, v in a.isNaN || v.isNaN ? .nan : Swift.max(a, v) }
        case "min": { a, v in a.isNaN || v.isNaN ? .nan : Swift.min(a, v) }
        case "prod": { a, v in a * v }
        default: { a, v in a + v }
        }
        if x.count > 0 {
            // Contiguous fast path: reducing the trailing axes of an f32 tensor.
            let trailing = axes == Array((rank - axes.count)..<rank)
            if trailing && x.dtype == .f32 && (kind == "sum" || kind == "mean") {
                let p = x.typed(Float.self)
                for o in 0..<outCount {
                    var sum = 0.0
                    let row = p + o * groupSize
                    for j in 0..<groupSize { sum += Double(row[j]) }
                    accumulator[o] = sum
                }
            } else {
                var index = [Int](repeating: 0, count: rank)
                var target = 0
                for i in 0..<x.count {
                    accumulator[target] = combine(accumulator[target], x.load(i))
                    var axis = rank - 1
                    while axis >= 0 {
                        index[axis] += 1
                        target += strides[axis]
                        if index[axis] < x.shape[axis] { break }
                        target -= strides[axis] * x.shape[axis]
                        index[axis] = 0
                        axis -= 1
                    }
                }
            }
        }
        let scale = kind == "mean" ? 1 / Double(groupSize) : 1
        for i in 0..<outCount { out.store(accumulator[i] * scale, at: i) }
    }

    /// Index of the first largest element along an axis (NaN counts as largest, as in NumPy).
    static func argmax(_ x: BufferView, _ out: BufferView, _ attributes: [String: Attribute]) throws {
        guard case .int(let axis)? = attributes["axis"] else { throw RuntimeError("internal: argmax without an axis") }
        let outer = x.shape[..<axis].reduce(1, *)
        let size = x.shape[axis]
        let inner = x.shape[(axis + 1)...].reduce(1, *)
        for o in 0..<outer {
            for i in 0..<inner {
                var best = 0
                var bestValue = -Double.infinity
                for j in 0..<size {
                    let v = x.load((o * size + j) * inner + i)
                    if bestValue.isNaN { break }
                    if v > bestValue || v.isNaN || j == 0 {
                        best = j
                        bestValue = v
                    }
                }
                out.store(Double(best), at: o * inner + i)
            }
        }
    }
}
