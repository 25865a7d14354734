import DLMSyntax

/// A graph under construction: the model's graph, or a scan body nested in
/// it. Values of enclosing graphs used inside a body become capture inputs.
final class GraphFrame {
    let graph: Graph
    /// Enclosing-graph tensors captured into this graph, in capture order.
    private(set) var captured: [TensorRef] = []
    private var captureIDs: [TensorRef: ValueID] = [:]

    init(graph: Graph) {
        self.graph = graph
    }

    func capture(_ outer: TensorRef, as inner: ValueID) {
        captured.append(outer)
        captureIDs[outer] = inner
    }

    func capturedID(of outer: TensorRef) -> ValueID? { captureIDs[outer] }
}

/// Names visible while lowering one model or one expansion of a user layer.
struct Scope {
    /// Bound names: inputs, `param`s and assignments.
    var values: [String: (value: LoweredValue, range: SourceRange)] = [:]
    /// Symbolic sizes in force: the model's own symbols map to themselves;
    /// a user layer's signature symbols map to the caller's sizes.
    var dims: [String: Dim] = [:]
    /// Names whose statement failed: using them is silently abandoned.
    var poisoned: Set<String> = []
    /// Prefix for parameter names of layers created here (`lstmcell1.`).
    var namePrefix: String
    /// Per-kind counters for automatic layer names (`dense1`, `dense2`).
    var counters: [String: Int] = [:]
}

/// One row of a model summary: a layer (or user-layer call) at the model's top level.
public struct LayerSummary: Sendable, Hashable {
    /// The layer's name (`conv1`).
    public var name: String
    /// What it is (`conv2d`, `LSTMCell`, `param`).
    public var kind: String
    /// The type it produced.
    public var outputType: String
    /// Number of scalar parameters it owns.
    public var parameterCount: Int
    /// Parameters that are not trained (batch norm statistics).
    public var nonTrainableCount: Int
}

/// Lowers the models of a parsed file to graphs, checking shapes as it goes.
final class Lowerer {
    let unit: SourceUnit
    let diagnostics: DiagnosticEngine
    let layers: [String: FunctionDecl]

    var frames: [GraphFrame] = []
    var scopes: [Scope] = []
    /// User layers being expanded, outermost first (for recursion errors).
    var expansionStack: [(name: String, range: SourceRange)] = []
    /// Summary rows of the model being lowered.
    var summary: [LayerSummary] = []
    /// Parameters created per open layer (summed into rows by `layerRow`).
    var parameterTally: [(total: Int, frozen: Int)] = []
    /// Where each parameter of the model being lowered was created.
    var parameterRanges: [String: SourceRange] = [:]
    /// Where each `name:` given to a layer of the model being lowered was written, by full name.
    var explicitLayerNames: [String: SourceRange] = [:]
    /// Regularizers requested for parameters of the model being lowered.
    var regularizers: [String: Regularizer] = [:]
    /// Batch normalisations of the model's top-level graph (training swaps in batch statistics).
    var batchNorms: [BatchNormSite] = []
    /// User layers expanded at least once (the rest are checked on their own).
    var expandedLayers: Set<String> = []

    init(unit: SourceUnit, diagnostics: DiagnosticEngine, layers: [String: FunctionDecl]) {
        self.unit = unit
        self.diagnostics = diagnostics
        self.layers = layers
    }

    // MARK: Frames and scopes

    var frame: GraphFrame { frames[frames.count - 1] }
    var level: Int { frames.count - 1 }
    var rootGraph: Graph { frames[0].graph }

    /// The innermost scope, modified in place (a get/set pair would copy
    /// its dictionaries on every binding and make lowering quadratic).
    var scope: Scope {
        get { scopes[scopes.count - 1] }
        _modify { yield &scopes[scopes.count - 1] }
    }

    /// Reports an error and abandons the current statement.
    func fail(_ message: DiagnosticMessage, at range: SourceRange?, notes: [DiagnosticNote] = []) -> LoweringAbort {
        diagnostics.error(message, at: range, notes: notes)
        return LoweringAbort()
    }

    /// The id of a tensor in the current graph, capturing it from an
    /// enclosing graph (and that graph's enclosing graphs) when needed.
    func materialize(_ tensor: TensorRef) -> ValueID {
        materialize(tensor, at: level)
    }

