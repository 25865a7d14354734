import CLLVM
import DLMGraph
import DLMRuntime

/// Scans whose bodies compile completely run as native time loops: the
/// body's plan becomes a function in the same module, called once per step
/// on scratch memory the compiled plan owns (its arena, the step slices and
/// the carries), with no interpreter in the loop.
extension PlanEmitter {
    /// A scan whose body compiled completely: its entry function and where its scratch lives.
    struct PreparedScan {
        let body: Graph
        let entry: LLVMValueRef?
        let emitter: PlanEmitter
        let bodyArena: Int            // scratch offsets
        let steps: [Int]              // one per sequence (unused for those read in place)
        let readInPlace: [Bool]       // per sequence: the body reads the stacked rows directly
        let carries: [Int]
        /// Per carry: the second buffer of a carry the body writes directly (the two swap
        /// roles every step, so no copy), or nil for a carry copied after each step.
        let alternates: [Int?]
        let nestedScratch: Int
        let length: Int
        let reverse: Bool
        let sequenceCount: Int, carryCount: Int
    }

    func prepareScan(_ node: Node, index: Int) throws -> PreparedScan {
        guard let body = node.regions.first, case .int(let sequenceCount)? = node.attributes["sequences"],
              case .int(let carryCount)? = node.attributes["carries"] else { throw Unsupported("scan without body or counts") }
        let reverse: Bool = if case .bool(let r)? = node.attributes["reverse"] { r } else { false }
        let bodyLayout: PlanLayout
        do {
            bodyLayout = try GraphRunner(graph: body).planLayout(bindings: layout.bindings)
        } catch {
            throw Unsupported("scan body cannot be planned: \(error)")
        }
        let nested = PlanEmitter(module: module, layout: bodyLayout, computesInvariants: true,
                                 prefix: "\(prefix)n\(index)_", constants: constantGlobals)
        // Step slices only read elementwise need no copy: the body reads row b of step t
        // where it lies in the stacked [B, T, R...] sequence, T·R elements after row b-1.
        let readInPlace = try body.inputs.prefix(sequenceCount).map { input in
            guard Self.readsOnlyElementwise(input, in: body) else { return false }
            let stacked = try concreteShape(layout.graph, node.operands[body.inputs.firstIndex(of: input) ?? 0])
            let step = stacked.dropFirst(2).reduce(1, *)
            nested.rowStrides[input] = (stride: stacked.dropFirst().reduce(1, *), nextStep: reverse ? -step : step)
            return true
        }
        // Carries the body computes are written straight into the carry buffer of the next step
        // (slots after the body's scratch slot), instead of its arena and a copy. A carry passed
        // through unchanged, or returned twice, keeps the copy.
        let direct = body.outputs.prefix(carryCount).enumerated().map { position, output in
            !body.inputs.contains(output) && body.outputs.firstIndex(of: output) == position
        }
        for (position, output) in body.outputs.prefix(carryCount).enumerated() where direct[position] {
            nested.outputSlots[output] = Self.carryOutputSlot(position, body: body)
        }
        let entry = "\(prefix)n\(index)_scan_body"
        try nested.emit(entry: entry)
        LLVMSetLinkage(LLVMGetNamedFunction(module.module, entry), LLVMInternalLinkage)
        constantGlobals.merge(nested.constantGlobals) { old, _ in old }
        if let reason = nested.lowerings.compactMap({ if case .interpreter(let r) = $0 { r } else { nil } }).first {
            throw Unsupported("scan body needs the interpreter (\(reason))")
        }
        func reserve(_ bytes: Int) -> Int {
            let offset = scratchBytes
            scratchBytes += (max(bytes, 1) + 63) / 64 * 64
            return offset
        }
        let graph = layout.graph
        let length = try concreteShape(graph, node.operands[0])[1]
        let bodyArena = reserve(bodyLayout.arenaBytes)
        let steps = try body.inputs.prefix(sequenceCount).map { reserve(try concreteShape(body, $0).reduce(1, *) * body.type(of: $0).dtype.byteSize) }
        let carries = try body.inputs.dropFirst(sequenceCount).prefix(carryCount).map {
            reserve(try concreteShape(body, $0).reduce(1, *) * body.type(of: $0).dtype.byteSize)
        }
        let nestedScratch = reserve(nested.scratchBytes)
        let alternates = try body.outputs.prefix(carryCount).enumerated().map { position, output -> Int? in
            direct[position] ? reserve(try concreteShape(body, output).reduce(1, *) * body.type(of: output).dtype.byteSize) : nil
        }
        return PreparedScan(body: body, entry: LLVMGetNamedFunction(module.module, entry), emitter: nested, bodyArena: bodyArena,
                            steps: steps, readInPlace: readInPlace, carries: carries, alternates: alternates, nestedScratch: nestedScratch,
                            length: length, reverse: reverse, sequenceCount: sequenceCount, carryCount: carryCount)
    }

