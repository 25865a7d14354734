import DLMSyntax

extension Lowerer {
    /// What a scan body produces for one step: the new carried state (same
    /// types as the initial state) and per-step outputs to stack over time.
    struct StepResult {
        var carries: [TensorRef]
        var outputs: [TensorRef]
    }

    /// Builds a `scan` op: `body` runs once per time step (axis 1 of each
    /// sequence) on the step slices and the carried state. Values from
    /// enclosing graphs that the body uses (weights) are captured as operands.
    /// Returns the final carries, then each per-step output stacked over time.
    func scan(name: String, sequences: [TensorRef], initial: [TensorRef], at range: SourceRange,
              body: ([TensorRef], [TensorRef]) throws -> StepResult) throws -> (finals: [TensorRef], stacked: [TensorRef]) {
        for s in sequences where s.type.shape.rank < 2 {
            throw fail(.expectsSequence("scan", s.type.description), at: range)
        }
        let time = sequences[0].type.shape.dims[1]
        for s in sequences where s.type.shape.dims[1] != time {
            throw fail(.sequenceLengthMismatch(sequences[0].type.description, s.type.description), at: range)
        }
        let graph = Graph(name: "\(name).step")
        let bodyFrame = GraphFrame(graph: graph)
        frames.append(bodyFrame)
        let bodyLevel = level
        var popped = false
        defer { if !popped { frames.removeLast() } }

        let steps = sequences.enumerated().map { index, s -> TensorRef in
            var dims = s.type.shape.dims
            dims.remove(at: 1)
            let type = TensorType(s.type.dtype, Shape(dims))
            return TensorRef(level: bodyLevel, id: graph.addInput(name: sequences.count == 1 ? "x_t" : "x\(index)_t", type: type), type: type)
        }
        let carries = initial.enumerated().map { index, c in
            TensorRef(level: bodyLevel, id: graph.addInput(name: initial.count == 1 ? "state" : "state\(index)", type: c.type), type: c.type)
        }
        let result = try body(steps, carries)
        guard result.carries.count == initial.count else {
            throw fail(.stateCountMismatch(initial.count, result.carries.count), at: range)
        }
        for (new, old) in zip(result.carries, initial) where new.type != old.type {
            throw fail(.stateTypeMismatch(old.type.description, new.type.description), at: range)
        }
        graph.outputs = (result.carries + result.outputs).map { materialize($0) }
        graph.outputNames = graph.outputs.map { _ in nil }
        frames.removeLast()
        popped = true

        let operands = sequences + initial + bodyFrame.captured
        let results = try emit(.scan, operands, attributes: [
            "sequences": .int(sequences.count), "carries": .int(initial.count), "reverse": .bool(false),
        ], regions: [graph], at: range)
        return (Array(results.prefix(initial.count)), Array(results.dropFirst(initial.count)))
    }

    /// The batch-major sequence input of a recurrent layer, checked.
    func sequenceInput(_ args: CallArguments, layer: String) throws -> TensorRef {
        let x = try args.tensor("x")
        guard x.type.shape.rank == 3 else {
            let notes = x.type.shape.rank == 2 ? [DiagnosticNote("a sequence layer reads [batch, time, features]; reshape x to add a time axis")] : []
            throw fail(.expectsSequence(layer, x.type.description), at: args.range(of: "x"), notes: notes)
        }
        guard x.type.dtype.isFloatingPoint else { throw fail(.needsFloat(layer, x.type.description), at: args.range(of: "x")) }
        guard x.type.shape.dims[2].constantValue != nil else {
            throw fail(.symbolicFeatures(layer, x.type.description), at: args.range(of: "x"))
        }
        return x
    }
}
