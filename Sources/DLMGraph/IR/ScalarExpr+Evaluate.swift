import Foundation

extension ScalarExpr {
    /// Evaluates the expression in double precision. Booleans are 0/1;
    /// attributes are read as numbers (ints, floats, bools). A missing
    /// operand or attribute evaluates to NaN. With an integer `dtype`,
    /// division truncates toward zero (and `x / 0` is 0), as the integer
    /// kernels do, and the result is converted to the dtype.
    public func evaluate(args: [Double], attributes: [String: Attribute] = [:], dtype: DType = .f64) -> Double {
        let value = evaluateRaw(args: args, attributes: attributes, dtype: dtype)
        return ScalarExpr.convert(value, to: dtype)
    }

    private func evaluateRaw(args: [Double], attributes: [String: Attribute], dtype: DType) -> Double {
        switch self {
        case .arg(let index):
            return args.indices.contains(index) ? args[index] : .nan
        case .constant(let value):
            return value
        case .attribute(let name):
            return attributes[name]?.numericValue ?? .nan
        case .unary(let op, let operand):
            return ScalarExpr.apply(op, operand.evaluateRaw(args: args, attributes: attributes, dtype: dtype))
        case .binary(let op, let lhs, let rhs):
            let a = lhs.evaluateRaw(args: args, attributes: attributes, dtype: dtype)
            let b = rhs.evaluateRaw(args: args, attributes: attributes, dtype: dtype)
            return ScalarExpr.apply(op, a, b, integer: dtype.isInteger)
        case .select(let condition, let lhs, let rhs):
            let chosen = condition.evaluateRaw(args: args, attributes: attributes, dtype: dtype) != 0 ? lhs : rhs
            return chosen.evaluateRaw(args: args, attributes: attributes, dtype: dtype)
        case .cast(let operand, let target):
            return ScalarExpr.convert(operand.evaluateRaw(args: args, attributes: attributes, dtype: dtype), to: target)
        }
    }

    static func apply(_ op: ScalarUnaryOp, _ x: Double) -> Double {
        switch op {
        case .neg: -x
        case .abs: Swift.abs(x)
        case .exp: Foundation.exp(x)
        case .log: Foundation.log(x)
        case .sqrt: x.squareRoot()
        case .tanh: Foundation.tanh(x)
        case .erf: Foundation.erf(x)
        case .not: x == 0 ? 1 : 0
        }
    }

    static func apply(_ op: ScalarBinaryOp, _ a: Double, _ b: Double, integer: Bool) -> Double {
        switch op {
        case .add: return a + b
        case .sub: return a - b
        case .mul: return a * b
        case .div:
            if integer { return b == 0 ? 0 : (a / b).rounded(.towardZero) }
            return a / b
        case .pow: return Foundation.pow(a, b)
        case .max: return a.isNaN || b.isNaN ? .nan : Swift.max(a, b)
        case .min: return a.isNaN || b.isNaN ? .nan : Swift.min(a, b)
        case .eq: return a == b ? 1 : 0
        case .ne: return a != b ? 1 : 0
        case .lt: return a < b ? 1 : 0
        case .le: return a <= b ? 1 : 0
        case .gt: return a > b ? 1 : 0
        case .ge: return a >= b ? 1 : 0
        case .and: return a != 0 && b != 0 ? 1 : 0
        case .or: return a != 0 || b != 0 ? 1 : 0
        }
    }

    /// Converts a value to what a `dtype` element holds, in double precision
    /// (every backend converts this way).
    public static func convert(_ value: Double, to dtype: DType) -> Double {
        switch dtype {
        case .f64: return value
        case .f32: return Double(Float(value))
        case .bool: return value != 0 ? 1 : 0
        case .i32, .i64, .u8: return value.isFinite ? value.rounded(.towardZero) : 0
        }
    }
}
