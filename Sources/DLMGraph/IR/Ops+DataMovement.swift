/// Constants and ops that move or replicate elements without arithmetic.
enum DataMovementOps {
    static func definition(of op: OpCode) -> OpDefinition {
        switch op {
        case .constant: constant
        case .broadcast: broadcast
        case .reshape: reshape
        case .transpose: transpose
        case .slice: slice
        case .concat: concat
        case .gather: gather
        case .scatterAdd: scatterAdd
        default: oneHot
        }
    }

    static let constant = OpDefinition(
        name: "constant", summary: "a tensor of fixed shape from literal values (one value splats)",
        example: "%0 = constant() {dtype = f32, shape = [2], values = [1.0, 2.0]} : f32[2]",
        arity: .fixed(0),
        attributes: [.required("dtype", .dtype), .required("shape", .dims), .required("values", .floats)],
        inferTypes: { _, attributes, _ in
            let dims = try attributes.dims("shape")
            var count = 1
            for dim in dims {
                guard let value = dim.constantValue, value >= 0 else {
                    throw TypeRules.fail("'shape' must hold non-negative integers, got \(dim)")
                }
                let (product, overflow) = count.multipliedReportingOverflow(by: value)
                guard !overflow else { throw TypeRules.fail("'shape' has too many elements") }
                count = product
            }
            let values = try attributes.floats("values")
            guard values.count == 1 || values.count == count else {
                throw TypeRules.fail("'values' has \(values.count) values; expected 1 or \(count)")
            }
            return [TensorType(try attributes.dtype("dtype"), Shape(dims))]
        },
        gradient: .none("it has no operands"))

    static let broadcast = OpDefinition(
        name: "broadcast", summary: "replicate x to a larger shape (NumPy rules: dims aligned right, each 1 or equal)",
        example: "%1 = broadcast(@bias) {shape = [B, 10]} : f32[B, 10]",
        arity: .fixed(1), attributes: [.required("shape", .dims)],
        inferTypes: { types, attributes, _ in
            let type = try TypeRules.first(types)
            let target = try attributes.dims("shape")
            let offset = target.count - type.shape.rank
            guard offset >= 0 else {
                throw TypeRules.fail("cannot broadcast \(type) to lower rank \(Shape(target))")
            }
            for (index, dim) in type.shape.dims.enumerated() where dim != 1 && dim != target[offset + index] {
                throw TypeRules.fail("cannot broadcast \(type) to \(Shape(target)): dim \(index) is \(dim), not 1 or \(target[offset + index])")
            }
            return [TensorType(type.dtype, Shape(target))]
        },
        gradient: .rule { c in [try c.builder.sumToShape(c.cotangent(), c.type(of: c.operand(0)).shape)] })

    static let reshape = OpDefinition(
        name: "reshape", summary: "same elements, new shape (element counts must be equal)",
        example: "%1 = reshape(%0) {shape = [B, 784]} : f32[B, 784]",
        arity: .fixed(1), attributes: [.required("shape", .dims)],
        inferTypes: { types, attributes, _ in
            let type = try TypeRules.first(types)
            let target = Shape(try attributes.dims("shape"))
            guard target.elementCount == type.shape.elementCount else {
                throw TypeRules.fail("cannot reshape \(type) (\(type.shape.elementCount) elements) to \(target) (\(target.elementCount) elements)")
            }
            return [TensorType(type.dtype, target)]
        },
        gradient: .rule { c in [try c.builder.reshape(c.cotangent(), to: c.type(of: c.operand(0)).shape)] })

    static let transpose = OpDefinition(
        name: "transpose", summary: "permute axes: result dim i is input dim permutation[i]",
        example: "%1 = transpose(%0) {permutation = [1, 0]} : f32[8, B]",
        arity: .fixed(1), attributes: [.required("permutation", .ints)],
        inferTypes: { types, attributes, _ in
            let type = try TypeRules.first(types)
            let permutation = try attributes.ints("permutation")
            guard permutation.sorted() == Array(0..<type.shape.rank) else {
                throw TypeRules.fail("'permutation' \(permutation) is not a permutation of 0..<\(type.shape.rank)")
            }
            return [TensorType(type.dtype, Shape(permutation.map { type.shape.dims[$0] }))]
        },
        gradient: .rule { c in
            let permutation = try c.attributes.ints("permutation")
            var inverse = permutation
            for (position, axis) in permutation.enumerated() { inverse[axis] = position }
            return [try c.builder.transpose(c.cotangent(), inverse)]
        })

