import DLMGraph

/// Runs a `rows` fusion group: for each row (one index of the leading
/// dims), every op of the group in order on row-sized buffers that stay in
/// cache — softmax or layer norm as one pass over memory. Rows run in
/// parallel. f32 only; other groups run through their body graph.
struct RowKernel {
    /// Where a body value's data for row `l` is.
    enum Storage {
        /// A full row of an input: `base + l·N`.
        case inputRow(Int)
        /// One value per row of an input: `base + l`.
        case inputPerRow(Int)
        /// The same data for every row (a `[N]` vector or a scalar input).
        case inputShared(Int)
        /// A scratch buffer of the current thread.
        case scratch(Int)
        /// The same storage as another value (broadcasting a vector is free).
        case alias(Int)
    }

    enum Step {
        case fill(value: Int, from: Int, count: Int)
        case reduce(kind: String, value: Int, from: Int)
        case program(ElementwiseProgram, value: Int, operands: [Int], count: Int)
    }

    let valueIndex: [ValueID: Int]
    let storage: [Storage]
    let lengths: [Int]
    let steps: [Step]
    let outputs: [Int]
    let scratchLengths: [Int]
    let maxOperands: Int
    let maxRegisters: Int
    let rowLength: Int

    /// Compiles a body for concrete row length `n`, or returns `nil` if it is not a row group.
    init?(body: Graph, rowLength n: Int) {
        var index: [ValueID: Int] = [:]
        var storage: [Storage] = []
        var lengths: [Int] = []
        var scratch: [Int] = []
        func add(_ value: ValueID, _ s: Storage, length: Int) {
            index[value] = storage.count
            storage.append(s)
            lengths.append(length)
        }
        for (position, input) in body.inputs.enumerated() {
            let type = body.type(of: input)
            guard type.dtype == .f32 else { return nil }
            let dims = type.shape.dims
            switch type.shape.rank {
            case 0: add(input, .inputShared(position), length: 1)
            case 1: add(input, .inputShared(position), length: n)
            default:
                if dims.last == .constant(1) { add(input, .inputPerRow(position), length: 1) } else { add(input, .inputRow(position), length: n) }
            }
        }
        var steps: [Step] = []
        var maxOperands = 0, maxRegisters = 1
        for node in body.nodes {
            guard node.results.count == 1 else { return nil }
            let result = node.results[0]
            let type = body.type(of: result)
            let length = type.shape.dims.last == .constant(1) || type.shape.rank == 0 ? 1 : n
            let operands = node.operands.compactMap { index[$0] }
            guard operands.count == node.operands.count else { return nil }
            switch node.op {
            case .broadcast:
                if lengths[operands[0]] == length {
                    add(result, .alias(operands[0]), length: length)
                } else {
                    add(result, .scratch(scratch.count), length: length)
                    scratch.append(length)
                    steps.append(.fill(value: storage.count - 1, from: operands[0], count: length))
                }
            case .reduce:
                guard case .string(let kind)? = node.attributes["kind"] else { return nil }
                add(result, .scratch(scratch.count), length: 1)
                scratch.append(1)
                steps.append(.reduce(kind: kind, value: storage.count - 1, from: operands[0]))
            default:
                guard let scalar = node.op.scalarDefinition else { return nil }
                let program = ElementwiseProgram(scalar, attributes: node.attributes)
                add(result, .scratch(scratch.count), length: length)
                scratch.append(length)
                steps.append(.program(program, value: storage.count - 1, operands: operands, count: length))
                maxOperands = max(maxOperands, operands.count)
                maxRegisters = max(maxRegisters, program.registerCount)
            }
        }
        let outputs = body.outputs.compactMap { index[$0] }
        guard outputs.count == body.outputs.count else { return nil }
        self.valueIndex = index
        self.storage = storage
        self.lengths = lengths
        self.steps = steps
        self.outputs = outputs
        self.scratchLengths = scratch
        self.maxOperands = maxOperands
        self.maxRegisters = maxRegisters
        self.rowLength = n
    }

    func run(inputs: [BufferView], outputs outputViews: [BufferView], pool: ThreadPool) {
        guard let first = outputViews.first else { return }
        let rows = first.shape.dropLast().reduce(1, *)
        let n = rowLength
        let scratchTotal = scratchLengths.reduce(0, +)
        let inputPointers = inputs.map { $0.typed(Float.self) }
        nonisolated(unsafe) let sendableInputs = inputPointers
        pool.parallelFor(rows, minimumWork: max(1, 4096 / max(1, n))) { range in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: max(1, scratchTotal + maxRegisters * ElementwiseProgram.chunk)) { memory in
            withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>.self, capacity: storage.count + maxOperands + 1) { table in
                guard let base = memory.baseAddress, let pointers = table.baseAddress else { return }
                let registers = base + scratchTotal
                var scratchOffsets: [Int] = []
                var running = 0
                for length in scratchLengths { scratchOffsets.append(running); running += length }
                let operandTable = pointers + storage.count
                for row in range {
                    // Resolve every value's pointer for this row.
                    for (i, s) in storage.enumerated() {
                        switch s {
                        case .inputRow(let k): pointers[i] = sendableInputs[k] + row * n
                        case .inputPerRow(let k): pointers[i] = sendableInputs[k] + row
                        case .inputShared(let k): pointers[i] = sendableInputs[k]
                        case .scratch(let k): pointers[i] = base + scratchOffsets[k]
                        case .alias(let j): pointers[i] = pointers[j]
                        }
                    }
                    for step in steps {
                        switch step {
                        case .fill(let value, let from, let count):
                            let v = pointers[from][0]
                            let out = pointers[value]
                            for i in 0..<count { out[i] = v }
                        case .reduce(let kind, let value, let from):
                            pointers[value][0] = Self.reduce(kind, pointers[from], lengths[from])
                        case .program(let program, let value, let operands, let count):
                            for (position, operand) in operands.enumerated() { operandTable[position] = pointers[operand] }
                            program.evaluate(rowInputs: operandTable, count: count, into: pointers[value], registers: registers)
                        }
                    }
                    for (view, value) in zip(outputViews, outputs) {
                        let length = lengths[value]
                        let source = pointers[value]
                        switch view.dtype {
                        case .f32: (view.typed(Float.self) + row * length).update(from: source, count: length)
                        default: for i in 0..<length { view.store(Double(source[i]), at: row * length + i) }
                        }
                    }
                }
            }
            }
        }
    }

    static func reduce(_ kind: String, _ p: UnsafeMutablePointer<Float>, _ n: Int) -> Float {
        switch kind {
        case "max":
            var m = -Float.infinity
            for i in 0..<n { m = (m >= p[i] || m.isNaN) ? m : p[i] }
            return m
        case "min":
            var m = Float.infinity
            for i in 0..<n { m = (m <= p[i] || m.isNaN) ? m : p[i] }
            return m
        default:
            var sum = 0.0
            for i in 0..<n { sum += Double(p[i]) }
            return Float(kind == "mean" ? sum / Double(n) : sum)
        }
    }
}
