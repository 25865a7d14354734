import DLMSyntax

/// Appends type-checked primitive ops to a graph through small, named
/// helpers: what gradient rules, losses and optimisers are written with.
/// Every helper goes through `Graph.append`, so each emitted op is checked
/// by its type rule exactly as lowered ops are.
public struct GraphBuilder {
    /// The graph ops are appended to.
    public let graph: Graph
    /// The source location given to emitted ops (the node being differentiated, the train block).
    public var location: SourceRange?

    /// A builder appending to `graph`.
    public init(_ graph: Graph, location: SourceRange? = nil) {
        self.graph = graph
        self.location = location
    }

    /// The type of a value.
    public func type(of value: ValueID) -> TensorType { graph.type(of: value) }

    /// The shape of a value.
    public func shape(of value: ValueID) -> Shape { graph.type(of: value).shape }

    /// Appends one single-result op.
    public func emit(_ op: OpCode, _ operands: [ValueID], _ attributes: [String: Attribute] = [:]) throws -> ValueID {
        try graph.emit(op, operands, attributes: attributes, location: location)
    }

    // MARK: Constants

    /// A scalar constant of a dtype.
    public func scalar(_ value: Double, _ dtype: DType) throws -> ValueID {
        try emit(.constant, [], ["dtype": .dtype(dtype), "shape": .dims([]), "values": .floats([value])])
    }

    /// A tensor of `value` with the type of `like`.
    public func filled(_ value: Double, like: ValueID) throws -> ValueID {
        try filled(value, type(of: like))
    }

    /// A tensor of `value` of a given type.
    public func filled(_ value: Double, _ type: TensorType) throws -> ValueID {
        try broadcast(try scalar(value, type.dtype), to: type.shape)
    }

    /// Zeros with the type of `like`.
    public func zeros(like: ValueID) throws -> ValueID { try filled(0, like: like) }

    // MARK: Elementwise (operands of identical type)

    /// `a + b`.
    public func add(_ a: ValueID, _ b: ValueID) throws -> ValueID { try emit(.add, [a, b]) }
    /// `a - b`.
    public func sub(_ a: ValueID, _ b: ValueID) throws -> ValueID { try emit(.sub, [a, b]) }
    /// `a · b`.
    public func mul(_ a: ValueID, _ b: ValueID) throws -> ValueID { try emit(.mul, [a, b]) }
    /// `a / b`.
    public func div(_ a: ValueID, _ b: ValueID) throws -> ValueID { try emit(.div, [a, b]) }
    /// `-a`.
    public func neg(_ a: ValueID) throws -> ValueID { try emit(.neg, [a]) }
    /// `exp(a)`.
    public func exp(_ a: ValueID) throws -> ValueID { try emit(.exp, [a]) }
    /// `log(a)`.
    public func log(_ a: ValueID) throws -> ValueID { try emit(.log, [a]) }
    /// `√a`.
    public func sqrt(_ a: ValueID) throws -> ValueID { try emit(.sqrt, [a]) }
    /// `|a|`.
    public func abs(_ a: ValueID) throws -> ValueID { try emit(.abs, [a]) }
    /// The larger of `a` and `b`.
    public func maximum(_ a: ValueID, _ b: ValueID) throws -> ValueID { try emit(.maximum, [a, b]) }
    /// The smaller of `a` and `b`.
    public func minimum(_ a: ValueID, _ b: ValueID) throws -> ValueID { try emit(.minimum, [a, b]) }
    /// `condition ? a : b`.
    public func select(_ condition: ValueID, _ a: ValueID, _ b: ValueID) throws -> ValueID { try emit(.select, [condition, a, b]) }
    /// A comparison op (`lt`, `eq`, …): a boolean tensor.
    public func compare(_ op: OpCode, _ a: ValueID, _ b: ValueID) throws -> ValueID { try emit(op, [a, b]) }
    /// `a` converted to `dtype` (no op when it has it).
    public func cast(_ a: ValueID, to dtype: DType) throws -> ValueID {
        type(of: a).dtype == dtype ? a : try emit(.cast, [a], ["dtype": .dtype(dtype)])
    }

    /// `a * value` for a scalar literal (broadcast to `a`'s shape).
    public func scaled(_ a: ValueID, by value: Double) throws -> ValueID {
        value == 1 ? a : try mul(a, try filled(value, like: a))
    }

    /// `a + value` for a scalar literal.
    public func shifted(_ a: ValueID, by value: Double) throws -> ValueID {
        value == 0 ? a : try add(a, try filled(value, like: a))
    }

    /// `a ⊙ s` where `s` is a scalar (rank-0) value, broadcast to `a`.
    public func mul(_ a: ValueID, scalar s: ValueID) throws -> ValueID {
        try mul(a, try broadcast(s, to: shape(of: a)))
    }

    /// `select(condition, a, 0)`.
    public func masked(_ a: ValueID, where condition: ValueID) throws -> ValueID {
        try select(condition, a, try zeros(like: a))
    }

    // MARK: Shapes

