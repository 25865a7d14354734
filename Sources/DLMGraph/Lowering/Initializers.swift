import DLMSyntax

/// Weight penalties a layer can request (`kernel_regularizer: l2(0.01)`).
public enum Regularizer: Hashable, Sendable, CustomStringConvertible {
    case l1(Double)
    case l2(Double)
    case l1l2(l1: Double, l2: Double)

    public var description: String {
        switch self {
        case .l1(let a): "l1(\(a))"
        case .l2(let a): "l2(\(a))"
        case .l1l2(let a, let b): "l1_l2(l1: \(a), l2: \(b))"
        }
    }
}

/// The initializer names the language accepts.
enum Initializers {
    static let names: Set<String> = [
        "zeros", "ones", "constant", "uniform", "normal", "truncated_normal",
        "glorot_uniform", "glorot_normal", "xavier_uniform", "xavier_normal",
        "he_uniform", "he_normal", "kaiming_uniform", "kaiming_normal",
        "lecun_uniform", "lecun_normal", "orthogonal",
    ]
}

extension Lowerer {
    /// Reads an initializer expression: a name (`glorot_uniform`) or a call with arguments (`uniform(-0.1, 0.1)`).
    func initializer(from expr: Expr) throws -> Initializer {
        let callee: Identifier
        let arguments: [Argument]
        switch expr {
        case .name(let id): callee = id; arguments = []
        case .call(let id, let args, false, _): callee = id; arguments = args
        default:
            throw fail(.expectedInitializer, at: expr.range, notes: [DiagnosticNote("for example glorot_uniform, zeros or normal(std: 0.01)")])
        }
        guard Initializers.names.contains(callee.name) else {
            throw fail(.unknownInitializer(callee.name), at: callee.range, notes: Suggestions.note(for: callee.name, among: Array(Initializers.names)))
        }
        let signature: String
        switch callee.name {
        case "constant": signature = "value"
        case "uniform": signature = "low?, high?"
        case "normal", "truncated_normal": signature = "mean?, std?"
        case "orthogonal": signature = "gain?"
        default: signature = ""
        }
        let parameters = Builtin(callee.name, signature, "") { _, _ in .int(0) }.parameters.filter { !$0.name.isEmpty }
        let args = try CallArguments(callee: callee, arguments: arguments, parameters: parameters, range: expr.range, lowerer: self)
        switch callee.name {
        case "zeros": return .zeros
        case "ones": return .ones
        case "constant": return .constant(try args.float("value", default: 0))
        case "uniform":
            let low = try args.float("low", default: -0.05), high = try args.float("high", default: 0.05)
            guard low < high else { throw fail(.invalidInitializerRange(low.formatted, high.formatted), at: expr.range) }
            return .uniform(low: low, high: high)
        case "normal", "truncated_normal":
            let mean = try args.float("mean", default: 0), std = try args.float("std", default: 0.05)
            guard std > 0 else { throw fail(.outOfRange("std", callee.name, "(0, ∞)", std.formatted), at: args.range(of: "std")) }
            return callee.name == "normal" ? .normal(mean: mean, std: std) : .truncatedNormal(mean: mean, std: std)
        case "glorot_uniform", "xavier_uniform": return .glorotUniform
        case "glorot_normal", "xavier_normal": return .glorotNormal
        case "he_uniform", "kaiming_uniform": return .heUniform
        case "he_normal", "kaiming_normal": return .heNormal
        case "lecun_uniform": return .lecunUniform
        case "lecun_normal": return .lecunNormal
        default: return .orthogonal(gain: try args.float("gain", default: 1))
        }
    }

    /// Reads a regularizer expression: `l1(0.01)`, `l2(0.01)`, `l1_l2(l1: 0.01, l2: 0.01)`.
    func regularizer(from expr: Expr) throws -> Regularizer {
        guard case .call(let callee, let arguments, false, _) = expr, ["l1", "l2", "l1_l2"].contains(callee.name) else {
            throw fail(.expectedRegularizer, at: expr.range)
        }
        let signature = callee.name == "l1_l2" ? "l1?, l2?" : "factor"
        let parameters = Builtin(callee.name, signature, "") { _, _ in .int(0) }.parameters
        let args = try CallArguments(callee: callee, arguments: arguments, parameters: parameters, range: expr.range, lowerer: self)
        switch callee.name {
        case "l1": return .l1(try args.fraction("factor", default: 0, upTo: .infinity))
        case "l2": return .l2(try args.fraction("factor", default: 0, upTo: .infinity))
        default: return .l1l2(l1: try args.fraction("l1", default: 0, upTo: .infinity), l2: try args.fraction("l2", default: 0, upTo: .infinity))
        }
    }
}
