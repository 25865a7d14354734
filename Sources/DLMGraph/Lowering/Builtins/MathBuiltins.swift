import DLMSyntax

/// Reductions, elementwise binary functions, casts and tensor constructors.
enum MathBuiltins {
    private static func reduction(_ name: String, _ kind: String, _ summary: String) -> Builtin {
        Builtin(name, "x, axis?, keepdims?", summary) { lowerer, args in
            let x = try args.tensor("x")
            guard x.type.dtype != .bool else { throw lowerer.fail(.arithmeticOnBool(name), at: args.range) }
            if kind == "mean", !x.type.dtype.isFloatingPoint {
                throw lowerer.fail(.needsFloat(name, x.type.description), at: args.range)
            }
            let axes = try args.axes("axis", rank: x.type.shape.rank) ?? Array(0..<x.type.shape.rank)
            let keep = try args.bool("keepdims", default: false)
            if axes.isEmpty { return .tensor(x) }
            return .tensor(try lowerer.reduce(kind, x, axes: axes, keepDims: keep, at: args.range))
        }
    }

    private static func binaryBuiltin(_ name: String, _ op: OpCode, _ summary: String) -> Builtin {
        Builtin(name, "a, b", summary) { lowerer, args in
            let (a, b) = try lowerer.tensorPair(try args.value("a") ?? .int(0), try args.value("b") ?? .int(0),
                                                lhsRange: args.range(of: "a"), rhsRange: args.range(of: "b"),
                                                operatorRange: args.callee.range, symbol: name)
            if op == .pow, !a.type.dtype.isFloatingPoint {
                throw lowerer.fail(.needsFloat(name, a.type.description), at: args.range)
            }
            return .tensor(try lowerer.elementwise(op, a, b, at: args.callee.range, symbol: name))
        }
    }

    private static func filledBuiltin(_ name: String, _ value: Double?, _ summary: String) -> Builtin {
        Builtin(name, value == nil ? "shape, value, dtype?" : "shape, dtype?", summary) { lowerer, args in
            let shape = try lowerer.shapeArgument(args, "shape")
            let dtype = try args.dtype("dtype") ?? .f32
            let fill = try value ?? args.float("value", default: 0)
            return .tensor(try lowerer.filled(fill, dtype: dtype, shape: shape, at: args.range))
        }
    }