    /// The time loop: slice each sequence's step, run the body, keep the
    /// carries, and write per-step outputs into their stacked results.
    func emitScan(_ node: Node, _ scan: PreparedScan, _ arena: LLVMValueRef?, _ slots: LLVMValueRef?) throws {
        let graph = layout.graph
        let body = scan.body
        let scratch = module.load(module.bytePointer, slots, module.int64(scratchSlot))
        func at(_ offset: Int) -> LLVMValueRef? { module.element(module.i8, scratch, module.int64(offset)) }
        // The body's address table: step slices, carries, captures, its own scratch, then where it writes carries.
        let slotCount = body.inputs.count + 1 + scan.carryCount
        let tableType = LLVMArrayType(module.bytePointer, UInt32(slotCount))
        let table = LLVMBuildBitCast(b, LLVMBuildAlloca(b, tableType, "body.slots"), module.pointer(to: module.bytePointer), "")
        var entries: [LLVMValueRef?] = scan.steps.map(at) + scan.carries.map(at)
        entries += node.operands.dropFirst(scan.sequenceCount + scan.carryCount).map { address(of: location(of: $0), arena, slots) }
        entries.append(at(scan.nestedScratch))
        for (position, entry) in entries.enumerated() { module.store(entry, module.bytePointer, table, module.int64(position)) }
        // Initial carries.
        for (position, carry) in scan.carries.enumerated() {
            let initial = node.operands[scan.sequenceCount + position]
            LLVMBuildMemCpy(b, at(carry), 1, address(of: location(of: initial), arena, slots), 1, module.int64(try byteCount(of: initial, in: graph)))
        }
        let bodyArena = at(scan.bodyArena)
        let loops = LoopNest(module: module, function: currentFunction)
        try loops.loop(scan.length, "t") { step in
            let t = scan.reverse ? LLVMBuildSub(b, module.int64(scan.length - 1), step, "") : step
            // Directly written carries: read from one buffer, write the other, swapping each step.
            let odd = LLVMBuildTrunc(b, step, module.i1, "odd")
            for (position, alternate) in scan.alternates.enumerated() {
                guard let alternate else { continue }
                let (first, second) = (at(scan.carries[position]), at(alternate))
                module.store(LLVMBuildSelect(b, odd, second, first, ""), module.bytePointer, table, module.int64(scan.sequenceCount + position))
                module.store(LLVMBuildSelect(b, odd, first, second, ""), module.bytePointer, table,
                             module.int64(Self.carryOutputSlot(position, body: body)))
            }
            // Sequence [B, T, R...] -> step [B, R...]: one row of R elements per batch index.
            for (position, sequence) in node.operands.prefix(scan.sequenceCount).enumerated() {
                let shape = try concreteShape(graph, sequence)
                let row = shape.dropFirst(2).reduce(1, *) * graph.type(of: sequence).dtype.byteSize
                let source = address(of: location(of: sequence), arena, slots)
                if scan.readInPlace[position] {
                    module.store(module.element(module.i8, source, LLVMBuildNUWMul(b, t, module.int64(row), "")), module.bytePointer, table,
                                 module.int64(position))
                } else {
                    copyRows(batch: shape[0], rowBytes: row, steps: scan.length, t: t, stacked: source, single: at(scan.steps[position]), toStacked: false)
                }
            }
            // The body's kernels split over the executor's threads too; with no
            // callback, a failing kernel's status comes back here.
            let context = LLVMGetParam(currentFunction, 4)
            let status = module.call(scan.entry, entryType, [bodyArena, table, context, LLVMConstNull(module.pointer(to: callbackType))])
            returnIfFailed(status, in: currentFunction, "step")
            // Per-step outputs first: one may be an incoming carry (a residual the gradient reads),
            // which the carry copies below overwrite.
            for (position, output) in body.outputs.enumerated() where position >= scan.carryCount {
                let result = scan.emitter.address(of: scan.emitter.location(of: output), bodyArena, table)
                let stacked = node.results[position]
                let shape = try concreteShape(graph, stacked)
                let row = shape.dropFirst(2).reduce(1, *) * graph.type(of: stacked).dtype.byteSize
                copyRows(batch: shape[0], rowBytes: row, steps: scan.length, t: t,
                         stacked: address(of: location(of: stacked), arena, slots), single: result, toStacked: true)
            }
            for (position, output) in body.outputs.prefix(scan.carryCount).enumerated() where scan.alternates[position] == nil {
                let result = scan.emitter.address(of: scan.emitter.location(of: output), bodyArena, table)
                LLVMBuildMemCpy(b, at(scan.carries[position]), 1, result, 1, module.int64(try byteCount(of: output, in: body)))
            }
        }
        for (position, carry) in scan.carries.enumerated() {
            let result = node.results[position]
            // Step s writes the second buffer when s is even: so did the last step, s = length - 1.
            let final = scan.alternates[position].flatMap { (scan.length - 1) % 2 == 0 ? $0 : nil } ?? carry
            LLVMBuildMemCpy(b, address(of: location(of: result), arena, slots), 1, at(final), 1, module.int64(try byteCount(of: result, in: graph)))
        }
    }