    /// Broadcasts to `shape` (no op when already that shape).
    public func broadcast(_ a: ValueID, to shape: Shape) throws -> ValueID {
        self.shape(of: a) == shape ? a : try emit(.broadcast, [a], ["shape": .dims(shape.dims)])
    }

    /// Reshapes (no op when already that shape).
    public func reshape(_ a: ValueID, to shape: Shape) throws -> ValueID {
        self.shape(of: a) == shape ? a : try emit(.reshape, [a], ["shape": .dims(shape.dims)])
    }

    /// Permutes axes (no op for the identity).
    public func transpose(_ a: ValueID, _ permutation: [Int]) throws -> ValueID {
        permutation == Array(permutation.indices) ? a : try emit(.transpose, [a], ["permutation": .ints(permutation)])
    }

    /// Swaps the last two axes.
    public func transposeLastTwo(_ a: ValueID) throws -> ValueID {
        let rank = shape(of: a).rank
        var permutation = Array(0..<rank)
        permutation.swapAt(rank - 1, rank - 2)
        return try transpose(a, permutation)
    }

    /// `reduce` of a kind over axes (sorted here); no op when `axes` is empty.
    public func reduce(_ kind: String, _ a: ValueID, axes: [Int], keepDims: Bool = false) throws -> ValueID {
        guard !axes.isEmpty else { return a }
        return try emit(.reduce, [a], ["kind": .string(kind), "axes": .ints(axes.sorted()), "keepdims": .bool(keepDims)])
    }

    /// The sum of every element, as a scalar.
    public func sumAll(_ a: ValueID) throws -> ValueID {
        let rank = shape(of: a).rank
        return rank == 0 ? a : try reduce("sum", a, axes: Array(0..<rank))
    }

    /// The mean of every element, as a scalar.
    public func meanAll(_ a: ValueID) throws -> ValueID {
        let rank = shape(of: a).rank
        return rank == 0 ? a : try reduce("mean", a, axes: Array(0..<rank))
    }

    /// Sums `a` down to `target`, undoing a NumPy broadcast of `target` to `a`'s
    /// shape: leading axes are summed away, axes where `target` has size 1 are
    /// summed with their size kept. This is the one place broadcasting is undone.
    public func sumToShape(_ a: ValueID, _ target: Shape) throws -> ValueID {
        let source = shape(of: a)
        if source == target { return a }
        let offset = source.rank - target.rank
        guard offset >= 0 else { throw OpError("cannot sum \(source) down to the larger rank \(target)", location: location) }
        var axes = Array(0..<offset)
        for (index, dim) in target.dims.enumerated() where dim == 1 && source.dims[offset + index] != 1 {
            axes.append(offset + index)
        }
        let summed = try reduce("sum", a, axes: axes, keepDims: true)
        return try reshape(summed, to: target)
    }

    /// Slices `[start, end)` along one axis.
    public func slice(_ a: ValueID, axis: Int, start: Dim, end: Dim) throws -> ValueID {
        let dims = shape(of: a).dims
        var starts = [Dim](repeating: 0, count: dims.count)
        var ends = dims
        starts[axis] = start
        ends[axis] = end
        if start == 0 && end == dims[axis] { return a }
        return try emit(.slice, [a], ["starts": .dims(starts), "ends": .dims(ends),
                                      "steps": .ints([Int](repeating: 1, count: dims.count))])
    }

    /// Joins values along an axis (no op for one value).
    public func concat(_ values: [ValueID], axis: Int) throws -> ValueID {
        values.count == 1 ? values[0] : try emit(.concat, values, ["axis": .int(axis)])
    }
}

extension Graph {
    /// Appends a copy of `node` of `source` (regions deep-copied) whose
    /// operands are `operands`, and returns its results.
    @discardableResult
    public func appendCopy(of node: Node, from source: Graph, operands: [ValueID]) -> [ValueID] {
        appendUnverified(node.op, operands, resultTypes: node.results.map { source.type(of: $0) }, attributes: node.attributes,
                         regions: node.regions.map { $0.copy() }, location: node.location)
    }

    /// A deep copy: same inputs, parameters, nodes (regions copied too) and outputs.
    public func copy() -> Graph { copyMappingValues().graph }

    /// A deep copy, and the copy's value for each of this graph's values.
    public func copyMappingValues() -> (graph: Graph, values: [ValueID: ValueID]) {
        let copy = Graph(name: name)
        var values: [ValueID: ValueID] = [:]
        for input in inputs { values[input] = copy.addInput(name: self.name(of: input) ?? "input", type: type(of: input)) }
        for parameter in parameters {
            // Names are unique in `self`, so re-adding them cannot fail.
            values[parameter.value] = try? copy.addParameter(name: parameter.name, type: parameter.type,
                                                              initializer: parameter.initializer, isTrainable: parameter.isTrainable)
        }
        for node in nodes {
            let results = copy.appendCopy(of: node, from: self, operands: node.operands.map { values[$0] ?? $0 })
            for (old, new) in zip(node.results, results) { values[old] = new }
        }
        copy.setOutputs(outputs.map { values[$0] ?? $0 }, names: outputNames)
        return (copy, values)
    }
}