    static let slice = OpDefinition(
        name: "slice", summary: "elements start..<end by step along every axis",
        example: "%1 = slice(%0) {ends = [B, 4], starts = [0, 2], steps = [1, 1]} : f32[B, 2]",
        arity: .fixed(1),
        attributes: [.required("starts", .dims), .required("ends", .dims), .required("steps", .ints)],
        inferTypes: { types, attributes, _ in
            let type = try TypeRules.first(types)
            let starts = try attributes.dims("starts")
            let ends = try attributes.dims("ends")
            let steps = try attributes.ints("steps")
            let rank = type.shape.rank
            guard starts.count == rank, ends.count == rank, steps.count == rank else {
                throw TypeRules.fail("'starts', 'ends' and 'steps' must each have \(rank) entries")
            }
            var dims: [Dim] = []
            for axis in 0..<rank {
                let (start, end, step, size) = (starts[axis], ends[axis], steps[axis], type.shape.dims[axis])
                guard step > 0 else { throw TypeRules.fail("step \(step) on axis \(axis) must be positive") }
                if let value = start.constantValue, value < 0 {
                    throw TypeRules.fail("start \(value) on axis \(axis) is negative")
                }
                if let value = (end - start).constantValue, value < 0 {
                    throw TypeRules.fail("end \(end) precedes start \(start) on axis \(axis)")
                }
                if let value = (size - end).constantValue, value < 0 {
                    throw TypeRules.fail("end \(end) exceeds dim \(size) on axis \(axis)")
                }
                dims.append((end - start + .constant(step - 1)).floorDivided(by: step))
            }
            return [TensorType(type.dtype, Shape(dims))]
        },
        gradient: .rule { c in [try sliceCotangent(c)] })

    static let concat = OpDefinition(
        name: "concat", summary: "join operands along an axis",
        example: "%2 = concat(%0, %1) {axis = 1} : f32[B, 12]",
        arity: .variadic(minimum: 1), attributes: [.required("axis", .int)],
        inferTypes: { types, attributes, _ in
            let first = try TypeRules.first(types)
            let axis = try attributes.int("axis")
            try TypeRules.requireAxis(axis, rank: first.shape.rank)
            var total = Dim.constant(0)
            for (index, type) in types.enumerated() {
                guard type.dtype == first.dtype, type.shape.rank == first.shape.rank else {
                    throw TypeRules.fail("operand \(index) is \(type); expected \(first.dtype.rawValue) of rank \(first.shape.rank)")
                }
                for dimIndex in 0..<first.shape.rank where dimIndex != axis && type.shape.dims[dimIndex] != first.shape.dims[dimIndex] {
                    throw TypeRules.fail("operand \(index) is \(type); dims other than axis \(axis) must match \(first)")
                }
                total = total + type.shape.dims[axis]
            }
            var dims = first.shape.dims
            dims[axis] = total
            return [TensorType(first.dtype, Shape(dims))]
        },
        gradient: .rule { c in
            // Each operand's cotangent is its own stretch of the result's.
            let axis = try c.attributes.int("axis")
            let g = try c.cotangent()
            var start = Dim.constant(0)
            return try c.node.operands.map { operand in
                let end = start + c.type(of: operand).shape.dims[axis]
                defer { start = end }
                return try c.builder.slice(g, axis: axis, start: start, end: end)
            }
        })

    static let gather = OpDefinition(
        name: "gather", summary: "pick slices of table along axis by integer indices",
        example: "%2 = gather(@embedding, %0) {axis = 0} : f32[B, T, 64]",
        arity: .fixed(2), attributes: [.optional("axis", .int, default: .int(0))],
        inferTypes: { types, attributes, _ in
            let table = try TypeRules.first(types)
            let indices = try TypeRules.operand(types, 1)
            let axis = try attributes.int("axis")
            try TypeRules.requireAxis(axis, rank: table.shape.rank)
            guard indices.dtype.isInteger else { throw TypeRules.fail("indices must be integers, got \(indices)") }
            let dims = Array(table.shape.dims[..<axis]) + indices.shape.dims + Array(table.shape.dims[(axis + 1)...])
            return [TensorType(table.dtype, Shape(dims))]
        },
        gradient: .rule { c in
            // Rows picked several times receive the sum of their cotangents.
            let table = c.type(of: c.operand(0))
            let rows = try c.builder.emit(.scatterAdd, [c.operand(1), try c.cotangent()],
                                          ["axis": .int(try c.attributes.int("axis")), "shape": .dims(table.shape.dims)])
            return [rows, nil]
        })

