import DLMSyntax

/// Recurrent layers, lowered to one `scan` op each. The input projection
/// (x @ kernel + bias) is hoisted out of the loop as one large matmul over
/// all time steps; only the recurrent part runs per step.
enum RecurrentBuiltins {
    private static let common = "x, units, return_sequences?, return_state?, initial_state?, kernel_initializer?, recurrent_initializer?, bias_initializer?, kernel_regularizer?, recurrent_regularizer?, bias_regularizer?, name?"

    static let all: [Builtin] = [
        Builtin("simple_rnn", common + ", activation?", layer: "rnn",
                "A fully connected recurrent layer: h' = activation(x_t @ kernel + h @ recurrent + bias).") { lowerer, args in
            try lowerer.recurrent(args, kind: .simple)
        },
        Builtin("lstm", common, layer: "lstm",
                "Long short-term memory (Keras gate order i, f, c, o): c' = f*c + i*tanh(g), h' = o*tanh(c').") { lowerer, args in
            try lowerer.recurrent(args, kind: .lstm)
        },
        Builtin("gru", common + ", reset_after?", layer: "gru",
                "Gated recurrent unit (Keras gate order z, r, h; reset_after defaults to true as in Keras).") { lowerer, args in
            try lowerer.recurrent(args, kind: .gru)
        },
        Builtin("scan", "cell, x, init, return_sequences?, name?",
                "Runs a user layer over time: cell(x_t, state…) -> new state, from init; returns the final state (or the sequence of first states).") { lowerer, args in
            try lowerer.userScan(args)
        },
    ]
}

enum RecurrentKind {
    case simple, lstm, gru

    var gates: Int {
        switch self {
        case .simple: 1
        case .lstm: 4
        case .gru: 3
        }
    }
}

extension Lowerer {
    func recurrent(_ args: CallArguments, kind: RecurrentKind) throws -> LoweredValue {
        let layer = args.callee.name
        let x = try sequenceInput(args, layer: layer)
        let units = try args.size("units")
        let returnSequences = try args.bool("return_sequences", default: false)
        let returnState = try args.bool("return_state", default: false)
        let resetAfter = kind == .gru ? try args.bool("reset_after", default: true) : false
        let activation: Identifier? = args.has("activation") ? try args.activation() : Identifier("tanh", range: args.callee.range)
        let dtype = x.type.dtype
        let features = x.type.shape.dims[2].constantValue ?? 0
        let width = units * kind.gates
        let name = args.layerName

        try recordRegularizer(args, "kernel_regularizer", for: "\(name).weight")
        try recordRegularizer(args, "recurrent_regularizer", for: "\(name).recurrent_weight")
        try recordRegularizer(args, "bias_regularizer", for: "\(name).bias")
        let kernel = try parameter("\(name).weight", TensorType(dtype, Shape([.constant(features), .constant(width)])),
                                   initializer: try args.initializer("kernel_initializer", default: .glorotUniform), at: args.callee.range)
        let recurrentWeight = try parameter("\(name).recurrent_weight", TensorType(dtype, Shape([.constant(units), .constant(width)])),
                                            initializer: try args.initializer("recurrent_initializer", default: .orthogonal(gain: 1)),
                                            at: args.callee.range)
        // Keras' GRU with reset_after keeps separate input and recurrent biases: [2, 3 * units].
        let biasShape: [Dim] = resetAfter ? [2, .constant(width)] : [.constant(width)]
        let bias = try parameter("\(name).bias", TensorType(dtype, Shape(biasShape)),
                                 initializer: try args.initializer("bias_initializer", default: .zeros), at: args.callee.range)
        let range = args.range

        // Hoisted input projection over all steps: [B, T, F] @ [F, gates*U] + input bias.
        let inputBias = resetAfter ? try row(bias, 0, at: range) : bias
        let projected = try elementwise(.add, try matmul(x, kernel, at: range), inputBias, at: range, symbol: layer)
        let recurrentBias = resetAfter ? try row(bias, 1, at: range) : nil

        let batch = x.type.shape.dims[0]
        let stateType = Shape([batch, .constant(units)])
        let initial = try initialState(args, count: kind == .lstm ? 2 : 1, shape: stateType, dtype: dtype)

        let (finals, stacked) = try scan(name: name, sequences: [projected], initial: initial, at: range) { steps, state in
            let xz = steps[0], h = state[0]
            let hz = try matmul(h, recurrentWeight, at: range)
            let newState: [TensorRef]
            switch kind {
            case .simple:
                let z = try emit1(.add, [xz, hz], at: range)
                newState = [try applyActivation(activation, to: z, at: range)]
            case .lstm:
                let z = try emit1(.add, [xz, hz], at: range)
                let i = try emit1(.sigmoid, [try gate(z, 0, units, at: range)], at: range)
                let f = try emit1(.sigmoid, [try gate(z, 1, units, at: range)], at: range)
                let g = try applyActivation(activation, to: try gate(z, 2, units, at: range), at: range)
                let o = try emit1(.sigmoid, [try gate(z, 3, units, at: range)], at: range)
                let c = try emit1(.add, [try emit1(.mul, [f, state[1]], at: range), try emit1(.mul, [i, g], at: range)], at: range)
                let hNew = try emit1(.mul, [o, try applyActivation(activation, to: c, at: range)], at: range)
                newState = [hNew, c]
            case .gru:
                newState = [try gruStep(xz: xz, h: h, hz: hz, recurrentBias: recurrentBias, recurrentWeight: recurrentWeight,
                                        units: units, resetAfter: resetAfter, activation: activation, at: range)]
            }
            return StepResult(carries: newState, outputs: returnSequences ? [newState[0]] : [])
        }
        let output = returnSequences ? stacked[0] : finals[0]
        guard returnState else { return .tensor(output) }
        return .tuple([.tensor(output)] + finals.map { .tensor($0) })
    }

