/// Reductions over axes.
enum ReductionOps {
    static func definition(of op: OpCode) -> OpDefinition {
        op == .reduce ? reduce : argmax
    }

    /// The reduction kinds `reduce` accepts.
    static let kinds: Set<String> = ["sum", "mean", "max", "min", "prod"]

    static func reducedDims(_ shape: Shape, axes: Set<Int>, keepdims: Bool) -> [Dim] {
        shape.dims.enumerated().compactMap { index, dim in
            axes.contains(index) ? (keepdims ? Dim.constant(1) : nil) : dim
        }
    }

    static let reduce = OpDefinition(
        name: "reduce", summary: "sum, mean, max, min or prod over sorted unique axes",
        example: "%1 = reduce(%0) {axes = [1], keepdims = false, kind = \"sum\"} : f32[B]",
        arity: .fixed(1),
        attributes: [.required("kind", .string), .required("axes", .ints),
                     .optional("keepdims", .bool, default: .bool(false))],
        inferTypes: { types, attributes, _ in
            let x = try TypeRules.first(types)
            guard x.dtype != .bool else { throw TypeRules.fail("input must be numeric, got \(x)") }
            let kind = try attributes.string("kind")
            guard kinds.contains(kind) else {
                throw TypeRules.fail("'kind' must be one of \(kinds.sorted().joined(separator: ", ")), got \"\(kind)\"")
            }
            let axes = try attributes.ints("axes")
            for axis in axes { try TypeRules.requireAxis(axis, rank: x.shape.rank, "axes") }
            guard axes == Array(Set(axes)).sorted() else {
                throw TypeRules.fail("'axes' \(axes) must be sorted and unique")
            }
            let dims = reducedDims(x.shape, axes: Set(axes), keepdims: try attributes.bool("keepdims"))
            return [TensorType(x.dtype, Shape(dims))]
        },
        gradient: .rule { c in [try reduceCotangent(c)] })

    /// The cotangent of a reduction's operand: the result's cotangent spread
    /// back over the reduced axes — as is for a sum, divided by the count for
    /// a mean, shared equally by the tied extremes for max and min, and times
    /// the product of the others for prod.
    static func reduceCotangent(_ c: GradientContext) throws -> ValueID {
        let b = c.builder, x = c.operand(0), y = c.result()
        let shape = b.shape(of: x)
        let axes = try c.attributes.ints("axes")
        let kept = Shape(reducedDims(shape, axes: Set(axes), keepdims: true))
        func spread(_ v: ValueID) throws -> ValueID { try b.broadcast(try b.reshape(v, to: kept), to: shape) }
        let g = try spread(try c.cotangent())
        switch try c.attributes.string("kind") {
        case "sum":
            return g
        case "mean":
            let count = axes.reduce(Dim.constant(1)) { $0 * shape.dims[$1] }
            if let n = count.constantValue { return try b.scaled(g, by: 1 / Double(n)) }
            // A symbolic count (a mean over the batch) is counted at run time.
            let ones = try b.filled(1, TensorType(b.type(of: x).dtype, Shape(axes.map { shape.dims[$0] })))
            return try b.div(g, try b.broadcast(try b.sumAll(ones), to: shape))
        case "max", "min":
            let dtype = b.type(of: x).dtype
            let hits = try b.cast(try b.compare(.eq, x, try spread(y)), to: dtype)
            let ties = try spread(try b.reduce("sum", hits, axes: axes))
            return try b.div(try b.mul(g, hits), ties)
        default:
            return try b.div(try b.mul(g, try spread(y)), x)
        }
    }

    static let argmax = OpDefinition(
        name: "argmax", summary: "index (i64) of the first largest element along an axis",
        example: "%1 = argmax(%0) {axis = 1, keepdims = false} : i64[B]",
        arity: .fixed(1),
        attributes: [.required("axis", .int), .optional("keepdims", .bool, default: .bool(false))],
        inferTypes: { types, attributes, _ in
            let x = try TypeRules.first(types)
            guard x.dtype != .bool else { throw TypeRules.fail("input must be numeric, got \(x)") }
            let axis = try attributes.int("axis")
            try TypeRules.requireAxis(axis, rank: x.shape.rank)
            let dims = reducedDims(x.shape, axes: [axis], keepdims: try attributes.bool("keepdims"))
            return [TensorType(.i64, Shape(dims))]
        },
        gradient: .none("its result is integer indices"))
}