    private func materialize(_ tensor: TensorRef, at targetLevel: Int) -> ValueID {
        if tensor.level == targetLevel { return tensor.id }
        let target = frames[targetLevel]
        if let id = target.capturedID(of: tensor) { return id }
        _ = materialize(tensor, at: targetLevel - 1)
        let name = frames[tensor.level].graph.name(of: tensor.id).map { "captured.\($0)" }
        let id = target.graph.addInput(name: name ?? "captured\(target.captured.count)", type: tensor.type)
        target.capture(tensor, as: id)
        return id
    }

    /// Appends one op to the current graph. The lowering checks operands in
    /// the user's terms first, so a type-rule failure here is a compiler bug,
    /// reported as an internal error rather than a crash.
    func emit(_ op: OpCode, _ operands: [TensorRef], attributes: [String: Attribute] = [:],
              regions: [Graph] = [], at range: SourceRange) throws -> [TensorRef] {
        let ids = operands.map { materialize($0) }
        do {
            let results = try frame.graph.append(op, ids, attributes: attributes, regions: regions, location: range)
            return results.map { TensorRef(level: level, id: $0, type: frame.graph.type(of: $0)) }
        } catch let error as OpError {
            throw fail(.internalOpError(op.rawValue, error.message), at: range)
        }
    }

    /// `emit` for single-result ops.
    func emit1(_ op: OpCode, _ operands: [TensorRef], attributes: [String: Attribute] = [:], at range: SourceRange) throws -> TensorRef {
        try emit(op, operands, attributes: attributes, at: range)[0]
    }

    // MARK: Layer naming and parameters

    /// The full name of a layer created here: an explicit `name:` or the
    /// next `<prefix><n>`, under the enclosing user layer's prefix.
    func layerName(prefix: String, explicit: String?, at range: SourceRange) throws -> String {
        if let explicit {
            guard Self.isValidParameterName(explicit) else {
                throw fail(.invalidLayerName(explicit), at: range)
            }
            let full = scope.namePrefix + explicit
            if let previous = explicitLayerNames[full] {
                throw fail(.duplicateLayerName(explicit), at: range, notes: [DiagnosticNote("'\(explicit)' first used here", at: previous)])
            }
            explicitLayerNames[full] = range
            return full
        }
        let count = (scope.counters[prefix] ?? 0) + 1
        scope.counters[prefix] = count
        return "\(scope.namePrefix)\(prefix)\(count)"
    }

    static func isValidParameterName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F
        }
    }

    /// Creates a model parameter (always in the model's graph; bodies capture it).
    func parameter(_ name: String, _ type: TensorType, initializer: Initializer, isTrainable: Bool = true,
                   at range: SourceRange) throws -> TensorRef {
        guard let count = type.shape.elementCount.constantValue else {
            throw fail(.symbolicParameterShape(name, type.description), at: range)
        }
        if let previous = parameterRanges[name] {
            throw fail(.duplicateParameter(name), at: range, notes: [DiagnosticNote("'\(name)' first defined here", at: previous)])
        }
        do {
            let id = try rootGraph.addParameter(name: name, type: type, initializer: initializer, isTrainable: isTrainable)
            parameterRanges[name] = range
            for index in parameterTally.indices {
                parameterTally[index].total += count
                if !isTrainable { parameterTally[index].frozen += count }
            }
            return TensorRef(level: 0, id: id, type: type)
        } catch {
            throw fail(.duplicateParameter(name), at: range)
        }
    }

    /// Runs `body` as one layer: at the model's top level its parameters
    /// and output become a summary row.
    func layerRow(name: String, kind: String, _ body: () throws -> LoweredValue) throws -> LoweredValue {
        let isTopLevel = scopes.count == 1 && frames.count == 1
        parameterTally.append((0, 0))
        defer { parameterTally.removeLast() }
        let result = try body()
        if isTopLevel {
            let tally = parameterTally[parameterTally.count - 1]
            summary.append(LayerSummary(name: name, kind: kind, outputType: Self.typeDescription(result),
                                        parameterCount: tally.total, nonTrainableCount: tally.frozen))
        }
        return result
    }

    static func typeDescription(_ value: LoweredValue) -> String {
        switch value {
        case .tensor(let t): t.type.description
        case .tuple(let elements): "(" + elements.map(typeDescription).joined(separator: ", ") + ")"
        default: value.userDescription
        }
    }
}
