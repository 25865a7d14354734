import DLMSyntax

/// A parameter of a built-in function or layer, as its signature declares it.
struct BuiltinParameter: Sendable {
    let name: String
    let isRequired: Bool
}

/// The arguments of one call, bound to the callee's parameter names.
/// Values are lowered on first use and cached, so an argument's ops are
/// emitted once however often a layer reads it.
final class CallArguments {
    let callee: Identifier
    let range: SourceRange
    /// For built-in layers: the layer's full name (`conv1`), which prefixes its parameters.
    var layerName = ""
    private unowned let lowerer: Lowerer
    private var bound: [String: Argument] = [:]
    private var cache: [String: LoweredValue] = [:]
    /// The parameter fed by `|>`: it has no source of its own at the call.
    private var pipedName: String?

    /// Binds positional arguments in order and keyword arguments by name,
    /// reporting unknown, duplicate, extra and missing arguments. For a
    /// pipelined call the first argument is the value piped in, already
    /// lowered when `piped` is given.
    init(callee: Identifier, arguments: [Argument], parameters: [BuiltinParameter], range: SourceRange,
         isPipelined: Bool = false, piped: LoweredValue? = nil, lowerer: Lowerer) throws {
        self.callee = callee
        self.range = range
        self.lowerer = lowerer
        var positional = 0
        for argument in arguments {
            if let label = argument.label {
                guard parameters.contains(where: { $0.name == label.name }) else {
                    throw lowerer.fail(.unknownArgument(label.name, callee.name), at: label.range,
                                       notes: Suggestions.note(for: label.name, among: parameters.map(\.name)))
                }
                if let previous = bound[label.name] {
                    throw lowerer.fail(.duplicateArgument(label.name, callee.name), at: label.range,
                                       notes: [DiagnosticNote("'\(label.name)' first given here", at: previous.range)])
                }
                bound[label.name] = argument
            } else {
                guard positional < parameters.count else {
                    throw lowerer.fail(.tooManyArguments(callee.name, parameters.count), at: argument.value.range)
                }
                let name = parameters[positional].name
                if isPipelined && positional == 0 { pipedName = name }
                if let previous = bound[name] {
                    throw lowerer.fail(.duplicateArgument(name, callee.name), at: argument.value.range,
                                       notes: [DiagnosticNote("'\(name)' first given here", at: previous.range)])
                }
                bound[name] = argument
                positional += 1
            }
        }
        if let pipedName, let piped { cache[pipedName] = piped }
        for parameter in parameters where parameter.isRequired && bound[parameter.name] == nil {
            throw lowerer.fail(.missingArgument(parameter.name, callee.name), at: range)
        }
    }

    /// Whether the caller gave `name`.
    func has(_ name: String) -> Bool { bound[name] != nil }

    /// Where the caller wrote `name` (the callee when absent or piped in:
    /// in `x |> conv2d(…) |> dense(64)` a bad input is dense's fault).
    func range(of name: String) -> SourceRange {
        if name == pipedName { return callee.range }
        return bound[name]?.value.range ?? callee.range
    }

    /// The written expression of `name`, if given.
    func expression(_ name: String) -> Expr? { bound[name]?.value }

    /// The lowered value of `name`, if given.
    func value(_ name: String) throws -> LoweredValue? {
        if let cached = cache[name] { return cached }
        guard let argument = bound[name] else { return nil }
        let value = try lowerer.lowerExpression(argument.value)
        cache[name] = value
        return value
    }

    private func mismatch(_ name: String, expected: String, got value: LoweredValue) -> LoweringAbort {
        // `kernel: "3"`: a number in quotes.
        var notes: [DiagnosticNote] = []
        if case .string(let text) = value, Double(text) != nil {
            notes.append(DiagnosticNote("remove the quotes: \(name): \(text)"))
        }
        return lowerer.fail(.argumentType(name, callee.name, expected, value.userDescription), at: range(of: name), notes: notes)
    }

    /// A tensor argument.
    func tensor(_ name: String) throws -> TensorRef {
        guard let value = try value(name) else { throw lowerer.fail(.missingArgument(name, callee.name), at: range) }
        return try lowerer.tensor(value, at: range(of: name), role: "argument '\(name)' of \(callee.name)")
    }

    /// A positive integer size (units, filters); symbolic sizes are accepted where `allowSymbolic`.
    func size(_ name: String, default fallback: Int? = nil) throws -> Int {
        guard let value = try value(name) else {
            if let fallback { return fallback }
            throw lowerer.fail(.missingArgument(name, callee.name), at: range)
        }
        guard let n = value.asInt else { throw mismatch(name, expected: "a whole number", got: value) }
        guard n > 0 else { throw lowerer.fail(.mustBePositive(name, callee.name, n), at: range(of: name)) }
        return n
    }

    /// An integer (any sign).
    func int(_ name: String, default fallback: Int) throws -> Int {
        guard let value = try value(name) else { return fallback }
        guard let n = value.asInt else { throw mismatch(name, expected: "a whole number", got: value) }
        return n
    }

    /// A size that may be symbolic (`B`, `T * 10`).
    func dim(_ name: String) throws -> Dim? {
        guard let value = try value(name) else { return nil }
        guard let d = value.asDim else { throw mismatch(name, expected: "a size", got: value) }
        return d
    }

    /// A number.
    func float(_ name: String, default fallback: Double) throws -> Double {
        guard let value = try value(name) else { return fallback }
        guard let x = value.asDouble else { throw mismatch(name, expected: "a number", got: value) }
        return x
    }

