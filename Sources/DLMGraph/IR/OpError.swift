import DLMSyntax

/// An op's type rule or checks rejected its operands or attributes.
public struct OpError: Error, Sendable, CustomStringConvertible {
    /// A lowercase message naming the op, e.g. `matmul: inner dims differ (K = 3 vs 4)`.
    public var message: String
    /// The node's source location, when known.
    public var location: SourceRange?

    /// Creates an error.
    public init(_ message: String, location: SourceRange? = nil) {
        self.message = message
        self.location = location
    }

    /// `file:line:col: message`, or just the message.
    public var description: String {
        if let location { return "\(location.description): \(message)" }
        return message
    }
}
