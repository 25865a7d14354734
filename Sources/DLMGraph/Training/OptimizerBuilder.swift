/// Optimiser updates as graph builders, with Keras 3's formulas: each
/// parameter's new value and new slots are elementwise expressions of the
/// parameter, its gradient, its slots and two scalars (the learning rate
/// and the 1-based step number `t`), which the fuser turns into one kernel
/// per parameter.
public enum OptimizerBuilder {
    /// The names of the per-parameter state an optimiser keeps, in order.
    public static func slotNames(of optimizer: Optimizer) -> [String] {
        switch optimizer {
        case .sgd(_, let momentum, _): momentum > 0 ? ["momentum"] : []
        case .rmsprop(_, _, let momentum, _): momentum > 0 ? ["velocity", "momentum"] : ["velocity"]
        case .adam, .adamw: ["m", "v"]
        }
    }

    /// The scalars every update reads: the learning rate of this step and `t`, the step number counted from 1.
    public struct Scalars {
        /// f32[] (or the parameters' dtype): this step's learning rate.
        public let learningRate: ValueID
        /// The same dtype: the 1-based step number.
        public let step: ValueID

        /// Wraps the two scalar values.
        public init(learningRate: ValueID, step: ValueID) {
            self.learningRate = learningRate
            self.step = step
        }
    }

    /// Scales a gradient to at most `maximum` L2 norm: g·c / max(‖g‖, c) (Keras's `clip_by_norm`).
    public static func clipped(_ g: ValueID, toNorm maximum: Double, in b: GraphBuilder) throws -> ValueID {
        let norm = try b.sqrt(try b.sumAll(try b.mul(g, g)))
        let limit = try b.scalar(maximum, b.type(of: g).dtype)
        return try b.mul(g, scalar: try b.div(limit, try b.maximum(norm, limit)))
    }

    /// The updated parameter and slots (in `slotNames` order).
    public static func update(_ optimizer: Optimizer, parameter p: ValueID, gradient g: ValueID, slots: [ValueID],
                              scalars: Scalars, in b: GraphBuilder) throws -> (parameter: ValueID, slots: [ValueID]) {
        let lrG = try b.mul(g, scalar: scalars.learningRate)
        switch optimizer {
        case .sgd(_, let momentum, let nesterov):
            guard momentum > 0 else { return (try b.sub(p, lrG), []) }
            // m = μ·m - lr·g; p += m, or with Nesterov p += μ·m - lr·g.
            let m = try b.sub(try b.scaled(slots[0], by: momentum), lrG)
            let step = nesterov ? try b.sub(try b.scaled(m, by: momentum), lrG) : m
            return (try b.add(p, step), [m])
        case .rmsprop(_, let rho, let momentum, let epsilon):
            // v = ρ·v + (1-ρ)·g²; increment = lr·g / √(v + ε); with momentum, m = μ·m + increment is applied instead.
            let v = try b.add(try b.scaled(slots[0], by: rho), try b.scaled(try b.mul(g, g), by: 1 - rho))
            let increment = try b.div(lrG, try b.sqrt(try b.shifted(v, by: epsilon)))
            guard momentum > 0 else { return (try b.sub(p, increment), [v]) }
            let m = try b.add(try b.scaled(slots[1], by: momentum), increment)
            return (try b.sub(p, m), [v, m])
        case .adam(_, let beta1, let beta2, let epsilon):
            return try adam(p, g, slots, scalars, beta1: beta1, beta2: beta2, epsilon: epsilon, in: b)
        case .adamw(_, let beta1, let beta2, let epsilon, let decay):
            // Decoupled weight decay comes first: p -= p·decay·lr.
            let decayed = try b.sub(p, try b.mul(try b.scaled(p, by: decay), scalar: scalars.learningRate))
            return try adam(decayed, g, slots, scalars, beta1: beta1, beta2: beta2, epsilon: epsilon, in: b)
        }
    }

    /// m += (g - m)(1-β₁); v += (g² - v)(1-β₂); p -= m·α / (√v + ε) with α = lr·√(1-β₂ᵗ)/(1-β₁ᵗ).
    private static func adam(_ p: ValueID, _ g: ValueID, _ slots: [ValueID], _ scalars: Scalars,
                             beta1: Double, beta2: Double, epsilon: Double, in b: GraphBuilder) throws -> (parameter: ValueID, slots: [ValueID]) {
        let dtype = b.type(of: p).dtype
        func power(_ base: Double) throws -> ValueID { try b.emit(.pow, [try b.scalar(base, dtype), scalars.step]) }
        let one = try b.scalar(1, dtype)
        let alpha = try b.div(try b.mul(scalars.learningRate, try b.sqrt(try b.sub(one, try power(beta2)))), try b.sub(one, try power(beta1)))
        let m = try b.add(slots[0], try b.scaled(try b.sub(g, slots[0]), by: 1 - beta1))
        let v = try b.add(slots[1], try b.scaled(try b.sub(try b.mul(g, g), slots[1]), by: 1 - beta2))
        let step = try b.div(try b.mul(m, scalar: alpha), try b.shifted(try b.sqrt(v), by: epsilon))
        return (try b.sub(p, step), [m, v])
    }
}
