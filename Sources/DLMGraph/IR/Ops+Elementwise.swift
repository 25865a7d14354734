/// Elementwise ops: each is a scalar expression applied to operands of
/// identical shape (broadcasting is explicit in this IR).
enum ElementwiseOps {
    static func definition(of op: OpCode) -> OpDefinition {
        switch op {
        case .neg: unary(op, "negate", .numeric, -.x, gradient: rule { c in [try c.builder.neg(c.cotangent())] })
        case .abs:
            unary(op, "absolute value", .numeric, .unary(.abs, .x), gradient: rule { c in
                // d|x| = sign(x): 0 at 0, as TensorFlow and PyTorch define it.
                let b = c.builder, x = c.operand(0), g = try c.cotangent(), zero = try b.zeros(like: x)
                let negative = try b.select(try b.compare(.lt, x, zero), try b.neg(g), zero)
                return [try b.select(try b.compare(.gt, x, zero), g, negative)]
            })
        case .exp: unary(op, "e raised to x", .floatingPoint, .unary(.exp, .x), gradient: rule { c in [try c.builder.mul(c.cotangent(), c.result())] })
        case .log: unary(op, "natural logarithm", .floatingPoint, .unary(.log, .x), gradient: rule { c in [try c.builder.div(c.cotangent(), c.operand(0))] })
        case .sqrt:
            unary(op, "square root", .floatingPoint, .unary(.sqrt, .x), gradient: rule { c in
                [try c.builder.div(try c.builder.scaled(c.cotangent(), by: 0.5), c.result())]
            })
        case .rsqrt:
            unary(op, "reciprocal square root", .floatingPoint, .constant(1) / .unary(.sqrt, .x), gradient: rule { c in
                // d(x^-1/2) = -x^-3/2 / 2 = -y³ / 2.
                let b = c.builder, y = c.result()
                return [try b.mul(try b.scaled(c.cotangent(), by: -0.5), try b.mul(y, try b.mul(y, y)))]
            })
        case .tanh:
            unary(op, "hyperbolic tangent", .floatingPoint, .unary(.tanh, .x), gradient: rule { c in
                let b = c.builder, y = c.result()
                return [try b.mul(c.cotangent(), try b.sub(try b.filled(1, like: y), try b.mul(y, y)))]
            })
        case .sigmoid:
            unary(op, "logistic sigmoid 1/(1+exp(-x))", .floatingPoint,
                  .constant(1) / (.constant(1) + .unary(.exp, -.x)), gradient: rule { c in
                let b = c.builder, y = c.result()
                return [try b.mul(c.cotangent(), try b.mul(y, try b.sub(try b.filled(1, like: y), y)))]
            })
        case .relu:
            unary(op, "max(x, 0)", .numeric, .binary(.max, .x, .constant(0)), gradient: rule { c in
                let b = c.builder, x = c.operand(0)
                return [try b.masked(c.cotangent(), where: try b.compare(.gt, x, try b.zeros(like: x)))]
            })
        case .leakyRelu:
            unary(op, "x if x > 0 else alpha*x", .floatingPoint,
                  .select(.binary(.gt, .x, .constant(0)), .x, .attribute("alpha") * .x),
                  attributes: [.optional("alpha", .float, default: .float(0.01))],
                  example: "%1 = leaky_relu(%0) {alpha = 0.2} : f32[B, 8]", gradient: rule { c in
                let b = c.builder, x = c.operand(0), g = try c.cotangent()
                let positive = try b.compare(.gt, x, try b.zeros(like: x))
                return [try b.select(positive, g, try b.scaled(g, by: try c.attributes.float("alpha")))]
            })
        case .gelu:
            unary(op, "0.5*x*(1+erf(x/sqrt(2)))", .floatingPoint,
                  .constant(0.5) * .x * (.constant(1) + .unary(.erf, .x / .constant(2.0.squareRoot()))), gradient: rule { c in
                // d/dx x·Φ(x) = Φ(x) + x·φ(x), Φ(x) = (1 + erf(x/√2))/2, φ(x) = exp(-x²/2)/√(2π).
                let b = c.builder, x = c.operand(0)
                let cdf = try b.scaled(try b.shifted(try b.emit(.erf, [try b.scaled(x, by: 1 / 2.0.squareRoot())]), by: 1), by: 0.5)
                let density = try b.scaled(try b.exp(try b.scaled(try b.mul(x, x), by: -0.5)), by: 1 / (2 * Double.pi).squareRoot())
                return [try b.mul(c.cotangent(), try b.add(cdf, try b.mul(x, density)))]
            })
        case .erf:
            unary(op, "error function", .floatingPoint, .unary(.erf, .x), gradient: rule { c in
                let b = c.builder, x = c.operand(0)
                let slope = try b.scaled(try b.exp(try b.neg(try b.mul(x, x))), by: 2 / Double.pi.squareRoot())
                return [try b.mul(c.cotangent(), slope)]
            })
        case .logicalNot: unary(op, "boolean not", .boolean, .unary(.not, .x), gradient: .none("its result is boolean"))
        case .add: binary(op, "sum", .numeric, .binary(.add, .x, .y), gradient: rule { c in [try c.cotangent(), try c.cotangent()] })
        case .sub: binary(op, "difference", .numeric, .binary(.sub, .x, .y), gradient: rule { c in [try c.cotangent(), try c.builder.neg(c.cotangent())] })
        case .mul:
            binary(op, "product", .numeric, .binary(.mul, .x, .y), gradient: rule { c in
                let b = c.builder, g = try c.cotangent()
                return [try b.mul(g, c.operand(1)), try b.mul(g, c.operand(0))]
            })
        case .div:
            binary(op, "quotient (integers truncate toward zero)", .numeric, .binary(.div, .x, .y), gradient: rule { c in
                // d(x/y) = dx/y - dy·(x/y)/y.
                let b = c.builder, quotient = try b.div(c.cotangent(), c.operand(1))
                return [quotient, try b.neg(try b.mul(quotient, c.result()))]
            })
        case .pow:
            binary(op, "x raised to y", .floatingPoint, .binary(.pow, .x, .y), gradient: rule { c in
                // d(x^y) = y·x^(y-1) dx + x^y·log(x) dy.
                let b = c.builder, x = c.operand(0), y = c.operand(1), g = try c.cotangent()
                let dx = try b.mul(g, try b.mul(y, try b.emit(.pow, [x, try b.shifted(y, by: -1)])))
                return [dx, try b.mul(g, try b.mul(c.result(), try b.log(x)))]
            })
        case .maximum:
            binary(op, "larger of x and y", .numeric, .binary(.max, .x, .y), gradient: rule { c in
                // Ties send the gradient to x, as TensorFlow does.
                let b = c.builder, g = try c.cotangent(), pick = try b.compare(.ge, c.operand(0), c.operand(1))
                return [try b.masked(g, where: pick), try b.select(pick, try b.zeros(like: g), g)]
            })
        case .minimum:
            binary(op, "smaller of x and y", .numeric, .binary(.min, .x, .y), gradient: rule { c in
                let b = c.builder, g = try c.cotangent(), pick = try b.compare(.le, c.operand(0), c.operand(1))
                return [try b.masked(g, where: pick), try b.select(pick, try b.zeros(like: g), g)]
            })
        case .eq: binary(op, "x == y", .any, .binary(.eq, .x, .y), boolResult: true)
        case .ne: binary(op, "x != y", .any, .binary(.ne, .x, .y), boolResult: true)
        case .lt: binary(op, "x < y", .numeric, .binary(.lt, .x, .y), boolResult: true)
        case .le: binary(op, "x <= y", .numeric, .binary(.le, .x, .y), boolResult: true)
        case .gt: binary(op, "x > y", .numeric, .binary(.gt, .x, .y), boolResult: true)
        case .ge: binary(op, "x >= y", .numeric, .binary(.ge, .x, .y), boolResult: true)
        case .logicalAnd: binary(op, "boolean and", .boolean, .binary(.and, .x, .y), gradient: .none("its result is boolean"))
        case .logicalOr: binary(op, "boolean or", .boolean, .binary(.or, .x, .y), gradient: .none("its result is boolean"))
        case .select: select
        default: cast
        }
    }

