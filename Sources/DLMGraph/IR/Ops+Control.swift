/// Structured control flow: `scan`, the recurrence behind RNN, LSTM, GRU and user cells.
enum ControlOps {
    /// Operands: `sequences` batch-major sequences [B, T, ...], then `carries`
    /// initial carries, then captured values. The body's inputs are one step
    /// of each sequence (axis 1 removed), the carries and the captures; its
    /// outputs are the new carries then per-step outputs. Results: the final
    /// carries, then each per-step output stacked along a new axis 1.
    static let scan = OpDefinition(
        name: "scan", summary: "run a body graph over axis 1 of the sequences, threading carries",
        example: """
        %3, %4 = scan(%xs, %h0, @w) {carries = 1, reverse = false, sequences = 1} : f32[B, 4], f32[B, T, 4] {
          body(%x_t: f32[B, 3], %h: f32[B, 4], %w: f32[3, 4]) { ... return %h1, %h1 }
        }
        """,
        arity: .variadic(minimum: 1),
        attributes: [.required("sequences", .int), .required("carries", .int),
                     .optional("reverse", .bool, default: .bool(false)),
                     // Trailing per-step outputs kept for the gradient (see ScanGradient).
                     .optional("residuals", .int, default: .int(0), quiet: true)],
        regionCount: 1,
        inferTypes: { types, attributes, regions in
            let sequenceCount = try attributes.int("sequences")
            let carryCount = try attributes.int("carries")
            guard sequenceCount >= 1, carryCount >= 0, sequenceCount <= types.count - carryCount else {
                throw TypeRules.fail("'sequences' = \(sequenceCount) and 'carries' = \(carryCount) do not fit \(types.count) operands (need at least one sequence)")
            }
            guard let body = regions.first else { throw TypeRules.fail("missing body") }
            let sequences = types[..<sequenceCount]
            let carries = Array(types[sequenceCount..<(sequenceCount + carryCount)])
            var length: Dim?
            var stepTypes: [TensorType] = []
            for (index, sequence) in sequences.enumerated() {
                guard sequence.shape.rank >= 2 else {
                    throw TypeRules.fail("sequence \(index) must be [B, T, ...], got \(sequence)")
                }
                let steps = sequence.shape.dims[1]
                if let length, length != steps {
                    throw TypeRules.fail("sequence \(index) has \(steps) steps, others have \(length)")
                }
                length = steps
                var dims = sequence.shape.dims
                dims.remove(at: 1)
                stepTypes.append(TensorType(sequence.dtype, Shape(dims)))
            }
            let expectedInputs = stepTypes + carries + types[(sequenceCount + carryCount)...]
            let bodyInputs = body.inputs.map { body.type(of: $0) }
            guard bodyInputs == expectedInputs else {
                throw TypeRules.fail("body inputs (\(bodyInputs.map(\.description).joined(separator: ", "))) must be (\(expectedInputs.map(\.description).joined(separator: ", ")))")
            }
            let bodyOutputs = body.outputs.map { body.type(of: $0) }
            guard bodyOutputs.count >= carryCount, Array(bodyOutputs[..<carryCount]) == carries else {
                throw TypeRules.fail("body must return the \(carryCount) carries' types (\(carries.map(\.description).joined(separator: ", "))) first")
            }
            guard !bodyOutputs.isEmpty else { throw TypeRules.fail("body must return at least one value") }
            let steps = length ?? .constant(0)
            let stacked = bodyOutputs[carryCount...].map { output -> TensorType in
                var dims = output.shape.dims
                dims.insert(steps, at: Swift.min(1, dims.count))
                return TensorType(output.dtype, Shape(dims))
            }
            for output in bodyOutputs[carryCount...] where output.shape.rank < 1 {
                throw TypeRules.fail("per-step output \(output) must have a batch dim")
            }
            return carries + stacked
        },
        gradient: .withResiduals(expose: { node, graph in try ScanGradient.expose(node, in: graph) },
                                 rule: { c in try ScanGradient.rule(c) }))
}
