import DLMSyntax

/// One operation of a graph.
public struct Node: Sendable {
    /// The primitive op.
    public var op: OpCode
    /// Operand values, in the op's order.
    public var operands: [ValueID]
    /// Result values, defined by this node.
    public var results: [ValueID]
    /// Attributes, with the op's defaults filled in.
    public var attributes: [String: Attribute]
    /// Nested graphs (the body of `scan`); empty for other ops.
    public var regions: [Graph]
    /// Where the node came from in the `.dlm` source, if anywhere.
    public var location: SourceRange?

    /// Creates a node record.
    public init(op: OpCode, operands: [ValueID], results: [ValueID], attributes: [String: Attribute] = [:],
                regions: [Graph] = [], location: SourceRange? = nil) {
        self.op = op
        self.operands = operands
        self.results = results
        self.attributes = attributes
        self.regions = regions
        self.location = location
    }
}
