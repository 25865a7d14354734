import DLMGraph

/// Runs a `scan`: the body graph once per time step (axis 1 of the
/// sequences), threading the carries. Step slices and carries live in
/// buffers allocated once per scan; the body's own workspace is reused
/// every step, so steps allocate no tensor memory.
enum ScanKernel {
    static func run(_ node: Node, body: GraphRunner, inputs: [BufferView], outputs: [BufferView],
                    bindings: [String: Int], pool: ThreadPool, workspace: Workspace) throws {
        guard case .int(let sequenceCount)? = node.attributes["sequences"], case .int(let carryCount)? = node.attributes["carries"] else {
            throw RuntimeError("internal: scan without sequences/carries")
        }
        let reverse: Bool = if case .bool(let r)? = node.attributes["reverse"] { r } else { false }
        let sequences = Array(inputs[..<sequenceCount])
        let initial = Array(inputs[sequenceCount..<(sequenceCount + carryCount)])
        let captures = Array(inputs[(sequenceCount + carryCount)...])
        let steps = sequences[0].shape[1]
        let graph = body.graph

        // Per-step slices of each sequence: the sequence's shape without axis 1.
        let stepViews = sequences.map { s -> BufferView in
            var shape = s.shape
            shape.remove(at: 1)
            return BufferView(pointer: workspace.allocate(shape.reduce(1, *) * s.dtype.byteSize), dtype: s.dtype, shape: shape)
        }
        let carries = initial.map { c -> BufferView in
            let view = BufferView(pointer: workspace.allocate(c.byteCount), dtype: c.dtype, shape: c.shape)
            view.pointer.copyMemory(from: c.pointer, byteCount: c.byteCount)
            return view
        }
        var bound: [ValueID: BufferView] = [:]
        for (input, view) in zip(graph.inputs, stepViews + carries + captures) { bound[input] = view }

        for step in 0..<steps {
            let t = reverse ? steps - 1 - step : step
            for (sequence, view) in zip(sequences, stepViews) {
                var strides = sequence.strides
                let timeStride = strides.remove(at: 1)
                StridedCopy.copy(shape: view.shape, elementSize: view.dtype.byteSize, from: sequence.pointer, t * timeStride, strides,
                                 to: view.pointer, 0, view.strides)
            }
            let results = try body.run(bound, bindings: bindings, pool: pool)
            // Per-step outputs first: one may be an incoming carry (a residual the gradient reads),
            // which the carry copies below overwrite.
            for (stacked, result) in zip(outputs.dropFirst(carryCount), results.dropFirst(carryCount)) {
                // stacked is [B, T, ...]; result is [B, ...].
                var strides = stacked.strides
                let timeStride = strides.remove(at: 1)
                StridedCopy.copy(shape: result.shape, elementSize: result.dtype.byteSize, from: result.pointer, 0, result.strides,
                                 to: stacked.pointer, t * timeStride, strides)
            }
            for (carry, result) in zip(carries, results.prefix(carryCount)) where carry.pointer != result.pointer {
                carry.pointer.copyMemory(from: result.pointer, byteCount: carry.byteCount)
            }
        }
        for (output, carry) in zip(outputs.prefix(carryCount), carries) {
            output.pointer.copyMemory(from: carry.pointer, byteCount: carry.byteCount)
        }
    }
}
