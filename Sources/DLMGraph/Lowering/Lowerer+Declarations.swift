import DLMSyntax

extension Lowerer {
    /// Lowers one model to a fresh graph; `nil` when its signature is unusable.
    func lowerModel(_ decl: FunctionDecl) -> (graph: Graph, summary: [LayerSummary], regularizers: [String: Regularizer], batchNorms: [BatchNormSite])? {
        let graph = Graph(name: decl.name.name)
        frames = [GraphFrame(graph: graph)]
        scopes = [Scope(namePrefix: "")]
        summary = []
        parameterRanges = [:]
        explicitLayerNames = [:]
        regularizers = [:]
        batchNorms = []
        defer { frames = []; scopes = [] }

        // Every symbol in an input's shape is a size bound at run time.
        for parameter in decl.parameters {
            for symbol in Self.symbols(in: parameter.type) { scope.dims[symbol] = .symbol(symbol) }
        }
        var signatureOK = true
        for parameter in decl.parameters {
            guard let type = tensorType(parameter.type, role: "model input '\(parameter.name.name)'") else {
                signatureOK = false
                continue
            }
            if let value = parameter.defaultValue {
                diagnostics.error(.modelInputDefault(parameter.name.name), at: value.range)
            }
            if let previous = scope.values[parameter.name.name] {
                diagnostics.error(.redefinition(parameter.name.name), at: parameter.name.range,
                                  notes: [DiagnosticNote("'\(parameter.name.name)' first defined here", at: previous.range)])
                scope.poisoned.insert(parameter.name.name)
                continue
            }
            let id = graph.addInput(name: parameter.name.name, type: type)
            scope.values[parameter.name.name] = (.tensor(TensorRef(level: 0, id: id, type: type)), parameter.name.range)
        }
        let resultTypes = decl.result.elements.map { tensorType($0.type, role: "model result") }
        guard signatureOK, resultTypes.allSatisfy({ $0 != nil }) else { return nil }

        guard let result = lowerBody(decl) else { return nil }
        guard let outputs = checkResult(result, of: decl, expected: resultTypes.compactMap { $0 }) else { return nil }
        graph.outputs = outputs.map { materialize($0) }
        graph.outputNames = decl.result.elements.map { $0.name?.name }
        return (graph, summary, regularizers, batchNorms)
    }

    /// Lowers the statements of a model or layer body and returns the value
    /// of its `return`, or `nil` after reporting why there is none.
    func lowerBody(_ decl: FunctionDecl) -> (value: LoweredValue, range: SourceRange)? {
        var returned: (value: LoweredValue, range: SourceRange)?
        var returnStatement: SourceRange?
        var returnFailed = false
        for statement in decl.body {
            if diagnostics.isFull { return nil }
            if let returnStatement {
                diagnostics.error(.codeAfterReturn, at: statement.range,
                                  notes: [DiagnosticNote("'return' is here", at: returnStatement)])
                return nil
            }
            switch statement {
            case .assign(let targets, let isTuple, let value, _):
                lowerAssignment(targets: targets, isTuple: isTuple, value: value)
            case .param(let param):
                lowerParam(param)
            case .return(let expr, let range):
                returnStatement = range
                do {
                    returned = (try lowerExpression(expr), expr.range)
                } catch {
                    returnFailed = true
                }
            }
        }
        if returnFailed { return nil }
        guard let returned else {
            diagnostics.error(.missingReturn(decl.kind.rawValue, decl.name.name), at: decl.closingBrace)
            return nil
        }
        return returned
    }

    private func lowerAssignment(targets: [Identifier], isTuple: Bool, value: Expr) {
        var bound: LoweredValue?
        do {
            let result = try lowerExpression(value)
            if isTuple {
                guard case .tuple(let elements) = result else {
                    throw fail(.destructureNonTuple(targets.count, result.userDescription), at: value.range)
                }
                guard elements.count == targets.count else {
                    throw fail(.destructureCount(targets.count, elements.count), at: value.range)
                }
            }
            bound = result
        } catch {
            // Fall through: the names are bound as poisoned below.
        }
        for (index, target) in targets.enumerated() {
            if let previous = scope.values[target.name] {
                diagnostics.error(.redefinition(target.name), at: target.range,
                                  notes: [DiagnosticNote("'\(target.name)' first defined here", at: previous.range)])
                // Which binding a later use means is unclear: abandon those uses quietly.
                scope.poisoned.insert(target.name)
                continue
            }
            guard let bound else {
                scope.poisoned.insert(target.name)
                continue
            }
            if isTuple, case .tuple(let elements) = bound {
                scope.values[target.name] = (elements[index], target.range)
            } else {
                scope.values[target.name] = (bound, target.range)
            }
        }
    }

    private func lowerParam(_ param: ParamDecl) {
        let name = param.name.name
        if let previous = scope.values[name] {
            diagnostics.error(.redefinition(name), at: param.name.range,
                              notes: [DiagnosticNote("'\(name)' first defined here", at: previous.range)])
            scope.poisoned.insert(name)
            return
        }
        do {
            guard let type = tensorType(param.type, role: "parameter '\(name)'") else { throw LoweringAbort() }
            let initializer = try initializer(from: param.initializer)
            let fullName = scope.namePrefix + name
            let value = try layerRow(name: fullName, kind: "param") {
                .tensor(try parameter(fullName, type, initializer: initializer, at: param.name.range))
            }
            scope.values[name] = (value, param.name.range)
        } catch {
            scope.poisoned.insert(name)
        }
    }

