import DLMSyntax

/// An SSA value of one graph: an input, a parameter or a node result.
public struct ValueID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Position in the graph's value table.
    public let index: Int

    /// Wraps an index. Values normally come from `Graph`; passes and tests may build them.
    public init(index: Int) { self.index = index }

    public static func < (lhs: ValueID, rhs: ValueID) -> Bool { lhs.index < rhs.index }

    /// `%N`.
    public var description: String { "%\(index)" }
}

/// A named, initialised tensor of the model (a weight, a bias, a moving mean).
public struct Parameter: Hashable, Sendable {
    /// Dotted name, e.g. `conv1.weight`.
    public var name: String
    /// Element type and shape.
    public var type: TensorType
    /// How the initial value is drawn.
    public var initializer: Initializer
    /// False for state that training does not update by gradient (`frozen`).
    public var isTrainable: Bool
    /// The value that refers to this parameter in the graph.
    public var value: ValueID

    /// Creates a parameter record.
    public init(name: String, type: TensorType, initializer: Initializer, isTrainable: Bool, value: ValueID) {
        self.name = name
        self.type = type
        self.initializer = initializer
        self.isTrainable = isTrainable
        self.value = value
    }
}

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
