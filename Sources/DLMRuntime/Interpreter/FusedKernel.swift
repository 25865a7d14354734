import DLMGraph

/// Runs a `fused` group as one kernel: an optional GEMM/convolution head
/// writing straight into the group's output, then every elementwise op of
/// the group as a single elementwise program over that output (in place),
/// reading broadcast inputs through indexers instead of materialising them.
/// The program is the composition of the ops' own scalar definitions.
struct FusedKernel {
    /// Where an elementwise load reads from.
    enum Slot: Equatable {
        /// Body input `index`, broadcast from its own shape to the output's.
        case input(Int)
        /// The head's result, which lives in the output buffer.
        case head
        /// Body input `index` read through a slice with constant starts: output index `i`
        /// reads the input at `starts + steps·i`.
        case slice(Int, starts: [Int], steps: [Int])
    }

    let head: Node?
    /// For each head operand, its position among the body's inputs.
    let headOperands: [Int]
    let program: ElementwiseProgram
    let slots: [Slot]

    /// Compiles a group body, or returns `nil` when the body is not a head
    /// plus elementwise tree (the runner then interprets the body as a graph).
    init?(body: Graph) {
        var expressions: [ValueID: ScalarExpr] = [:]
        var slots: [Slot] = []
        var head: Node?
        func slot(_ s: Slot) -> ScalarExpr {
            if let index = slots.firstIndex(of: s) { return .arg(index) }
            slots.append(s)
            return .arg(slots.count - 1)
        }
        for (position, input) in body.inputs.enumerated() { expressions[input] = slot(.input(position)) }
        guard let outputValue = body.outputs.first, body.outputs.count == 1 else { return nil }
        let outputShape = body.type(of: outputValue).shape
        for node in body.nodes {
            switch node.op {
            case .matmul, .conv2d:
                // One head per group; it runs first (broadcast loads before it in the body need no work).
                guard head == nil, node.results.count == 1, body.type(of: node.results[0]).shape == outputShape,
                      node.operands.allSatisfy(body.inputs.contains) else { return nil }
                head = node
                expressions[node.results[0]] = slot(.head)
            case .broadcast:
                // Only broadcasts of group inputs or constants: they become indexed loads.
                guard let operand = expressions[node.operands[0]] else { return nil }
                switch operand {
                case .arg(let i) where slots[i] != .head: expressions[node.results[0]] = operand
                case .constant: expressions[node.results[0]] = operand
                default: return nil
                }
            case .slice:
                // Only slices of group inputs, with sizes known here: they become strided loads.
                guard case .arg(let i)? = expressions[node.operands[0]], case .input(let position) = slots[i],
                      case .dims(let starts)? = node.attributes["starts"], case .ints(let steps)? = node.attributes["steps"],
                      let begins = try? starts.map({ try $0.evaluate([:]) }) else { return nil }
                expressions[node.results[0]] = slot(.slice(position, starts: begins, steps: steps))
            case .constant:
                guard case .floats(let values)? = node.attributes["values"], values.count == 1 else { return nil }
                expressions[node.results[0]] = .constant(values[0])
            default:
                guard let scalar = node.op.scalarDefinition else { return nil }
                let operands = node.operands.compactMap { expressions[$0] }
                guard operands.count == node.operands.count else { return nil }
                var expression = Self.substitute(scalar, operands: operands, attributes: node.attributes)
                // A node's result is converted to its dtype (this is all `cast` does).
                let resultType = body.type(of: node.results[0]).dtype
                if let first = node.operands.first, body.type(of: first).dtype != resultType {
                    expression = .cast(expression, resultType)
                }
                expressions[node.results[0]] = expression
            }
            // Every value in the group is indexed like the output.
            if node.op != .matmul && node.op != .conv2d && node.op != .constant,
               body.type(of: node.results[0]).shape != outputShape { return nil }
        }
        guard let root = expressions[outputValue] else { return nil }
        // One program divides one way: integer division (truncating) exactly when its first
        // non-bool input is an integer and it does not run in float32. A group whose `div`
        // nodes need the other kind runs op by op instead.
        let slotTypes = slots.map { slot -> DType in
            switch slot {
            case .head: head.map { body.type(of: $0.results[0]).dtype } ?? .f32
            case .input(let i), .slice(let i, _, _): body.type(of: body.inputs[i]).dtype
            }
        }
        let single = slotTypes.allSatisfy { $0 == .f32 || $0 == .bool } && [.f32, .bool].contains(body.type(of: outputValue).dtype)
        let programDividesIntegers = !single && (slotTypes.first { $0 != .bool }?.isInteger ?? false)
        for node in body.nodes where node.op == .div {
            let nodeDividesIntegers = node.operands.map { body.type(of: $0).dtype }.first { $0 != .bool }?.isInteger ?? false
            if nodeDividesIntegers != programDividesIntegers { return nil }
        }
        let headOperands = head?.operands.compactMap { body.inputs.firstIndex(of: $0) } ?? []
        guard headOperands.count == (head?.operands.count ?? 0) else { return nil }
        self.headOperands = headOperands
        self.head = head
        self.slots = slots
        program = ElementwiseProgram(root, attributes: [:])
    }

    /// The scalar definition with operands and attributes filled in.
    static func substitute(_ expression: ScalarExpr, operands: [ScalarExpr], attributes: [String: Attribute]) -> ScalarExpr {
        switch expression {
        case .arg(let i): return operands.indices.contains(i) ? operands[i] : .constant(.nan)
        case .constant: return expression
        case .attribute(let name):
            return .constant(attributes[name]?.numericValue ?? .nan)
        case .unary(let op, let a): return .unary(op, substitute(a, operands: operands, attributes: attributes))
        case .binary(let op, let a, let b):
            return .binary(op, substitute(a, operands: operands, attributes: attributes), substitute(b, operands: operands, attributes: attributes))
        case .select(let c, let a, let b):
            return .select(substitute(c, operands: operands, attributes: attributes), substitute(a, operands: operands, attributes: attributes),
                           substitute(b, operands: operands, attributes: attributes))
        case .cast(let a, let dtype): return .cast(substitute(a, operands: operands, attributes: attributes), dtype)
        }
    }

    func run(inputs: [BufferView], output: BufferView, workspace: Workspace, pool: ThreadPool) throws {
        if let head {
            let a = inputs[headOperands[0]], b = inputs[headOperands[1]]
            if head.op == .matmul {
                LinearAlgebraKernels.matmul(a, b, output, pool: pool)
            } else {
                try LinearAlgebraKernels.conv2d(a, b, output, head.attributes, workspace: workspace, pool: pool)
            }
        }
        let programInputs = slots.map { slot -> ProgramInput in
            switch slot {
            case .head: ProgramInput(output)
            case .input(let i): ProgramInput(inputs[i], broadcastTo: output.shape)
            case .slice(let i, let starts, let steps):
                ProgramInput(inputs[i], shape: output.shape, strides: zip(BufferView.strides(of: inputs[i].shape), steps).map { $0 * $1 },
                             offset: zip(starts, BufferView.strides(of: inputs[i].shape)).reduce(0) { $0 + $1.0 * $1.1 })
            }
        }
        program.run(inputs: programInputs, output: output, pool: pool)
    }
}