    static let all: [Builtin] = [
        reduction("sum", "sum", "Sum over axes (default: all)."),
        reduction("mean", "mean", "Mean over axes (default: all)."),
        reduction("max", "max", "Maximum over axes (default: all)."),
        reduction("min", "min", "Minimum over axes (default: all)."),
        reduction("prod", "prod", "Product over axes (default: all)."),
        binaryBuiltin("maximum", .maximum, "The larger of a and b, elementwise, with broadcasting."),
        binaryBuiltin("minimum", .minimum, "The smaller of a and b, elementwise, with broadcasting."),
        binaryBuiltin("pow", .pow, "a to the power b, elementwise, with broadcasting."),
        Builtin("argmax", "x, axis?, keepdims?", "Index of the largest value along an axis (default: the last), as i64.") { lowerer, args in
            let x = try args.tensor("x")
            guard x.type.shape.rank > 0 else { throw lowerer.fail(.needsRank("argmax", "at least 1", x.type.description), at: args.range) }
            let axis = try args.axis("axis", rank: x.type.shape.rank, default: -1)
            return .tensor(try lowerer.emit1(.argmax, [x], attributes: ["axis": .int(axis), "keepdims": .bool(try args.bool("keepdims", default: false))], at: args.range))
        },
        Builtin("where", "condition, a, b", "Elementwise choice: a where condition is true, else b.") { lowerer, args in
            let condition = try args.tensor("condition")
            guard condition.type.dtype == .bool else {
                throw lowerer.fail(.argumentType("condition", "where", "a bool tensor", condition.type.description), at: args.range(of: "condition"))
            }
            let (a, b) = try lowerer.tensorPair(try args.value("a") ?? .int(0), try args.value("b") ?? .int(0),
                                                lhsRange: args.range(of: "a"), rhsRange: args.range(of: "b"),
                                                operatorRange: args.callee.range, symbol: "where")
            let shape: Shape
            switch Lowerer.broadcastShape(a.type.shape, b.type.shape).flatMap({ Lowerer.broadcastShape($0, condition.type.shape) }) {
            case .success(let s): shape = s
            case .failure(let conflict):
                throw lowerer.fail(.cannotBroadcast("where", a.type.description, b.type.description, conflict.lhs.description, conflict.rhs.description), at: args.range)
            }
            let c = try lowerer.broadcast(condition, to: shape, at: args.range)
            let l = try lowerer.broadcast(a, to: shape, at: args.range)
            let r = try lowerer.broadcast(b, to: shape, at: args.range)
            return .tensor(try lowerer.emit1(.select, [c, l, r], at: args.range))
        },
        Builtin("cast", "x, dtype", "Converts x to another element type.") { lowerer, args in
            let x = try args.tensor("x")
            guard let dtype = try args.dtype("dtype") else { throw lowerer.fail(.missingArgument("dtype", "cast"), at: args.range) }
            if dtype == x.type.dtype { return .tensor(x) }
            return .tensor(try lowerer.emit1(.cast, [x], attributes: ["dtype": .dtype(dtype)], at: args.range))
        },
        filledBuiltin("zeros", 0, "A tensor of zeros: zeros([B, 128])."),
        filledBuiltin("ones", 1, "A tensor of ones: ones([B, 128])."),
        filledBuiltin("full", nil, "A tensor filled with one value: full([B, 10], 0.5)."),
        Builtin("one_hot", "indices, depth, dtype?", "One-hot encoding of integer indices along a new last axis.") { lowerer, args in
            let indices = try args.tensor("indices")
            guard indices.type.dtype.isInteger else {
                throw lowerer.fail(.argumentType("indices", "one_hot", "an integer tensor", indices.type.description), at: args.range(of: "indices"))
            }
            let depth = try args.size("depth")
            let dtype = try args.dtype("dtype") ?? .f32
            return .tensor(try lowerer.emit1(.oneHot, [indices], attributes: ["depth": .int(depth), "dtype": .dtype(dtype)], at: args.range))
        },
        Builtin("gather", "x, indices, axis?", "Selects slices of x along an axis by integer indices.") { lowerer, args in
            let x = try args.tensor("x")
            let indices = try args.tensor("indices")
            guard indices.type.dtype.isInteger else {
                throw lowerer.fail(.argumentType("indices", "gather", "an integer tensor", indices.type.description), at: args.range(of: "indices"))
            }
            guard x.type.shape.rank > 0 else { throw lowerer.fail(.needsRank("gather", "at least 1", x.type.description), at: args.range(of: "x")) }
            let axis = try args.axis("axis", rank: x.type.shape.rank, default: 0)
            return .tensor(try lowerer.emit1(.gather, [x, indices], attributes: ["axis": .int(axis)], at: args.range))
        },
    ]
}

extension Lowerer {
    /// A shape argument: a list of sizes (`[B, 128]`), possibly symbolic.
    func shapeArgument(_ args: CallArguments, _ name: String) throws -> Shape {
        guard let value = try args.value(name) else { throw fail(.missingArgument(name, args.callee.name), at: args.range) }
        guard case .list(let items) = value else {
            throw fail(.argumentType(name, args.callee.name, "a list of sizes like [B, 128]", value.userDescription), at: args.range(of: name))
        }
        var dims: [Dim] = []
        for item in items {
            guard let d = item.asDim, (d.constantValue ?? 0) >= 0 else {
                throw fail(.argumentType(name, args.callee.name, "a list of sizes like [B, 128]", item.userDescription), at: args.range(of: name))
            }
            dims.append(d)
        }
        return Shape(dims)
    }
}
