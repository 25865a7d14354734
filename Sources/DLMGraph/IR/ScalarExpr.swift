/// The scalar semantics of an elementwise op: one element of the result as
/// an expression of one element of each operand. The interpreter, the fuser
/// and the LLVM code generator all consume this one definition.
///
/// Booleans are 0 and 1. The node's result dtype is implied: the value of the
/// expression is converted to it (this is all `cast` does).
public indirect enum ScalarExpr: Hashable, Sendable, CustomStringConvertible {
    /// The element of operand `i`.
    case arg(Int)
    /// A literal.
    case constant(Double)
    /// A numeric attribute of the node (e.g. `alpha`).
    case attribute(String)
    /// A one-operand primitive.
    case unary(ScalarUnaryOp, ScalarExpr)
    /// A two-operand primitive.
    case binary(ScalarBinaryOp, ScalarExpr, ScalarExpr)
    /// `condition != 0 ? a : b`.
    case select(ScalarExpr, ScalarExpr, ScalarExpr)
    /// Conversion to a dtype (rounding toward zero for integers, `!= 0` for bool).
    case cast(ScalarExpr, DType)

    /// Lisp-like text, e.g. `(max arg0 0.0)`.
    public var description: String {
        switch self {
        case .arg(let index): "arg\(index)"
        case .constant(let value): "\(value)"
        case .attribute(let name): "$\(name)"
        case .unary(let op, let operand): "(\(op.rawValue) \(operand))"
        case .binary(let op, let lhs, let rhs): "(\(op.rawValue) \(lhs) \(rhs))"
        case .select(let condition, let lhs, let rhs): "(select \(condition) \(lhs) \(rhs))"
        case .cast(let operand, let dtype): "(cast \(operand) \(dtype.rawValue))"
        }
    }
}

/// One-operand scalar primitives.
public enum ScalarUnaryOp: String, CaseIterable, Hashable, Sendable {
    case neg, abs, exp, log, sqrt, tanh, erf
    /// `x == 0 ? 1 : 0`.
    case not
}

/// Two-operand scalar primitives; comparisons and logical ops yield 0 or 1.
public enum ScalarBinaryOp: String, CaseIterable, Hashable, Sendable {
    case add, sub, mul, div, pow, max, min
    case eq, ne, lt, le, gt, ge
    case and, or
}

// Operator sugar for writing op definitions.
extension ScalarExpr {
    static func + (lhs: ScalarExpr, rhs: ScalarExpr) -> ScalarExpr { .binary(.add, lhs, rhs) }
    static func - (lhs: ScalarExpr, rhs: ScalarExpr) -> ScalarExpr { .binary(.sub, lhs, rhs) }
    static func * (lhs: ScalarExpr, rhs: ScalarExpr) -> ScalarExpr { .binary(.mul, lhs, rhs) }
    static func / (lhs: ScalarExpr, rhs: ScalarExpr) -> ScalarExpr { .binary(.div, lhs, rhs) }
    static prefix func - (operand: ScalarExpr) -> ScalarExpr { .unary(.neg, operand) }
    static let x = ScalarExpr.arg(0)
    static let y = ScalarExpr.arg(1)
}
