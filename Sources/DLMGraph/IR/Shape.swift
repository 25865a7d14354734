/// The dims of a tensor, outermost first; the empty shape is a scalar.
public struct Shape: Hashable, Sendable, CustomStringConvertible {
    /// The dims, outermost first.
    public var dims: [Dim]

    /// Creates a shape from its dims.
    public init(_ dims: [Dim]) { self.dims = dims }

    /// The number of dims.
    public var rank: Int { dims.count }

    /// The product of the dims (1 for a scalar).
    public var elementCount: Dim { dims.reduce(Dim.constant(1), *) }

    /// Every symbol used by any dim.
    public var symbols: Set<String> { dims.reduce(into: Set<String>()) { $0.formUnion($1.symbols) } }

    /// `[B, 28, 28, 1]`, or `[]` for a scalar.
    public var description: String { "[" + dims.map(\.description).joined(separator: ", ") + "]" }
}

/// The type of a tensor value: element type and shape.
public struct TensorType: Hashable, Sendable, CustomStringConvertible {
    /// The element type.
    public var dtype: DType
    /// The shape.
    public var shape: Shape

    /// Creates a tensor type.
    public init(_ dtype: DType, _ shape: Shape) {
        self.dtype = dtype
        self.shape = shape
    }

    /// `f32[B, 28, 28, 1]`.
    public var description: String { "\(dtype.rawValue)\(shape)" }
}
