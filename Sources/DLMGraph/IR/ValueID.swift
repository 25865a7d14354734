/// An SSA value of one graph: an input, a parameter or a node result.
public struct ValueID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Position in the graph's value table.
    public let index: Int

    /// Wraps an index. Values normally come from `Graph`; passes and tests may build them.
    public init(index: Int) { self.index = index }

    /// Orders by index (definition order within a graph built by appending).
    public static func < (lhs: ValueID, rhs: ValueID) -> Bool { lhs.index < rhs.index }

    /// `%N`.
    public var description: String { "%\(index)" }
}
