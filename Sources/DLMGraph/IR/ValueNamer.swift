/// The names values have in the textual IR: `%name` for inputs, `@name` for
/// parameters, and `%0`, `%1`, ... for node results numbered in definition
/// order. Numbering by position (not `ValueID.index`) makes printing
/// independent of the order inputs, parameters and nodes were added, so
/// `parse(print(g))` prints identically. Printer and verifier share it.
public struct ValueNamer: Sendable {
    private var names: [ValueID: String] = [:]

    /// Names every value of a graph (not of its regions).
    public init(_ graph: Graph) {
        for input in graph.inputs {
            names[input] = "%" + (graph.name(of: input) ?? "?\(input.index)")
        }
        for parameter in graph.parameters {
            names[parameter.value] = "@" + parameter.name
        }
        var counter = 0
        for node in graph.nodes {
            for result in node.results where names[result] == nil {
                names[result] = "%\(counter)"
                counter += 1
            }
        }
    }

    /// The IR name of a value; values the graph does not define print as `%?index`.
    public func name(of value: ValueID) -> String {
        names[value] ?? "%?\(value.index)"
    }
}
