/// Every primitive op of the IR. Each case has exactly one `OpDefinition`
/// (`definition`), declared in the `Ops+*.swift` file of its category.
public enum OpCode: String, CaseIterable, Hashable, Sendable {
    // Unary elementwise.
    case neg, abs, exp, log, sqrt, rsqrt, tanh, sigmoid, relu
    case leakyRelu = "leaky_relu"
    case gelu, erf
    case logicalNot = "logical_not"
    // Binary elementwise.
    case add, sub, mul, div, pow, maximum, minimum
    case eq, ne, lt, le, gt, ge
    case logicalAnd = "logical_and"
    case logicalOr = "logical_or"
    // Other elementwise.
    case select, cast
    // Data movement and constants.
    case constant, broadcast, reshape, transpose, slice, concat, gather
    case oneHot = "one_hot"
    case scatterAdd = "scatter_add"
    // Linear algebra and convolution.
    case matmul, conv2d, pool2d
    case conv2dBackpropInput = "conv2d_backprop_input"
    case conv2dBackpropFilter = "conv2d_backprop_filter"
    case pool2dBackprop = "pool2d_backprop"
    // Reductions.
    case reduce, argmax
    // Stochastic.
    case dropout
    // Control.
    case scan
    // Fusion groups, formed by the optimiser.
    case fused

    /// The op's definition (built once, then cached).
    public var definition: OpDefinition {
        OpRegistry.definitions[self] ?? makeDefinition()
    }

    /// Builds the definition; the switch makes a missing definition a compile error.
    fileprivate func makeDefinition() -> OpDefinition {
        switch self {
        case .neg, .abs, .exp, .log, .sqrt, .rsqrt, .tanh, .sigmoid, .relu, .leakyRelu, .gelu, .erf,
             .logicalNot, .add, .sub, .mul, .div, .pow, .maximum, .minimum, .eq, .ne, .lt, .le, .gt, .ge,
             .logicalAnd, .logicalOr, .select, .cast:
            ElementwiseOps.definition(of: self)
        case .constant, .broadcast, .reshape, .transpose, .slice, .concat, .gather, .oneHot, .scatterAdd:
            DataMovementOps.definition(of: self)
        case .matmul, .conv2d, .pool2d, .conv2dBackpropInput, .conv2dBackpropFilter, .pool2dBackprop:
            LinearAlgebraOps.definition(of: self)
        case .reduce, .argmax:
            ReductionOps.definition(of: self)
        case .dropout:
            StochasticOps.dropout
        case .scan:
            ControlOps.scan
        case .fused:
            FusionOps.fused
        }
    }

    /// The scalar expression of an elementwise op; `nil` for other ops.
    public var scalarDefinition: ScalarExpr? { definition.scalar }

    /// True for ops defined by a scalar expression.
    public var isElementwise: Bool { scalarDefinition != nil }
}

/// Lookup of op definitions by name, for the parser and tools.
public enum OpRegistry {
    /// The op with an IR name, e.g. `leaky_relu`.
    public static func op(named name: String) -> OpCode? { OpCode(rawValue: name) }

    /// Every definition, built once.
    static let definitions: [OpCode: OpDefinition] = Dictionary(
        uniqueKeysWithValues: OpCode.allCases.map { ($0, $0.makeDefinition()) })

    /// All definitions, in `OpCode` order.
    public static var all: [OpDefinition] { OpCode.allCases.map(\.definition) }
}
