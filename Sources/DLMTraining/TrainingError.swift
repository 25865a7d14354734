import DLMSyntax

/// A problem a user can cause while training (a data file that does not fit
/// the model, labels out of range, a loss that became NaN), with the place
/// in the `.dlm` file it concerns when there is one.
public struct TrainingError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, in the user's terms.
    public let message: String
    /// The `train` block setting the problem concerns, if any.
    public let range: SourceRange?

    /// Creates an error, optionally located in the source.
    public init(_ message: String, at range: SourceRange? = nil) {
        self.message = message
        self.range = range
    }

    public var description: String { message }
}
