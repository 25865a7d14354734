/// How a parameter's initial value is drawn.
///
/// Fan rule (Keras convention), for a parameter of shape `s`:
/// - rank 0: fanIn = fanOut = 1;
/// - rank 1: fanIn = fanOut = s[0];
/// - rank 2 (`[in, out]`): fanIn = s[0], fanOut = s[1];
/// - rank ≥ 3 (a conv filter, HWIO): receptive = product of s[..<rank-2],
///   fanIn = receptive * s[rank-2], fanOut = receptive * s[rank-1].
///
/// Scales: glorot uses `2 / (fanIn + fanOut)`, he `2 / fanIn`, lecun `1 / fanIn`
/// as the variance; `*Uniform` draws from `±sqrt(3 * variance)`, `*Normal`
/// from a normal truncated at two standard deviations with that variance.
public enum Initializer: Hashable, Sendable, CustomStringConvertible {
    case zeros
    case ones
    case constant(Double)
    case uniform(low: Double, high: Double)
    case normal(mean: Double, std: Double)
    case truncatedNormal(mean: Double, std: Double)
    case glorotUniform, glorotNormal
    case heUniform, heNormal
    case lecunUniform, lecunNormal
    case orthogonal(gain: Double)

    /// `uniform(low, high)` without labels.
    public static func uniform(_ low: Double, _ high: Double) -> Initializer { .uniform(low: low, high: high) }
    /// `normal(mean, std)` without labels.
    public static func normal(_ mean: Double, _ std: Double) -> Initializer { .normal(mean: mean, std: std) }
    /// `truncatedNormal(mean, std)` without labels.
    public static func truncatedNormal(_ mean: Double, _ std: Double) -> Initializer { .truncatedNormal(mean: mean, std: std) }
    /// `orthogonal(gain)` without a label.
    public static func orthogonal(_ gain: Double) -> Initializer { .orthogonal(gain: gain) }

    /// `(fanIn, fanOut)` for a concrete shape, per the rule above.
    public static func fans(of shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        switch shape.count {
        case 0: return (1, 1)
        case 1: return (shape[0], shape[0])
        default:
            let receptive = shape.dropLast(2).reduce(1, &*)
            return (receptive &* shape[shape.count - 2], receptive &* shape[shape.count - 1])
        }
    }

    /// The IR spelling: `glorot_uniform`, `uniform(-0.05, 0.05)`, ...
    public var description: String {
        switch self {
        case .zeros: "zeros"
        case .ones: "ones"
        case .constant(let value): "constant(\(value))"
        case .uniform(let low, let high): "uniform(\(low), \(high))"
        case .normal(let mean, let std): "normal(\(mean), \(std))"
        case .truncatedNormal(let mean, let std): "truncated_normal(\(mean), \(std))"
        case .glorotUniform: "glorot_uniform"
        case .glorotNormal: "glorot_normal"
        case .heUniform: "he_uniform"
        case .heNormal: "he_normal"
        case .lecunUniform: "lecun_uniform"
        case .lecunNormal: "lecun_normal"
        case .orthogonal(let gain): "orthogonal(\(gain))"
        }
    }

    /// Builds an initializer from its IR name and numeric arguments, or `nil`
    /// when the name is unknown or the argument count is wrong.
    public static func named(_ name: String, arguments: [Double]) -> Initializer? {
        switch (name, arguments.count) {
        case ("zeros", 0): .zeros
        case ("ones", 0): .ones
        case ("constant", 1): .constant(arguments[0])
        case ("uniform", 2): .uniform(low: arguments[0], high: arguments[1])
        case ("normal", 2): .normal(mean: arguments[0], std: arguments[1])
        case ("truncated_normal", 2): .truncatedNormal(mean: arguments[0], std: arguments[1])
        case ("glorot_uniform", 0): .glorotUniform
        case ("glorot_normal", 0): .glorotNormal
        case ("he_uniform", 0): .heUniform
        case ("he_normal", 0): .heNormal
        case ("lecun_uniform", 0): .lecunUniform
        case ("lecun_normal", 0): .lecunNormal
        case ("orthogonal", 1): .orthogonal(gain: arguments[0])
        default: nil
        }
    }
}
