import CLLVM
import DLMGraph

/// Row groups (softmax, log-softmax, layer norm, last-axis reductions with
/// their elementwise neighbours) as one loop over rows: each reduction is a
/// loop over the row that evaluates its operand elementally and leaves a
/// per-row value in a register, later reductions and the outputs read those
/// registers. Reductions accumulate as the interpreter's row kernel does
/// (max and min in float32, sums in double), so results agree exactly.
extension PlanEmitter {
    func rowsKernel(_ node: Node, group: Graph) throws -> (LLVMValueRef?, LLVMValueRef?) throws -> Void {
        guard let first = group.nodes.first(where: { $0.op == .reduce }) else { throw Unsupported("a rows group without a reduction") }
        let rowShape = try concreteShape(group, first.operands[0])
        guard let length = rowShape.last, length > 0 else { throw Unsupported("empty rows") }
        let leading = Array(rowShape.dropLast())
        let rows = leading.reduce(1, *)
        guard rows > 0 else { throw Unsupported("no rows") }
        var outer: [ValueID: ValueID] = [:]
        for (input, operand) in zip(group.inputs, node.operands) { outer[input] = operand }
        var registers: [ValueID: Int] = [:]
        func leaf(_ value: ValueID) -> ValueLocation? {
            if let operand = outer[value] { return location(of: operand) }
            if let register = registers[value] { return .register(register) }
            return nil
        }
        func body(_ root: ValueID) throws -> ElementalBody {
            let shape = try concreteShape(group, root)
            guard shape.count == rowShape.count, Array(shape.dropLast()) == leading else { throw Unsupported("a value off the row shape") }
            return try ElementalBody(root: root, in: group, shape: shape, bindings: layout.bindings, leaf: leaf,
                                     shapeOf: { try self.concreteShape(group, $0) }, constants: constantLocation)
        }
        // Reductions in order; each reads the registers of those before it.
        var reductions: [(kind: String, operand: ElementalBody, dtype: DType)] = []
        for inner in group.nodes where inner.op == .reduce {
            guard case .string(let kind)? = inner.attributes["kind"], ["sum", "mean", "max", "min"].contains(kind),
                  group.type(of: inner.results[0]).dtype == .f32 else { throw Unsupported("a '\(inner.op.rawValue)' in a rows group") }
            reductions.append((kind, try body(inner.operands[0]), group.type(of: inner.operands[0]).dtype))
            registers[inner.results[0]] = registers.count
        }
        let outputs = try zip(group.outputs, node.results).map { (body: try body($0), result: $1, dtype: group.type(of: $0).dtype) }
        return { arena, slots in
            let loops = LoopNest(module: self.module, function: self.currentFunction)
            let b = self.module.builder
            try loops.outerLoop(rows, "row", range: self.takeSplit(rows)) { row in
                // The row's index in the leading dims.
                var leadingIndices: [LLVMValueRef?] = []
                var rest = row
                for size in leading.reversed() {
                    leadingIndices.insert(LLVMBuildURem(b, rest, self.module.int64(size), ""), at: 0)
                    rest = LLVMBuildUDiv(b, rest, self.module.int64(size), "")
                }
                var values: [Int: LLVMValueRef?] = [:]
                for (index, reduction) in reductions.enumerated() {
                    values[index] = try self.emitRowReduction(reduction.kind, reduction.operand, length: length, leading: leadingIndices,
                                                              registers: values, arena, slots, loops)
                }
                for output in outputs {
                    let base = self.address(of: self.location(of: output.result), arena, slots)
                    let bases = output.body.accesses.map { self.address(of: $0.location, arena, slots) }
                    let width = output.body.shape.last ?? 1
                    func store(_ j: LLVMValueRef?) throws {
                        let indices = leadingIndices + [j]
                        let value = try self.element(of: output.body, bases: bases, registers: values) { a in
                            loops.linear(indices, output.body.accesses[a].strides, offset: output.body.accesses[a].offset)
                        }
                        let target = LLVMBuildNUWAdd(b, LLVMBuildNUWMul(b, row, self.module.int64(width), ""), j, "")
                        self.scalar.store(value, output.dtype, base, target)
                    }
                    if width == 1 { try store(self.module.int64(0)) } else { try loops.loop(width, "col") { try store($0) } }
                }
            }
        }
    }

    /// One reduction over the current row, as `RowKernel.reduce` computes it.
    private func emitRowReduction(_ kind: String, _ operand: ElementalBody, length: Int, leading: [LLVMValueRef?],
                                  registers: [Int: LLVMValueRef?], _ arena: LLVMValueRef?, _ slots: LLVMValueRef?,
                                  _ loops: LoopNest) throws -> LLVMValueRef? {
        let b = module.builder
        let isSum = kind == "sum" || kind == "mean"
        let type = isSum ? module.f64 : module.f32
        let accumulator = entryAlloca(type, "acc")
        let initial: Double = kind == "max" ? -.infinity : kind == "min" ? .infinity : 0
        LLVMBuildStore(b, module.real(initial, type), accumulator)
        let bases = operand.accesses.map { address(of: $0.location, arena, slots) }
        try loops.loop(length, "j") { j in
            let indices = leading + [j]
            let value = try element(of: operand, bases: bases, registers: registers) { a in
                loops.linear(indices, operand.accesses[a].strides, offset: operand.accesses[a].offset)
            }
            let current = LLVMBuildLoad2(b, type, accumulator, "")
            let next: LLVMValueRef? = switch kind {
            case "max": scalar.maximum(current, value)
            case "min": scalar.minimum(current, value)
            default: LLVMBuildFAdd(b, current, scalar.convert(value, to: module.f64), "")
            }
            LLVMBuildStore(b, next, accumulator)
        }
        let result = LLVMBuildLoad2(b, type, accumulator, "")
        guard isSum else { return result }
        let total = kind == "mean" ? LLVMBuildFDiv(b, result, module.real(Double(length), module.f64), "") : result
        return scalar.convert(total, to: module.f32)
    }

    /// A stack slot in the current function's entry block (so mem2reg can promote it).
    func entryAlloca(_ type: LLVMTypeRef, _ name: String) -> LLVMValueRef? {
        let b = module.builder
        let here = LLVMGetInsertBlock(b)
        let entry = LLVMGetEntryBasicBlock(currentFunction)
        if let first = LLVMGetFirstInstruction(entry) { LLVMPositionBuilderBefore(b, first) } else { LLVMPositionBuilderAtEnd(b, entry) }
        let slot = LLVMBuildAlloca(b, type, name)
        LLVMPositionBuilderAtEnd(b, here)
        return slot
    }
}
