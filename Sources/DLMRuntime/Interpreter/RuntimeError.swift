import DLMGraph

/// A problem found while running a graph: a missing or mis-shaped input, a
/// size that does not bind, an index out of range in user data.
public struct RuntimeError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, in the user's terms.
    public let message: String

    /// Creates an error.
    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