    /// One GRU step given the projected input `xz` and `hz = h @ recurrent`.
    private func gruStep(xz: TensorRef, h: TensorRef, hz: TensorRef, recurrentBias: TensorRef?, recurrentWeight: TensorRef,
                         units: Int, resetAfter: Bool, activation: Identifier?, at range: SourceRange) throws -> TensorRef {
        let recurrent = try recurrentBias.map { try elementwise(.add, hz, $0, at: range, symbol: "gru") } ?? hz
        let z = try emit1(.sigmoid, [try emit1(.add, [try gate(xz, 0, units, at: range), try gate(recurrent, 0, units, at: range)], at: range)], at: range)
        let r = try emit1(.sigmoid, [try emit1(.add, [try gate(xz, 1, units, at: range), try gate(recurrent, 1, units, at: range)], at: range)], at: range)
        let candidateInput: TensorRef
        if resetAfter {
            candidateInput = try emit1(.mul, [r, try gate(recurrent, 2, units, at: range)], at: range)
        } else {
            // reset_after = false: the reset gate scales h before its recurrent matmul.
            let weightH = try slice(recurrentWeight, axis: 1, start: .constant(2 * units), end: .constant(3 * units), at: range)
            candidateInput = try matmul(try emit1(.mul, [r, h], at: range), weightH, at: range)
        }
        let candidate = try applyActivation(activation, to: try emit1(.add, [try gate(xz, 2, units, at: range), candidateInput], at: range), at: range)
        // h' = z * h + (1 - z) * candidate
        let one = try filled(1, dtype: h.type.dtype, shape: h.type.shape, at: range)
        let keep = try emit1(.mul, [z, h], at: range)
        let update = try emit1(.mul, [try emit1(.sub, [one, z], at: range), candidate], at: range)
        return try emit1(.add, [keep, update], at: range)
    }