    /// Checks a returned value against the declared result types and returns the output tensors.
    func checkResult(_ result: (value: LoweredValue, range: SourceRange), of decl: FunctionDecl,
                     expected: [TensorType]) -> [TensorRef]? {
        let values: [LoweredValue]
        if decl.result.isTuple {
            guard case .tuple(let elements) = result.value, elements.count == expected.count else {
                diagnostics.error(.returnCount(decl.kind.rawValue, decl.name.name, expected.count, Self.countedDescription(result.value)),
                                  at: result.range, notes: [DiagnosticNote("result declared here", at: decl.result.range)])
                return nil
            }
            values = elements
        } else {
            if case .tuple = result.value {
                diagnostics.error(.returnTypeMismatch(decl.kind.rawValue, decl.name.name, expected[0].description,
                                                      Self.countedDescription(result.value), ""),
                                  at: result.range, notes: [DiagnosticNote("result type declared here", at: decl.result.range)])
                return nil
            }
            values = [result.value]
        }
        var tensors: [TensorRef] = []
        for (index, (value, type)) in zip(values, expected).enumerated() {
            let declared = decl.result.elements[index].type.range
            guard case .tensor(let tensor) = value else {
                diagnostics.error(.returnNotTensor(decl.name.name, value.userDescription), at: result.range,
                                  notes: [DiagnosticNote("result declared here", at: declared)])
                return nil
            }
            guard tensor.type == type else {
                let position = expected.count > 1 ? " (element \(index + 1))" : ""
                diagnostics.error(.returnTypeMismatch(decl.kind.rawValue, decl.name.name, type.description, tensor.type.description, position),
                                  at: result.range, notes: [DiagnosticNote("result type declared here", at: declared)])
                return nil
            }
            tensors.append(tensor)
        }
        return tensors
    }

    /// A returned value as the result messages name it: "2 values (f32[B, 4], f32[B, 4])" or "one value, f32[B, 4]".
    static func countedDescription(_ value: LoweredValue) -> String {
        if case .tuple(let elements) = value { return "\(elements.count) values \(typeDescription(value))" }
        return "one value, \(typeDescription(value))"
    }

    // MARK: Types

    /// The symbols written in a type's shape.
    static func symbols(in type: TypeExpr) -> [String] {
        var out: [String] = []
        func walk(_ dim: DimExpr) {
            switch dim {
            case .integer: break
            case .symbol(let id): out.append(id.name)
            case .binary(_, let lhs, let rhs, _): walk(lhs); walk(rhs)
            }
        }
        type.shape?.forEach(walk)
        return out
    }

    /// Resolves a written tensor type under the current scope's sizes.
    func tensorType(_ type: TypeExpr, role: String) -> TensorType? {
        guard let dtype = DType(rawValue: type.name.name), dtype != .u8 else {
            if ScalarKind(rawValue: type.name.name) != nil {
                diagnostics.error(.scalarTypeNotAllowed(type.name.name, role), at: type.name.range)
            } else {
                diagnostics.error(.unknownType(type.name.name), at: type.name.range,
                                  notes: Suggestions.note(for: type.name.name, among: ["f32", "f64", "i32", "i64", "bool"]))
            }
            return nil
        }
        var dims: [Dim] = []
        for dim in type.shape ?? [] {
            guard let resolved = resolveDim(dim) else { return nil }
            dims.append(resolved)
        }
        return TensorType(dtype, Shape(dims))
    }

    /// Resolves a written dimension; symbols must be sizes in scope.
    func resolveDim(_ dim: DimExpr) -> Dim? {
        switch dim {
        case .integer(let value, let range):
            guard value >= 0 else {
                diagnostics.error(.negativeDimension(value), at: range)
                return nil
            }
            return .constant(value)
        case .symbol(let id):
            if let bound = scope.dims[id.name] { return bound }
            if case .dim(let d)? = scope.values[id.name]?.value { return d }
            if case .int(let v)? = scope.values[id.name]?.value { return .constant(v) }
            diagnostics.error(.unknownDimension(id.name), at: id.range,
                              notes: [DiagnosticNote("sizes are bound by the model's input types, e.g. x: f32[\(id.name), 10]")])
            return nil
        case .binary(let op, let lhs, let rhs, let range):
            guard let l = resolveDim(lhs), let r = resolveDim(rhs) else { return nil }
            switch op {
            case .add: return l + r
            case .subtract: return l - r
            case .multiply: return l * r
            case .divide:
                guard let divisor = r.constantValue, divisor > 0 else {
                    diagnostics.error(.dimensionDivision, at: range)
                    return nil
                }
                return l.floorDivided(by: divisor)
            }
        }
    }
}

/// Scalar configuration types for user-layer parameters.
enum ScalarKind: String {
    case int, float, bool, string
}
