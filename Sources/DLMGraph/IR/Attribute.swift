/// A compile-time argument of a node (strides, axes, a dtype, ...).
public enum Attribute: Hashable, Sendable {
    case int(Int)
    case float(Double)
    case bool(Bool)
    case string(String)
    case ints([Int])
    case floats([Double])
    case dims([Dim])
    case dtype(DType)

    /// The attribute's kind.
    public var kind: AttributeKind {
        switch self {
        case .int: .int
        case .float: .float
        case .bool: .bool
        case .string: .string
        case .ints: .ints
        case .floats: .floats
        case .dims: .dims
        case .dtype: .dtype
        }
    }

    /// The attribute converted to `kind` where that loses nothing (an int as a
    /// float, ints as floats or dims), or `nil`.
    public func coerced(to kind: AttributeKind) -> Attribute? {
        if self.kind == kind { return self }
        switch (self, kind) {
        case (.int(let value), .float): return .float(Double(value))
        case (.ints(let values), .floats): return .floats(values.map(Double.init))
        case (.ints(let values), .dims): return .dims(values.map(Dim.constant))
        case (.dims(let dims), .ints):
            let values = dims.compactMap(\.constantValue)
            return values.count == dims.count ? .ints(values) : nil
        default: return nil
        }
    }
}

extension Attribute {
    /// The attribute as a number for scalar expressions (`$alpha`): ints and
    /// floats as themselves, bools as 0 or 1, anything else NaN.
    public var numericValue: Double {
        switch self {
        case .int(let value): Double(value)
        case .float(let value): value
        case .bool(let value): value ? 1 : 0
        default: .nan
        }
    }
}

/// The kinds of attribute values, as named in op schemas and messages.
public enum AttributeKind: String, Hashable, Sendable {
    case int, float, bool, string, ints, floats, dims, dtype
}
