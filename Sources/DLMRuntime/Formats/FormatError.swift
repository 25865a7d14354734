/// A data or weight file that cannot be read or written: names the file and the problem.
public struct FormatError: Error, CustomStringConvertible, Sendable {
    /// The file, as the user gave it.
    public let path: String
    /// What is wrong with it.
    public let problem: String

    /// Creates an error.
    public init(_ path: String, _ problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "\(path): \(problem)" }
}
