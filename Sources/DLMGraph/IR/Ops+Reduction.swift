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
        })

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
        })
}