    /// A number in `[low, high)` (rates, momenta).
    func fraction(_ name: String, default fallback: Double, upTo high: Double = 1) throws -> Double {
        let x = try float(name, default: fallback)
        guard x >= 0, x < high else { throw lowerer.fail(.outOfRange(name, callee.name, "[0, \(high.formatted))", x.formatted), at: range(of: name)) }
        return x
    }

    /// A boolean.
    func bool(_ name: String, default fallback: Bool) throws -> Bool {
        guard let value = try value(name) else { return fallback }
        guard case .bool(let b) = value else { throw mismatch(name, expected: "true or false", got: value) }
        return b
    }

    /// A string from a fixed set, written as a name (`padding: same`) or a string (`"same"`).
    func choice(_ name: String, _ options: [String], default fallback: String) throws -> String {
        guard let expr = expression(name) else { return fallback }
        let written: String
        switch expr {
        case .name(let id): written = id.name
        case .string(let s, _): written = s
        default:
            let value = try value(name) ?? .bool(false)
            throw mismatch(name, expected: options.map { "'\($0)'" }.joined(separator: " or "), got: value)
        }
        guard options.contains(written) else {
            throw lowerer.fail(.invalidChoice(name, callee.name, written, options.map { "'\($0)'" }.joined(separator: ", ")),
                               at: range(of: name), notes: Suggestions.note(for: written, among: options))
        }
        return written
    }

    /// A string.
    func string(_ name: String) throws -> String? {
        guard let value = try value(name) else { return nil }
        guard case .string(let s) = value else { throw mismatch(name, expected: "a string", got: value) }
        return s
    }

    /// One positive integer or a list of `count` of them (`kernel: 3` or `kernel: [3, 5]`).
    func sizes(_ name: String, count: Int, default fallback: [Int]? = nil) throws -> [Int] {
        guard let value = try value(name) else {
            if let fallback { return fallback }
            throw lowerer.fail(.missingArgument(name, callee.name), at: range)
        }
        let numbers: [Int]
        switch value {
        case .list(let items):
            let ints = items.compactMap(\.asInt)
            guard ints.count == items.count, ints.count == count else {
                throw mismatch(name, expected: "a whole number or a list of \(count)", got: value)
            }
            numbers = ints
        default:
            guard let n = value.asInt else { throw mismatch(name, expected: "a whole number or a list of \(count)", got: value) }
            numbers = [Int](repeating: n, count: count)
        }
        guard numbers.allSatisfy({ $0 > 0 }) else {
            throw lowerer.fail(.mustBePositive(name, callee.name, numbers.first { $0 <= 0 } ?? 0), at: range(of: name))
        }
        return numbers
    }

    /// Axes to reduce over: one axis, a list, or absent (`nil`: all axes). Normalised to 0..<rank.
    func axes(_ name: String, rank: Int) throws -> [Int]? {
        guard let value = try value(name) else { return nil }
        let written: [Int]
        switch value {
        case .int(let a): written = [a]
        case .list(let items):
            let ints = items.compactMap(\.asInt)
            guard ints.count == items.count else { throw mismatch(name, expected: "an axis or a list of axes", got: value) }
            written = ints
        default: throw mismatch(name, expected: "an axis or a list of axes", got: value)
        }
        var axes: [Int] = []
        for a in written {
            let normalised = try lowerer.axis(a, rank: rank, at: range(of: name))
            guard !axes.contains(normalised) else { throw lowerer.fail(.duplicateAxis(a), at: range(of: name)) }
            axes.append(normalised)
        }
        return axes.sorted()
    }

    /// One axis, normalised to 0..<rank.
    func axis(_ name: String, rank: Int, default fallback: Int) throws -> Int {
        try lowerer.axis(try int(name, default: fallback), rank: rank, at: range(of: name))
    }

    /// An element type (`f32`).
    func dtype(_ name: String) throws -> DType? {
        guard let value = try value(name) else { return nil }
        guard case .dtype(let t) = value else { throw mismatch(name, expected: "an element type (f32, f64, i32, i64, bool)", got: value) }
        return t
    }

    /// An activation (`relu`, `"relu"`, `linear`), as the callee's name; `nil` when absent or linear.
    func activation(_ name: String = "activation") throws -> Identifier? {
        guard let expr = expression(name) else { return nil }
        let id: Identifier
        switch expr {
        case .name(let n): id = n
        case .string(let s, let r): id = Identifier(s, range: r)
        default:
            throw lowerer.fail(.argumentType(name, callee.name, "an activation name (relu, sigmoid, tanh, softmax, …)", "an expression"), at: expr.range)
        }
        if id.name == "linear" { return nil }
        guard Activations.names.contains(id.name) else {
            throw lowerer.fail(.unknownActivation(id.name), at: id.range,
                               notes: Suggestions.note(for: id.name, among: Array(Activations.names) + ["linear"]))
        }
        return id
    }

    /// An initializer (`glorot_uniform`, `uniform(-0.1, 0.1)`), or `fallback` when absent.
    func initializer(_ name: String, default fallback: Initializer) throws -> Initializer {
        guard let expr = expression(name) else { return fallback }
        return try lowerer.initializer(from: expr)
    }

    /// A regularizer (`l2(0.01)`, `l1(…)`, `l1_l2(l1:, l2:)`), validated; `nil` when absent.
    func regularizer(_ name: String) throws -> Regularizer? {
        guard let expr = expression(name) else { return nil }
        return try lowerer.regularizer(from: expr)
    }
}

extension Double {
    /// A short rendering for messages: 1 instead of 1.0.
    var formatted: String {
        self == rounded() && abs(self) < 1e15 ? String(Int(self)) : String(self)
    }
}
