import DLMSyntax

/// Data movement: reshape, flatten, transpose, concat, slice.
enum ShapeBuiltins {
    static let all: [Builtin] = [
        Builtin("reshape", "x, shape", "Reinterprets x with a new shape of the same size; one dimension may be -1.") { lowerer, args in
            let x = try args.tensor("x")
            return .tensor(try lowerer.reshape(x, to: try lowerer.targetShape(args, for: x), at: args.range))
        },
        Builtin("flatten", "x, name?", layer: "flatten", "Flattens all axes but the first (the batch): [B, H, W, C] to [B, H*W*C].") { lowerer, args in
            let x = try args.tensor("x")
            guard x.type.shape.rank >= 1 else { throw lowerer.fail(.needsRank("flatten", "at least 1", x.type.description), at: args.range) }
            let dims = x.type.shape.dims
            let rest = dims.dropFirst().reduce(Dim.constant(1), *)
            return .tensor(try lowerer.reshape(x, to: Shape([dims[0], rest]), at: args.range))
        },
        Builtin("transpose", "x, permutation?", "Permutes the axes of x (default: reverses them).") { lowerer, args in
            let x = try args.tensor("x")
            let rank = x.type.shape.rank
            var permutation = Array((0..<rank).reversed())
            if let value = try args.value("permutation") {
                guard case .list(let items) = value, items.count == rank,
                      case let ints = items.compactMap(\.asInt), ints.count == rank,
                      Set(ints.map { $0 < 0 ? $0 + rank : $0 }) == Set(0..<rank) else {
                    throw lowerer.fail(.argumentType("permutation", "transpose", "a permutation of the \(rank) axes of \(x.type)", value.userDescription),
                                       at: args.range(of: "permutation"))
                }
                permutation = ints.map { $0 < 0 ? $0 + rank : $0 }
            }
            if permutation == Array(0..<rank) { return .tensor(x) }
            return .tensor(try lowerer.emit1(.transpose, [x], attributes: ["permutation": .ints(permutation)], at: args.range))
        },
        Builtin("concat", "values, axis?", "Joins tensors along an axis (default: the last): concat([h, x], axis: 1).") { lowerer, args in
            guard case .list(let items)? = try args.value("values"), !items.isEmpty else {
                throw lowerer.fail(.argumentType("values", "concat", "a list of tensors like [a, b]", "something else"), at: args.range(of: "values"))
            }
            let tensors = try items.map { try lowerer.tensor($0, at: args.range(of: "values"), role: "element of concat's list") }
            let first = tensors[0]
            let axis = try args.axis("axis", rank: first.type.shape.rank, default: -1)
            for t in tensors.dropFirst() {
                guard t.type.dtype == first.type.dtype, t.type.shape.rank == first.type.shape.rank,
                      zip(t.type.shape.dims, first.type.shape.dims).enumerated().allSatisfy({ $0.offset == axis || $0.element.0 == $0.element.1 }) else {
                    throw lowerer.fail(.concatMismatch(first.type.description, t.type.description, axis), at: args.range(of: "values"))
                }
            }
            if tensors.count == 1 { return .tensor(first) }
            return .tensor(try lowerer.emit1(.concat, tensors, attributes: ["axis": .int(axis)], at: args.range))
        },
        Builtin("slice", "x, axis, start, end?", "The part of x from start (inclusive) to end (exclusive) along one axis.") { lowerer, args in
            let x = try args.tensor("x")
            let axis = try args.axis("axis", rank: x.type.shape.rank, default: 0)
            let size = x.type.shape.dims[axis]
            let start = try args.dim("start") ?? .constant(0)
            let end = try args.dim("end") ?? size
            if let s = start.constantValue, let e = end.constantValue {
                guard s >= 0, s <= e, size.constantValue.map({ e <= $0 }) ?? true else {
                    throw lowerer.fail(.sliceOutOfRange(s, e, axis, x.type.description), at: args.range)
                }
            }
            return .tensor(try lowerer.slice(x, axis: axis, start: start, end: end, at: args.range))
        },
    ]
}

extension Lowerer {
    /// The shape argument of `reshape`, with a `-1` inferred from the element count.
    func targetShape(_ args: CallArguments, for x: TensorRef) throws -> Shape {
        guard case .list(let items)? = try args.value("shape") else {
            throw fail(.argumentType("shape", "reshape", "a list of sizes like [B, 784]", "something else"), at: args.range(of: "shape"))
        }
        var dims: [Dim?] = []
        for item in items {
            if item.asInt == -1 { dims.append(nil); continue }
            guard let d = item.asDim, (d.constantValue ?? 1) >= 0 else {
                throw fail(.argumentType("shape", "reshape", "a list of sizes like [B, 784]", item.userDescription), at: args.range(of: "shape"))
            }
            dims.append(d)
        }
        let unknown = dims.indices.filter { dims[$0] == nil }
        guard unknown.count <= 1 else { throw fail(.reshapeManyInferred, at: args.range(of: "shape")) }
        if let hole = unknown.first {
            // Cancel dims that appear on both sides, then divide what remains.
            var source = x.type.shape.dims
            var known: [Dim] = []
            for d in dims.compactMap({ $0 }) {
                if let index = source.firstIndex(of: d) { source.remove(at: index) } else { known.append(d) }
            }
            let remaining = source.reduce(Dim.constant(1), *)
            let divisor = known.reduce(Dim.constant(1), *)
            guard let k = divisor.constantValue, k > 0, remaining.floorDivided(by: k) * divisor == remaining else {
                throw fail(.reshapeSize(x.type.description, Shape(dims.map { $0 ?? .symbol("?") }).description), at: args.range(of: "shape"))
            }
            dims[hole] = remaining.floorDivided(by: k)
        }
        let shape = Shape(dims.compactMap { $0 })
        guard shape.elementCount == x.type.shape.elementCount else {
            throw fail(.reshapeSize(x.type.description, shape.description), at: args.range(of: "shape"),
                       notes: [DiagnosticNote("the input has \(x.type.shape.elementCount) elements, \(shape) has \(shape.elementCount)")])
        }
        return shape
    }
}
