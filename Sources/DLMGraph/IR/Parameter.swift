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
