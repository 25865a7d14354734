import DLMSyntax

/// A built-in function or layer: its signature, a one-line description,
/// and how it lowers to primitive ops.
struct Builtin: Sendable {
    /// How a call lowers, given its bound arguments.
    typealias Lower = @Sendable (Lowerer, CallArguments) throws -> LoweredValue

    let name: String
    let parameters: [BuiltinParameter]
    let summary: String
    /// For layers that own parameters or show in summaries: the automatic
    /// name prefix (`conv` gives `conv1`, `conv2`); `nil` for plain functions.
    let layerPrefix: String?
    let lower: Lower

    /// Declares a built-in. `signature` lists parameter names; a trailing `?` marks optional ones.
    init(_ name: String, _ signature: String, layer prefix: String? = nil, _ summary: String, lower: @escaping Lower) {
        self.name = name
        self.summary = summary
        self.layerPrefix = prefix
        self.lower = lower
        self.parameters = signature.split(separator: ",").map { part in
            let trimmed = part.trimmingSpaces()
            return trimmed.hasSuffix("?")
                ? BuiltinParameter(name: String(trimmed.dropLast()), isRequired: false)
                : BuiltinParameter(name: trimmed, isRequired: true)
        }
    }
}

/// Every built-in, by name.
enum Builtins {
    static let table: [String: Builtin] = {
        var table: [String: Builtin] = [:]
        for builtin in Activations.builtins + MathBuiltins.all + ShapeBuiltins.all + LayerBuiltins.all
            + NormalizationBuiltins.all + RecurrentBuiltins.all {
            table[builtin.name] = builtin
        }
        return table
    }()
}

extension Lowerer {
    /// Lowers a call: a user layer, a built-in, or an initializer used in the wrong place.
    /// `piped` is the already-lowered value of a pipelined call's first argument.
    func call(_ callee: Identifier, arguments: [Argument], isPipelined: Bool, range: SourceRange,
              piped: LoweredValue? = nil) throws -> LoweredValue {
        if scope.values[callee.name] != nil {
            throw fail(.callNonFunction(callee.name), at: callee.range)
        }
        if let layer = layers[callee.name] {
            return try expandLayer(layer, callee: callee, arguments: arguments, isPipelined: isPipelined, range: range, piped: piped)
        }
        guard let builtin = Builtins.table[callee.name] else {
            if Initializers.names.contains(callee.name) {
                throw fail(.initializerAsFunction(callee.name), at: callee.range)
            }
            let candidates = Array(Builtins.table.keys) + Array(layers.keys)
            throw fail(.unknownFunction(callee.name), at: callee.range, notes: Suggestions.note(for: callee.name, among: candidates))
        }
        let bound = try CallArguments(callee: callee, arguments: arguments, parameters: builtin.parameters, range: range,
                                      isPipelined: isPipelined, piped: piped, lowerer: self)
        guard let prefix = builtin.layerPrefix else { return try builtin.lower(self, bound) }
        // The input is lowered before the layer is named and its parameters
        // counted, so `x |> dense(128) |> dense(10)` names the layers in order.
        _ = try bound.value("x")
        let name = try layerName(prefix: prefix, explicit: try bound.string("name"), at: bound.range(of: "name"))
        bound.layerName = name
        return try layerRow(name: name, kind: builtin.name) { try builtin.lower(self, bound) }
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
