/// Small helpers shared by type rules; they throw `OpError` with plain messages.
enum TypeRules {
    static func fail(_ message: String) -> OpError { OpError(message) }

    /// The single operand type (arity is checked before rules run).
    static func first(_ types: [TensorType]) throws -> TensorType {
        guard let type = types.first else { throw fail("missing operand") }
        return type
    }

    /// Operand `index`, or an error if there are too few (type rules may be called directly).
    static func operand(_ types: [TensorType], _ index: Int) throws -> TensorType {
        guard types.indices.contains(index) else { throw fail("missing operand \(index)") }
        return types[index]
    }

    /// Requires a rank.
    static func requireRank(_ type: TensorType, _ rank: Int, _ what: String) throws {
        guard type.shape.rank == rank else {
            throw fail("\(what) must have rank \(rank), got \(type)")
        }
    }

    /// Requires `count` ints, each satisfying `valid`.
    static func requireInts(_ values: [Int], count: Int, _ name: String, _ rule: String, _ valid: (Int) -> Bool) throws {
        guard values.count == count, values.allSatisfy(valid) else {
            throw fail("'\(name)' must be \(count) \(rule) ints, got \(values)")
        }
    }

    /// Requires a valid axis for a rank.
    static func requireAxis(_ axis: Int, rank: Int, _ name: String = "axis") throws {
        guard axis >= 0, axis < rank else { throw fail("'\(name)' \(axis) is out of range for rank \(rank)") }
    }

    /// Rejects a dim that is a known non-positive constant.
    static func requirePositive(_ dim: Dim, _ what: String) throws {
        if let value = dim.constantValue, value <= 0 {
            throw fail("\(what) would be \(value); it must be positive")
        }
    }
}

/// Which dtypes an operand accepts.
enum DTypeClass: Sendable {
    case floatingPoint, numeric, boolean, any, integer

    func accepts(_ dtype: DType) -> Bool {
        switch self {
        case .floatingPoint: dtype.isFloatingPoint
        case .numeric: dtype != .bool
        case .boolean: dtype == .bool
        case .any: true
        case .integer: dtype.isInteger
        }
    }

    var phrase: String {
        switch self {
        case .floatingPoint: "a floating-point"
        case .numeric: "a numeric"
        case .boolean: "a bool"
        case .any: "any"
        case .integer: "an integer"
        }
    }
}
