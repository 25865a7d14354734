/// Elementwise ops: each is a scalar expression applied to operands of
/// identical shape (broadcasting is explicit in this IR).
enum ElementwiseOps {
    static func definition(of op: OpCode) -> OpDefinition {
        switch op {
        case .neg: unary(op, "negate", .numeric, -.x)
        case .abs: unary(op, "absolute value", .numeric, .unary(.abs, .x))
        case .exp: unary(op, "e raised to x", .floatingPoint, .unary(.exp, .x))
        case .log: unary(op, "natural logarithm", .floatingPoint, .unary(.log, .x))
        case .sqrt: unary(op, "square root", .floatingPoint, .unary(.sqrt, .x))
        case .rsqrt: unary(op, "reciprocal square root", .floatingPoint, .constant(1) / .unary(.sqrt, .x))
        case .tanh: unary(op, "hyperbolic tangent", .floatingPoint, .unary(.tanh, .x))
        case .sigmoid:
            unary(op, "logistic sigmoid 1/(1+exp(-x))", .floatingPoint,
                  .constant(1) / (.constant(1) + .unary(.exp, -.x)))
        case .relu: unary(op, "max(x, 0)", .numeric, .binary(.max, .x, .constant(0)))
        case .leakyRelu:
            unary(op, "x if x > 0 else alpha*x", .floatingPoint,
                  .select(.binary(.gt, .x, .constant(0)), .x, .attribute("alpha") * .x),
                  attributes: [.optional("alpha", .float, default: .float(0.01))],
                  example: "%1 = leaky_relu(%0) {alpha = 0.2} : f32[B, 8]")
        case .gelu:
            unary(op, "0.5*x*(1+erf(x/sqrt(2)))", .floatingPoint,
                  .constant(0.5) * .x * (.constant(1) + .unary(.erf, .x / .constant(2.0.squareRoot()))))
        case .erf: unary(op, "error function", .floatingPoint, .unary(.erf, .x))
        case .logicalNot: unary(op, "boolean not", .boolean, .unary(.not, .x))
        case .add: binary(op, "sum", .numeric, .binary(.add, .x, .y))
        case .sub: binary(op, "difference", .numeric, .binary(.sub, .x, .y))
        case .mul: binary(op, "product", .numeric, .binary(.mul, .x, .y))
        case .div: binary(op, "quotient (integers truncate toward zero)", .numeric, .binary(.div, .x, .y))
        case .pow: binary(op, "x raised to y", .floatingPoint, .binary(.pow, .x, .y))
        case .maximum: binary(op, "larger of x and y", .numeric, .binary(.max, .x, .y))
        case .minimum: binary(op, "smaller of x and y", .numeric, .binary(.min, .x, .y))
        case .eq: binary(op, "x == y", .any, .binary(.eq, .x, .y), boolResult: true)
        case .ne: binary(op, "x != y", .any, .binary(.ne, .x, .y), boolResult: true)
        case .lt: binary(op, "x < y", .numeric, .binary(.lt, .x, .y), boolResult: true)
        case .le: binary(op, "x <= y", .numeric, .binary(.le, .x, .y), boolResult: true)
        case .gt: binary(op, "x > y", .numeric, .binary(.gt, .x, .y), boolResult: true)
        case .ge: binary(op, "x >= y", .numeric, .binary(.ge, .x, .y), boolResult: true)
        case .logicalAnd: binary(op, "boolean and", .boolean, .binary(.and, .x, .y))
        case .logicalOr: binary(op, "boolean or", .boolean, .binary(.or, .x, .y))
        case .select: select
        default: cast
        }
    }

    static func unary(_ op: OpCode, _ summary: String, _ accepted: DTypeClass, _ scalar: ScalarExpr,
                      attributes: [OpDefinition.AttributeSpec] = [], example: String? = nil) -> OpDefinition {
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
            })
    }

    static func binary(_ op: OpCode, _ summary: String, _ accepted: DTypeClass, _ scalar: ScalarExpr,
                       boolResult: Bool = false) -> OpDefinition {
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
            })
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
        })

    static let cast = OpDefinition(
        name: "cast", summary: "convert elements to another dtype",
        example: "%1 = cast(%0) {dtype = f32} : f32[B]",
        arity: .fixed(1), attributes: [.required("dtype", .dtype)], scalar: .arg(0),
        inferTypes: { types, attributes, _ in
            let type = try TypeRules.first(types)
            return [TensorType(try attributes.dtype("dtype"), type.shape)]
        })
}
