/// How an op passes gradients back to its operands: part of the op's
/// definition, next to its type rule and scalar expression.
public enum Gradient: Sendable {
    /// A vector-Jacobian product: from the cotangents of the node's results,
    /// emits ordinary IR computing each operand's cotangent (`nil` where an
    /// operand receives none, such as integer indices or a condition).
    case rule(@Sendable (GradientContext) throws -> [ValueID?])
    /// For ops whose backward pass reads values the forward pass computes
    /// inside a region (a scan body's per-step intermediates): before the
    /// reverse sweep, `expose` rewrites the forward node so it also returns
    /// them (as extra results, in place, so nothing is computed twice); the
    /// rule then sees the rewritten node.
    case withResiduals(expose: @Sendable (Node, Graph) throws -> Node, rule: @Sendable (GradientContext) throws -> [ValueID?])
    /// The op's results carry no gradient (comparisons, argmax, constants);
    /// the string says why, for messages.
    case none(String)
}

/// What a gradient rule sees: the node being differentiated (its operands
/// and results are values of the graph being extended), the cotangents of
/// its results, and a builder appending to that graph.
public struct GradientContext {
    /// Appends the rule's ops (located at the node).
    public let builder: GraphBuilder
    /// The node, with operands and results as values of `builder.graph`.
    public let node: Node
    /// The cotangent of each result; `nil` for results nothing depends on.
    public let resultCotangents: [ValueID?]
    /// For each operand, whether anything asked for its gradient (rules may skip the others).
    public let needsGradient: [Bool]

    /// Creates a context; the reverse-mode pass does this for every node on the path to the loss.
    public init(builder: GraphBuilder, node: Node, resultCotangents: [ValueID?], needsGradient: [Bool]) {
        self.builder = builder
        self.node = node
        self.resultCotangents = resultCotangents
        self.needsGradient = needsGradient
    }

    /// Operand `index` of the node.
    public func operand(_ index: Int) -> ValueID { node.operands[index] }

    /// Result `index` of the node.
    public func result(_ index: Int = 0) -> ValueID { node.results[index] }

    /// The cotangent of result `index`, or zeros when it has none.
    public func cotangent(_ index: Int = 0) throws -> ValueID {
        if let value = resultCotangents[index] { return value }
        return try builder.zeros(like: node.results[index])
    }

    /// The node's attributes, typed.
    public var attributes: AttributeReader { AttributeReader(node.attributes) }

    /// The type of a value of the graph.
    public func type(of value: ValueID) -> TensorType { builder.type(of: value) }

    /// True when a value can carry a gradient (floating point).
    public func isDifferentiable(_ value: ValueID) -> Bool { type(of: value).dtype.isFloatingPoint }
}
