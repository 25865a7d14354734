import DLMSyntax

extension Lowerer {
    /// Expands a call of a user layer written with arguments in the caller's scope.
    func expandLayer(_ layer: FunctionDecl, callee: Identifier, arguments: [Argument], isPipelined: Bool, range: SourceRange,
                     piped: LoweredValue? = nil) throws -> LoweredValue {
        let parameters = layer.parameters.map { BuiltinParameter(name: $0.name.name, isRequired: $0.defaultValue == nil) }
            + [BuiltinParameter(name: "name", isRequired: false)]
        let bound = try CallArguments(callee: callee, arguments: arguments, parameters: parameters, range: range,
                                      isPipelined: isPipelined, piped: piped, lowerer: self)
        // Arguments are lowered in the caller's scope, before the layer's own scope opens.
        var values: [LoweredValue?] = []
        for parameter in layer.parameters {
            values.append(try bound.value(parameter.name.name))
        }
        let prefix = try layerName(prefix: Suggestions.snakeCase(layer.name.name), explicit: try bound.string("name"), at: bound.range(of: "name"))
        return try layerRow(name: prefix, kind: layer.name.name) {
            try expand(layer, callee: callee, values: values, argumentRanges: layer.parameters.map { bound.range(of: $0.name.name) },
                       namePrefix: prefix + ".", range: range)
        }
    }

    /// Expands a user layer on already-lowered positional values (used by `scan`).
    func expandLayer(_ layer: FunctionDecl, callee: Identifier, values: [LoweredValue], namePrefix: String, range: SourceRange) throws -> LoweredValue {
        guard values.count <= layer.parameters.count else {
            throw fail(.cellArity(layer.name.name, values.count, layer.parameters.count), at: range,
                       notes: [DiagnosticNote("'\(layer.name.name)' declared here", at: layer.name.range)])
        }
        var padded: [LoweredValue?] = values
        padded += [LoweredValue?](repeating: nil, count: layer.parameters.count - values.count)
        return try expand(layer, callee: callee, values: padded, argumentRanges: layer.parameters.map { _ in range },
                          namePrefix: namePrefix, range: range)
    }

    private func expand(_ layer: FunctionDecl, callee: Identifier, values: [LoweredValue?], argumentRanges: [SourceRange],
                        namePrefix: String, range: SourceRange) throws -> LoweredValue {
        let name = layer.name.name
        if expansionStack.contains(where: { $0.name == name }) {
            let cycle = (expansionStack.drop { $0.name != name }.map(\.name) + [name]).joined(separator: " → ")
            throw fail(.recursiveLayer(name, cycle), at: callee.range,
                       notes: [DiagnosticNote("layers are expanded at each call, so a layer cannot call itself")])
        }
        expandedLayers.insert(name)
        var newScope = Scope(namePrefix: namePrefix)
        let dims = try unify(layer, values: values, argumentRanges: argumentRanges, callee: callee, into: &newScope)
        newScope.dims = dims

        expansionStack.append((name, callee.range))
        scopes.append(newScope)
        defer {
            scopes.removeLast()
            expansionStack.removeLast()
        }
        // Scalar parameters left to their defaults are evaluated in the layer's scope.
        for (parameter, value) in zip(layer.parameters, values) where value == nil {
            guard let defaultValue = parameter.defaultValue else { continue }
            let lowered = try lowerExpression(defaultValue)
            scope.values[parameter.name.name] = (try checkScalar(lowered, parameter, at: defaultValue.range, callee: callee), parameter.name.range)
        }
        guard let result = lowerBody(layer) else { throw LoweringAbort() }
        var expected: [TensorType] = []
        for element in layer.result.elements {
            guard let type = tensorType(element.type, role: "layer result") else { throw LoweringAbort() }
            expected.append(type)
        }
        guard let tensors = checkResult(result, of: layer, expected: expected) else { throw LoweringAbort() }
        return layer.result.isTuple ? .tuple(tensors.map { .tensor($0) }) : .tensor(tensors[0])
    }

