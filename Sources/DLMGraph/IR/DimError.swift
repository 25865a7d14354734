/// Why a `Dim` could not be evaluated to an integer.
public enum DimError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The dim uses a symbol that has no binding.
    case unboundSymbol(String)
    /// The dim divides by zero.
    case divisionByZero(Dim)
    /// Evaluating the dim overflowed `Int`.
    case overflow(Dim)

    /// A lowercase message naming the dim or symbol.
    public var description: String {
        switch self {
        case .unboundSymbol(let name): "symbolic dimension '\(name)' has no value"
        case .divisionByZero(let dim): "dimension '\(dim)' divides by zero"
        case .overflow(let dim): "dimension '\(dim)' overflows"
        }
    }
}