    /// The body's table slot where it writes carry `position` directly.
    static func carryOutputSlot(_ position: Int, body: Graph) -> Int { body.inputs.count + 1 + position }

    /// Whether every reader of `value` in `body` is elementwise (a fused group's epilogue
    /// included, not its GEMM or convolution), so it may be addressed with strided rows.
    static func readsOnlyElementwise(_ value: ValueID, in body: Graph) -> Bool {
        if body.outputs.contains(value) { return false }
        for node in body.nodes where node.operands.contains(value) {
            if node.op.isElementwise || [.broadcast, .transpose, .slice].contains(node.op) { continue }
            guard node.op == .fused, let group = node.regions.first, case .string(let kind)? = node.attributes["kind"],
                  ["elementwise", "gemm", "conv"].contains(kind) else { return false }
            let inputs = zip(group.inputs, node.operands).filter { $0.1 == value }.map(\.0)
            let heads = group.nodes.filter { $0.op == .matmul || $0.op == .conv2d }
            if heads.contains(where: { head in inputs.contains(where: head.operands.contains) }) { return false }
        }
        return true
    }

    /// Copies between a stacked `[B, T, R]` buffer at step `t` and a `[B, R]` one, a row per batch index.
    private func copyRows(batch: Int, rowBytes: Int, steps: Int, t: LLVMValueRef?, stacked: LLVMValueRef?, single: LLVMValueRef?, toStacked: Bool) {
        guard rowBytes > 0 else { return }
        let loops = LoopNest(module: module, function: currentFunction)
        loops.loop(batch, "row") { row in
            let stackedRow = LLVMBuildNUWAdd(b, LLVMBuildNUWMul(b, row, module.int64(steps), ""), t, "")
            let stackedAddress = module.element(module.i8, stacked, LLVMBuildNUWMul(b, stackedRow, module.int64(rowBytes), ""))
            let singleAddress = module.element(module.i8, single, LLVMBuildNUWMul(b, row, module.int64(rowBytes), ""))
            if toStacked {
                LLVMBuildMemCpy(b, stackedAddress, 1, singleAddress, 1, module.int64(rowBytes))
            } else {
                LLVMBuildMemCpy(b, singleAddress, 1, stackedAddress, 1, module.int64(rowBytes))
            }
        }
    }
}
