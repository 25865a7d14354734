import DLMSyntax

/// Elementwise math and activation functions.
enum Activations {
    /// Names accepted by `activation:` arguments (besides `linear`).
    static let names: Set<String> = ["relu", "sigmoid", "tanh", "softmax", "log_softmax", "gelu", "leaky_relu", "exp"]

    private static func unaryBuiltin(_ name: String, _ op: OpCode, _ summary: String) -> Builtin {
        Builtin(name, "x", summary) { lowerer, args in
            .tensor(try lowerer.unary(op, try args.tensor("x"), at: args.range, name: name))
        }
    }

    static let builtins: [Builtin] = [
        unaryBuiltin("relu", .relu, "max(x, 0), elementwise."),
        unaryBuiltin("sigmoid", .sigmoid, "1 / (1 + exp(-x)), elementwise."),
        unaryBuiltin("tanh", .tanh, "Hyperbolic tangent, elementwise."),
        unaryBuiltin("exp", .exp, "e to the power x, elementwise."),
        unaryBuiltin("log", .log, "Natural logarithm, elementwise."),
        unaryBuiltin("sqrt", .sqrt, "Square root, elementwise."),
        unaryBuiltin("rsqrt", .rsqrt, "1 / sqrt(x), elementwise."),
        unaryBuiltin("gelu", .gelu, "Gaussian error linear unit (exact, with erf), elementwise."),
        unaryBuiltin("erf", .erf, "The error function, elementwise."),
        Builtin("abs", "x", "Absolute value, elementwise.") { lowerer, args in
            let x = try args.tensor("x")
            guard x.type.dtype != .bool else { throw lowerer.fail(.arithmeticOnBool("abs"), at: args.range) }
            return .tensor(try lowerer.emit1(.abs, [x], at: args.range))
        },
        Builtin("leaky_relu", "x, alpha?", "x where x > 0, else alpha * x (alpha defaults to 0.2, as in Keras).") { lowerer, args in
            let alpha = try args.float("alpha", default: 0.2)
            return .tensor(try lowerer.unary(.leakyRelu, try args.tensor("x"), attributes: ["alpha": .float(alpha)], at: args.range, name: "leaky_relu"))
        },
        Builtin("softmax", "x, axis?", "exp(x) / sum(exp(x)) along an axis (default: the last).") { lowerer, args in
            let x = try args.tensor("x")
            guard x.type.shape.rank > 0 else { throw lowerer.fail(.needsRank("softmax", "at least 1", x.type.description), at: args.range) }
            return .tensor(try lowerer.softmax(x, axis: try args.axis("axis", rank: x.type.shape.rank, default: -1), at: args.range))
        },
        Builtin("log_softmax", "x, axis?", "log(softmax(x)) along an axis, computed stably.") { lowerer, args in
            let x = try args.tensor("x")
            guard x.type.shape.rank > 0 else { throw lowerer.fail(.needsRank("log_softmax", "at least 1", x.type.description), at: args.range) }
            return .tensor(try lowerer.logSoftmax(x, axis: try args.axis("axis", rank: x.type.shape.rank, default: -1), at: args.range))
        },
    ]
}

extension Lowerer {
    /// Applies an `activation:` argument to a layer's output.
    func applyActivation(_ activation: Identifier?, to t: TensorRef, at range: SourceRange) throws -> TensorRef {
        guard let activation else { return t }
        switch activation.name {
        case "softmax": return try softmax(t, axis: t.type.shape.rank - 1, at: range)
        case "log_softmax": return try logSoftmax(t, axis: t.type.shape.rank - 1, at: range)
        case "leaky_relu": return try unary(.leakyRelu, t, attributes: ["alpha": .float(0.2)], at: range, name: "leaky_relu")
        case "relu": return try unary(.relu, t, at: range, name: "relu")
        case "sigmoid": return try unary(.sigmoid, t, at: range, name: "sigmoid")
        case "tanh": return try unary(.tanh, t, at: range, name: "tanh")
        case "gelu": return try unary(.gelu, t, at: range, name: "gelu")
        case "exp": return try unary(.exp, t, at: range, name: "exp")
        default: throw fail(.unknownActivation(activation.name), at: activation.range)
        }
    }
}