    /// A gradient rule (shorthand for the table above).
    static func rule(_ body: @escaping @Sendable (GradientContext) throws -> [ValueID?]) -> Gradient { .rule(body) }

    static func unary(_ op: OpCode, _ summary: String, _ accepted: DTypeClass, _ scalar: ScalarExpr,
                      attributes: [OpDefinition.AttributeSpec] = [], example: String? = nil, gradient: Gradient) -> OpDefinition {
        OpDefinition(
            name: op.rawValue, summary: summary,
            example: example ?? "%1 = \(op.rawValue)(%0) : \(accepted == .boolean ? "bool" : "f32")[B, 8]",
            arity: .fixed(1), attributes: attributes, scalar: scalar,
            inferTypes: { types, _, _ in
                let type = try TypeRules.first(types)
                guard accepted.accepts(type.dtype) else {
                    throw TypeRules.fail("operand must have \(accepted.phrase) dtype, got \(type)")
                }
                return [type]
            }, gradient: gradient)
    }

    /// Comparisons have boolean results and no gradient.
    static func binary(_ op: OpCode, _ summary: String, _ accepted: DTypeClass, _ scalar: ScalarExpr,
                       boolResult: Bool) -> OpDefinition {
        binary(op, summary, accepted, scalar, boolResult: boolResult, gradient: .none("its result is boolean"))
    }

