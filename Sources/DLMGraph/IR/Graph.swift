import DLMSyntax

/// An SSA dataflow graph: named inputs, parameters, nodes in definition order
/// and outputs. A reference type: nodes hold their region graphs (scan
/// bodies) by reference. Not thread-safe for mutation; share only finished graphs.
public final class Graph: @unchecked Sendable, CustomStringConvertible {
    /// The graph's name (the model name, or `body` for a scan body).
    public var name: String
    /// Input values, in order; each has a name.
    public private(set) var inputs: [ValueID] = []
    /// Parameters, in declaration order.
    public private(set) var parameters: [Parameter] = []
    /// Nodes in topological (definition) order.
    public private(set) var nodes: [Node] = []
    /// Output values, in order.
    public var outputs: [ValueID] = []
    /// Optional names of the outputs, parallel to `outputs`.
    public var outputNames: [String?] = []

    private var valueTypes: [TensorType] = []
    private var valueNames: [String?] = []
    private var definers: [Int?] = []
    private var parameterIndex: [String: Int] = [:]

    /// Creates an empty graph.
    public init(name: String) { self.name = name }

    /// The number of values allocated so far (every `ValueID` index is below this).
    public var valueCount: Int { valueTypes.count }

    /// The type of a value; values not in this graph read as an `f32` scalar
    /// (the verifier reports them; use `validType(of:)` to tell).
    public func type(of value: ValueID) -> TensorType {
        validType(of: value) ?? TensorType(.f32, Shape([]))
    }

    /// The type of a value, or `nil` if the value does not belong to this graph.
    public func validType(of value: ValueID) -> TensorType? {
        valueTypes.indices.contains(value.index) ? valueTypes[value.index] : nil
    }

    /// The name of an input or parameter value.
    public func name(of value: ValueID) -> String? {
        valueNames.indices.contains(value.index) ? valueNames[value.index] : nil
    }

    /// The index in `nodes` of the node defining a value, or `nil` for inputs and parameters.
    public func definingNode(of value: ValueID) -> Int? {
        definers.indices.contains(value.index) ? definers[value.index] : nil
    }

    /// True if the value is one of the parameters.
    public func isParameter(_ value: ValueID) -> Bool { parameter(for: value) != nil }

    /// The parameter a value refers to, if it is one.
    public func parameter(for value: ValueID) -> Parameter? {
        guard let name = name(of: value), let index = parameterIndex[name],
              parameters[index].value == value else { return nil }
        return parameters[index]
    }

    /// The parameter with a given name.
    public func parameter(named name: String) -> Parameter? {
        parameterIndex[name].map { parameters[$0] }
    }

    /// Allocates an unnamed value of `type` with no defining node yet (for
    /// passes that build a new node list and install it with `replaceNodes`).
    public func makeValue(_ type: TensorType) -> ValueID { newValue(type, name: nil) }

    private func newValue(_ type: TensorType, name: String?) -> ValueID {
        let id = ValueID(index: valueTypes.count)
        valueTypes.append(type)
        valueNames.append(name)
        definers.append(nil)
        return id
    }

    /// Adds a named input at the end of the input list.
    @discardableResult
    public func addInput(name: String, type: TensorType) -> ValueID {
        let id = newValue(type, name: name)
        inputs.append(id)
        return id
    }

    /// Adds a parameter; throws `OpError` if the name is already used.
    @discardableResult
    public func addParameter(name: String, type: TensorType, initializer: Initializer,
                             isTrainable: Bool = true) throws -> ValueID {
        guard parameterIndex[name] == nil else {
            throw OpError("duplicate parameter '\(name)'")
        }
        let id = newValue(type, name: name)
        parameterIndex[name] = parameters.count
        parameters.append(Parameter(name: name, type: type, initializer: initializer,
                                    isTrainable: isTrainable, value: id))
        return id
    }

    /// Appends a node, inferring result types through the op registry; throws
    /// `OpError` (with a readable message and the location) when the op's type
    /// rule rejects the operands or attributes. Missing optional attributes get
    /// their defaults; lossless kind conversions (int → float, ints → dims) are applied.
    @discardableResult
    public func append(_ op: OpCode, _ operands: [ValueID], attributes: [String: Attribute] = [:],
                       regions: [Graph] = [], location: SourceRange? = nil) throws -> [ValueID] {
        let definition = op.definition
        var operandTypes: [TensorType] = []
        for operand in operands {
            guard let type = validType(of: operand) else {
                throw OpError("\(op.rawValue): operand \(operand) is not a value of graph @\(name)", location: location)
            }
            operandTypes.append(type)
        }
        let resultTypes: [TensorType]
        let normalized: [String: Attribute]
        do {
            normalized = try definition.normalize(attributes)
            resultTypes = try definition.check(operandTypes, normalized, regions)
        } catch let error as OpError {
            throw OpError(error.message, location: location)
        }
        return appendUnverified(op, operands, resultTypes: resultTypes, attributes: normalized,
                                regions: regions, location: location)
    }

    /// Convenience for single-result ops; throws if the op does not produce exactly one result.
    public func emit(_ op: OpCode, _ operands: [ValueID], attributes: [String: Attribute] = [:],
                     location: SourceRange? = nil) throws -> ValueID {
        let results = try append(op, operands, attributes: attributes, location: location)
        guard results.count == 1, let result = results.first else {
            throw OpError("\(op.rawValue): produces \(results.count) results, expected 1", location: location)
        }
        return result
    }

    /// Appends a node with the given result types and no checking at all (for
    /// the IR parser and for tests of the verifier). Run `verify` afterwards.
    @discardableResult
    public func appendUnverified(_ op: OpCode, _ operands: [ValueID], resultTypes: [TensorType],
                                 attributes: [String: Attribute] = [:], regions: [Graph] = [],
                                 location: SourceRange? = nil) -> [ValueID] {
        let results = resultTypes.map { newValue($0, name: nil) }
        for result in results { definers[result.index] = nodes.count }
        nodes.append(Node(op: op, operands: operands, results: results, attributes: attributes,
                          regions: regions, location: location))
        return results
    }

    /// Replaces the node list (for passes). Results must be values of this
    /// graph; the defining-node table is rebuilt. Run `verify` afterwards.
    public func replaceNodes(_ newNodes: [Node]) {
        definers = Array(repeating: nil, count: valueTypes.count)
        for (index, node) in newNodes.enumerated() {
            for result in node.results where definers.indices.contains(result.index) && definers[result.index] == nil {
                definers[result.index] = index
            }
        }
        nodes = newNodes
    }

    /// Sets the outputs and their optional names in one step.
    public func setOutputs(_ values: [ValueID], names: [String?]? = nil) {
        outputs = values
        outputNames = names ?? Array(repeating: nil, count: values.count)
    }

    /// The textual IR (see `GraphPrinter`).
    public var description: String { GraphPrinter().print(self) }
}
