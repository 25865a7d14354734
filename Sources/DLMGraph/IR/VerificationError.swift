import DLMSyntax

/// One problem the verifier found in a graph.
public struct VerificationError: Error, Sendable, CustomStringConvertible {
    /// Lowercase message naming the op and the values involved.
    public var message: String
    /// The graph the problem is in (`body` for scan bodies).
    public var graphName: String
    /// The offending node's op, if the problem is in a node.
    public var op: OpCode?
    /// The index of the offending node in its graph's `nodes`.
    public var nodeIndex: Int?
    /// The node's source location, if known.
    public var location: SourceRange?

    /// Creates an error.
    public init(_ message: String, graphName: String, op: OpCode? = nil, nodeIndex: Int? = nil, location: SourceRange? = nil) {
        self.message = message
        self.graphName = graphName
        self.op = op
        self.nodeIndex = nodeIndex
        self.location = location
    }

    /// `[file:line:col: ]@graph: node N (op): message`.
    public var description: String {
        var text = location.map { "\($0.description): " } ?? ""
        text += "@\(graphName): "
        if let nodeIndex, let op { text += "node \(nodeIndex) (\(op.rawValue)): " }
        return text + message
    }
}
