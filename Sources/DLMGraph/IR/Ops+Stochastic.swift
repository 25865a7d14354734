/// Ops whose training behaviour is random.
enum StochasticOps {
    /// With one operand (as lowered, and for inference) dropout is the
    /// identity. The train step adds a second operand, the step number
    /// (`i64[]`): element `i` is then kept when a counter-based draw from
    /// (seed, step, i) is at least `rate`, and scaled by 1/(1-rate). The mask
    /// is a pure function of those three, so the gradient (dropout of the
    /// cotangent with the same operands) reuses it without storing it.
    static let dropout = OpDefinition(
        name: "dropout",
        summary: "with a step operand, zero each element with probability rate (seeded by seed and step) and scale the rest by 1/(1-rate); the identity without one",
        example: "%2 = dropout(%0, %step) {rate = 0.5, seed = 0} : f32[B, 128]",
        arity: .variadic(minimum: 1),
        attributes: [.required("rate", .float), .optional("seed", .int, default: .int(0))],
        inferTypes: { types, attributes, _ in
            let type = try TypeRules.first(types)
            guard type.dtype.isFloatingPoint else { throw TypeRules.fail("dropout needs a floating-point operand, got \(type)") }
            let rate = try attributes.float("rate")
            guard rate >= 0, rate < 1 else { throw TypeRules.fail("'rate' must be in [0, 1), got \(rate)") }
            guard types.count <= 2 else { throw TypeRules.fail("expects the operand and at most a step, got \(types.count) operands") }
            if types.count == 2, types[1] != TensorType(.i64, Shape([])) {
                throw TypeRules.fail("the step operand must be i64[], got \(types[1])")
            }
            return [type]
        },
        gradient: .rule { c in
            let g = try c.cotangent()
            guard c.node.operands.count == 2 else { return [g] }
            return [try c.builder.emit(.dropout, [g, c.operand(1)], c.node.attributes), nil]
        })
}