    static let scatterAdd = OpDefinition(
        name: "scatter_add", summary: "zeros of shape, plus each slice of updates added at its index along axis (the adjoint of gather)",
        example: "%2 = scatter_add(%ids, %g) {axis = 0, shape = [10000, 64]} : f32[10000, 64]",
        arity: .fixed(2), attributes: [.optional("axis", .int, default: .int(0)), .required("shape", .dims)],
        inferTypes: { types, attributes, _ in
            let indices = try TypeRules.first(types)
            let updates = try TypeRules.operand(types, 1)
            let target = try attributes.dims("shape")
            let axis = try attributes.int("axis")
            try TypeRules.requireAxis(axis, rank: target.count)
            guard indices.dtype.isInteger else { throw TypeRules.fail("indices must be integers, got \(indices)") }
            let expected = Array(target[..<axis]) + indices.shape.dims + Array(target[(axis + 1)...])
            guard updates.shape.dims == expected else {
                throw TypeRules.fail("updates \(updates) must have shape \(Shape(expected)) for indices \(indices) into \(Shape(target))")
            }
            return [TensorType(updates.dtype, Shape(target))]
        },
        gradient: .rule { c in
            [nil, try c.builder.emit(.gather, [try c.cotangent(), c.operand(0)], ["axis": .int(try c.attributes.int("axis"))])]
        })

    static let oneHot = OpDefinition(
        name: "one_hot", summary: "1 at each index along a new last axis of size depth, else 0",
        example: "%1 = one_hot(%0) {depth = 10, dtype = f32} : f32[B, 10]",
        arity: .fixed(1), attributes: [.required("depth", .int), .optional("dtype", .dtype, default: .dtype(.f32))],
        inferTypes: { types, attributes, _ in
            let indices = try TypeRules.first(types)
            guard indices.dtype.isInteger else { throw TypeRules.fail("indices must be integers, got \(indices)") }
            let depth = try attributes.int("depth")
            guard depth > 0 else { throw TypeRules.fail("'depth' must be positive, got \(depth)") }
            return [TensorType(try attributes.dtype("dtype"), Shape(indices.shape.dims + [.constant(depth)]))]
        },
        gradient: .none("its operand is integer indices"))

    /// The cotangent of a slice's operand: the result's cotangent put back in
    /// place, zeros elsewhere. A strided axis first spreads each element over
    /// `step` positions (the element, then step - 1 zeros); then zeros pad
    /// the stretch before `start` and after the last element taken.
    static func sliceCotangent(_ c: GradientContext) throws -> ValueID {
        let b = c.builder
        let source = c.type(of: c.operand(0)).shape.dims
        let starts = try c.attributes.dims("starts"), steps = try c.attributes.ints("steps")
        var g = try c.cotangent()
        for axis in source.indices {
            var dims = b.shape(of: g).dims
            let taken = dims[axis], step = steps[axis]
            if step > 1 {
                var spread = dims
                spread.insert(1, at: axis + 1)
                var gaps = spread
                gaps[axis + 1] = .constant(step - 1)
                let widened = try b.concat([try b.reshape(g, to: Shape(spread)), try b.filled(0, TensorType(b.type(of: g).dtype, Shape(gaps)))], axis: axis + 1)
                var flat = dims
                flat[axis] = taken * .constant(step)
                g = try b.slice(try b.reshape(widened, to: Shape(flat)), axis: axis, start: 0, end: (taken - 1) * .constant(step) + 1)
                dims = b.shape(of: g).dims
            }
            let before = starts[axis], after = source[axis] - starts[axis] - dims[axis]
            var pieces: [ValueID] = []
            for (length, isData) in [(before, false), (dims[axis], true), (after, false)] {
                if isData { pieces.append(g); continue }
                if length.constantValue == 0 { continue }
                var padding = dims
                padding[axis] = length
                pieces.append(try b.filled(0, TensorType(b.type(of: g).dtype, Shape(padding))))
            }
            g = try b.concat(pieces, axis: axis)
        }
        return g
    }
}