    /// Binds a layer's parameters to argument values, solving its signature's
    /// symbolic sizes from the argument shapes. Returns the size bindings.
    private func unify(_ layer: FunctionDecl, values: [LoweredValue?], argumentRanges: [SourceRange], callee: Identifier,
                       into scope: inout Scope) throws -> [String: Dim] {
        var dims: [String: Dim] = [:]
        var origin: [String: String] = [:]
        // Scalars first: their names may be used as sizes in tensor types.
        for (index, parameter) in layer.parameters.enumerated() where ScalarKind(rawValue: parameter.type.name.name) != nil {
            guard let value = values[index] else {
                if parameter.defaultValue == nil { throw fail(.missingArgument(parameter.name.name, layer.name.name), at: callee.range) }
                continue
            }
            let checked = try checkScalar(value, parameter, at: argumentRanges[index], callee: callee)
            scope.values[parameter.name.name] = (checked, parameter.name.range)
            if let d = checked.asDim { dims[parameter.name.name] = d; origin[parameter.name.name] = "argument '\(parameter.name.name)'" }
        }
        var deferred: [(ParameterDecl, TensorRef, Int, DimExpr, Int)] = []
        for (index, parameter) in layer.parameters.enumerated() where ScalarKind(rawValue: parameter.type.name.name) == nil {
            let pname = parameter.name.name
            guard let value = values[index] else {
                throw fail(.missingArgument(pname, layer.name.name), at: callee.range)
            }
            let declared = parameter.type
            guard let dtype = DType(rawValue: declared.name.name), dtype != .u8 else {
                throw fail(.unknownType(declared.name.name), at: declared.name.range)
            }
            let t = try tensor(value, at: argumentRanges[index], role: "argument '\(pname)' of \(layer.name.name)")
            let pattern = declared.shape ?? []
            let written = file(declared)
            guard t.type.dtype == dtype, t.type.shape.rank == pattern.count else {
                throw fail(.layerArgumentType(pname, layer.name.name, written, t.type.description), at: argumentRanges[index],
                           notes: [DiagnosticNote("'\(pname)' declared here", at: parameter.range)])
            }
            for (axis, dimExpr) in pattern.enumerated() {
                let actual = t.type.shape.dims[axis]
                switch dimExpr {
                case .integer(let n, _):
                    guard actual == .constant(n) else {
                        throw fail(.layerArgumentType(pname, layer.name.name, written, t.type.description), at: argumentRanges[index],
                                   notes: [DiagnosticNote("'\(pname)' declared here", at: parameter.range)])
                    }
                case .symbol(let symbol):
                    if let existing = dims[symbol.name] {
                        guard existing == actual else {
                            throw fail(.conflictingSize(symbol.name, layer.name.name, existing.description, origin[symbol.name] ?? "", actual.description, "argument '\(pname)'"),
                                       at: argumentRanges[index], notes: [DiagnosticNote("'\(pname)' declared here", at: parameter.range)])
                        }
                    } else {
                        dims[symbol.name] = actual
                        origin[symbol.name] = "argument '\(pname)'"
                    }
                case .binary:
                    deferred.append((parameter, t, axis, dimExpr, index))
                }
            }
            scope.values[pname] = (value, parameter.name.range)
        }
        // Composite sizes (T * 2) are checked once every symbol is bound.
        for (parameter, t, axis, dimExpr, index) in deferred {
            scopes.append(Scope(dims: dims, namePrefix: ""))
            let expected = resolveDim(dimExpr)
            scopes.removeLast()
            guard let expected else { throw LoweringAbort() }
            guard expected == t.type.shape.dims[axis] else {
                throw fail(.layerArgumentType(parameter.name.name, layer.name.name, file(parameter.type), t.type.description), at: argumentRanges[index],
                           notes: [DiagnosticNote("'\(parameter.name.name)' declared here", at: parameter.range)])
            }
        }
        return dims
    }

    /// The source text of a written type.
    private func file(_ type: TypeExpr) -> String {
        unit.file.text(of: type.range)
    }

    /// Checks a scalar argument against its declared kind (`units: int`).
    private func checkScalar(_ value: LoweredValue, _ parameter: ParameterDecl, at range: SourceRange, callee: Identifier) throws -> LoweredValue {
        let kind = ScalarKind(rawValue: parameter.type.name.name) ?? .int
        if parameter.type.shape != nil {
            throw fail(.scalarWithShape(parameter.name.name), at: parameter.type.range)
        }
        let ok: Bool
        switch (kind, value) {
        case (.int, .int), (.int, .dim), (.float, .int), (.float, .float), (.bool, .bool), (.string, .string): ok = true
        default: ok = false
        }
        guard ok else {
            throw fail(.argumentType(parameter.name.name, callee.name, "\(kind == .int ? "an" : "a") \(kind.rawValue)", value.userDescription), at: range,
                       notes: [DiagnosticNote("'\(parameter.name.name)' declared here", at: parameter.range)])
        }
        if kind == .float, case .int(let i) = value { return .float(Double(i)) }
        return value
    }

    /// Checks layers no model calls, so their mistakes are still reported.
    /// Their signature sizes stay symbolic; layers needing scalar arguments without defaults are skipped.
    func checkUncalledLayers() {
        for decl in unit.layers where !expandedLayers.contains(decl.name.name) && layers[decl.name.name] != nil {
            guard decl.parameters.allSatisfy({ ScalarKind(rawValue: $0.type.name.name) == nil || $0.defaultValue != nil }) else { continue }
            let graph = Graph(name: decl.name.name)
            frames = [GraphFrame(graph: graph)]
            scopes = [Scope(namePrefix: "")]
            parameterRanges = [:]
            explicitLayerNames = [:]
            defer { frames = []; scopes = [] }
            for parameter in decl.parameters {
                for symbol in Self.symbols(in: parameter.type) { scope.dims[symbol] = .symbol(symbol) }
            }
            var values: [LoweredValue?] = []
            for parameter in decl.parameters {
                if ScalarKind(rawValue: parameter.type.name.name) != nil { values.append(nil); continue }
                guard let type = tensorType(parameter.type, role: "layer input '\(parameter.name.name)'") else { return }
                values.append(.tensor(TensorRef(level: 0, id: graph.addInput(name: parameter.name.name, type: type), type: type)))
            }
            _ = try? expand(decl, callee: decl.name, values: values, argumentRanges: decl.parameters.map(\.range),
                            namePrefix: "", range: decl.name.range)
        }
    }
}
