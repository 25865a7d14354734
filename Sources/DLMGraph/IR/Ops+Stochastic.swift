/// Ops whose training behaviour is random.
enum StochasticOps {
    static let dropout = OpDefinition(
        name: "dropout",
        summary: "while training, zero each element with probability rate and scale the rest by 1/(1-rate); identity for inference",
        example: "%1 = dropout(%0) {rate = 0.5, seed = 0} : f32[B, 128]",
        arity: .fixed(1),
        attributes: [.required("rate", .float), .optional("seed", .int, default: .int(0))],
        inferTypes: { types, attributes, _ in
            let type = try TypeRules.first(types)
            guard type.dtype.isFloatingPoint else { throw TypeRules.fail("dropout needs a floating-point operand, got \(type)") }
            let rate = try attributes.float("rate")
            guard rate >= 0, rate < 1 else { throw TypeRules.fail("'rate' must be in [0, 1), got \(rate)") }
            return [type]
        })
}