    /// Gate `index` (of width `units`) of a [B, gates*units] pre-activation.
    private func gate(_ z: TensorRef, _ index: Int, _ units: Int, at range: SourceRange) throws -> TensorRef {
        try slice(z, axis: 1, start: .constant(index * units), end: .constant((index + 1) * units), at: range)
    }

    /// Row `index` of a rank-2 tensor, as a vector.
    private func row(_ t: TensorRef, _ index: Int, at range: SourceRange) throws -> TensorRef {
        let r = try slice(t, axis: 0, start: .constant(index), end: .constant(index + 1), at: range)
        return try reshape(r, to: Shape([t.type.shape.dims[1]]), at: range)
    }

    /// The caller's `initial_state:` (one tensor, or a tuple for LSTM), or zeros.
    private func initialState(_ args: CallArguments, count: Int, shape: Shape, dtype: DType) throws -> [TensorRef] {
        guard let value = try args.value("initial_state") else {
            let zero = try filled(0, dtype: dtype, shape: shape, at: args.range)
            return [TensorRef](repeating: zero, count: count)
        }
        let values: [LoweredValue]
        if case .tuple(let elements) = value { values = elements } else { values = [value] }
        let expected = TensorType(dtype, shape).description
        guard values.count == count else {
            throw fail(.argumentType("initial_state", args.callee.name, count == 1 ? expected : "a tuple of \(count) × \(expected)", value.userDescription),
                       at: args.range(of: "initial_state"))
        }
        return try values.map { v in
            let t = try tensor(v, at: args.range(of: "initial_state"), role: "initial state")
            guard t.type == TensorType(dtype, shape) else {
                throw fail(.argumentType("initial_state", args.callee.name, expected, t.type.description), at: args.range(of: "initial_state"))
            }
            return t
        }
    }

    /// `scan(Cell, x, init: …)`: runs a user layer over the time axis of x.
    func userScan(_ args: CallArguments) throws -> LoweredValue {
        guard case .name(let cellName)? = args.expression("cell"), let cell = layers[cellName.name] else {
            let written = args.expression("cell").map { "'\(unit.file.text(of: $0.range))'" } ?? "nothing"
            throw fail(.scanNeedsLayer(written), at: args.range(of: "cell"),
                       notes: Suggestions.note(for: args.expression("cell").map { unit.file.text(of: $0.range) } ?? "", among: Array(layers.keys)))
        }
        let x = try args.tensor("x")
        guard x.type.shape.rank >= 2 else { throw fail(.expectsSequence("scan", x.type.description), at: args.range(of: "x")) }
        guard let initValue = try args.value("init") else { throw fail(.missingArgument("init", "scan"), at: args.range) }
        let initialValues: [LoweredValue]
        if case .tuple(let elements) = initValue { initialValues = elements } else { initialValues = [initValue] }
        let initial = try initialValues.map { try tensor($0, at: args.range(of: "init"), role: "initial state of scan") }
        let returnSequences = try args.bool("return_sequences", default: false)
        let prefix = try layerName(prefix: Suggestions.snakeCase(cell.name.name), explicit: try args.string("name"), at: args.range(of: "name"))
        let isTuple = initial.count > 1
        return try layerRow(name: prefix, kind: "scan(\(cell.name.name))") {
            let result = try scan(name: prefix, sequences: [x], initial: initial, at: args.range) { steps, state in
                let inputs = ([steps[0]] + state).map { LoweredValue.tensor($0) }
                let output = try expandLayer(cell, callee: cellName, values: inputs, namePrefix: prefix + ".", range: args.range)
                let newState: [LoweredValue]
                if isTuple, case .tuple(let elements) = output { newState = elements } else { newState = [output] }
                let carries = try newState.map { try tensor($0, at: args.range, role: "state returned by '\(cell.name.name)'") }
                return StepResult(carries: carries, outputs: returnSequences ? [carries[0]] : [])
            }
            if returnSequences { return .tensor(result.stacked[0]) }
            return isTuple ? .tuple(result.finals.map { .tensor($0) }) : .tensor(result.finals[0])
        }
    }
}