    static func binary(_ op: OpCode, _ summary: String, _ accepted: DTypeClass, _ scalar: ScalarExpr,
                       boolResult: Bool = false, gradient: Gradient) -> OpDefinition {
        let example = "%2 = \(op.rawValue)(%0, %1) : \(boolResult ? "bool" : "f32")[B, 8]"
        return OpDefinition(
            name: op.rawValue, summary: summary, example: example, arity: .fixed(2), scalar: scalar,
            inferTypes: { types, _, _ in
                let lhs = try TypeRules.first(types)
                let rhs = try TypeRules.operand(types, 1)
                guard lhs == rhs else {
                    throw TypeRules.fail("operands must have identical types (broadcast explicitly), got \(lhs) and \(rhs)")
                }
                guard accepted.accepts(lhs.dtype) else {
                    throw TypeRules.fail("operands must have \(accepted.phrase) dtype, got \(lhs)")
                }
                return [boolResult ? TensorType(.bool, lhs.shape) : lhs]
            }, gradient: gradient)
    }

    static let select = OpDefinition(
        name: "select", summary: "a where cond else b, elementwise",
        example: "%3 = select(%0, %1, %2) : f32[B, 8]",
        arity: .fixed(3), scalar: .select(.arg(0), .arg(1), .arg(2)),
        inferTypes: { types, _, _ in
            let condition = try TypeRules.first(types)
            let lhs = try TypeRules.operand(types, 1)
            let rhs = try TypeRules.operand(types, 2)
            guard condition.dtype == .bool else { throw TypeRules.fail("condition must be bool, got \(condition)") }
            guard lhs == rhs else {
                throw TypeRules.fail("branches must have identical types, got \(lhs) and \(rhs)")
            }
            guard condition.shape == lhs.shape else {
                throw TypeRules.fail("condition shape \(condition.shape) differs from branch shape \(lhs.shape)")
            }
            return [lhs]
        },
        gradient: rule { c in
            let b = c.builder, g = try c.cotangent(), zero = try b.zeros(like: g)
            return [nil, try b.select(c.operand(0), g, zero), try b.select(c.operand(0), zero, g)]
        })

    static let cast = OpDefinition(
        name: "cast", summary: "convert elements to another dtype",
        example: "%1 = cast(%0) {dtype = f32} : f32[B]",
        arity: .fixed(1), attributes: [.required("dtype", .dtype)], scalar: .arg(0),
        inferTypes: { types, attributes, _ in
            let type = try TypeRules.first(types)
            return [TensorType(try attributes.dtype("dtype"), type.shape)]
        },
        gradient: rule { c in
            // Between floating-point types the cotangent converts back; integers carry no gradient.
            guard c.isDifferentiable(c.operand(0)), c.isDifferentiable(c.result()) else { return [nil] }
            return [try c.builder.cast(c.cotangent(), to: c.type(of: c.operand(0)).dtype)]
        })
}
