import CLLVM
import DLMGraph
import DLMRuntime

/// Compiles one plan (a graph at concrete sizes, with its memory layout) into
/// one LLVM module with one entry function:
///
///     i32 @<entry>(i8* arena, i8** slots, i8* context, i32 (i8*, i64, i32)* callback)
///
/// `slots` holds the addresses of the graph's inputs, then its parameters,
/// then scratch memory the compiled plan owns (`scratchBytes` of it: the
/// arenas, step slices and carries of scans whose bodies compile completely
/// and run as native time loops).
///
/// Each node becomes one or more kernel functions
/// `i32 (i8* arena, i8** slots, i64 begin, i64 end)`, called in order by the
/// entry (LLVM inlines them). A splittable kernel runs iterations `begin..<end`
/// of its outermost loop; big ones are called through `dlmc_parallel_for`
/// (`ParallelRuntime`, linked by the JIT), which splits them over threads.
///
/// A node the emitter does not lower becomes a call of `callback` (mode 0:
/// run node `i` on the interpreter; mode 1: run only the convolution heading
/// group `i`, before the group's compiled epilogue). A kernel returns
/// non-zero when its inputs are bad (a gather index out of range); the entry
/// then runs that node again through `callback`, so the interpreter reports
/// the error in its own words (a scan body, which has no callback, returns
/// the status to its scan). A non-zero status from a callback is returned.
final class PlanEmitter {
    /// How each node was compiled, for `--verbose` and tests.
    enum NodeLowering: Equatable {
        case native
        /// The group's epilogue compiled, its convolution run by the interpreter.
        case nativeEpilogue
        case interpreter(reason: String)
        case invariant
    }

    let module: CodeModule
    let layout: PlanLayout
    let scalar: ScalarEmitter
    private(set) var lowerings: [NodeLowering] = []
    private var slotOfValue: [ValueID: Int] = [:]
    private var resultOffset: [ValueID: Int] = [:]
    var constantGlobals: [String: LLVMValueRef?]
    /// Inputs whose leading dim's rows are `stride` elements apart, with the next step's
    /// rows `nextStep` elements on (a scan body's step slices read in place); set before `emit`.
    var rowStrides: [ValueID: (stride: Int, nextStep: Int)] = [:]
    /// A pool offered to the next convolution kernel; a kernel that computes it (direct loops, or
    /// an implicit GEMM in window order) clears it, and the pool then has no kernel of its own.
    var pendingPool: PoolFusion?
    /// Results written to the buffer in a table slot instead of the arena (a scan body's
    /// carries, written straight into the next step's carry); set before `emit`.
    var outputSlots: [ValueID: Int] = [:]
    /// Bytes of scratch memory the plan needs (scan bodies).
    var scratchBytes = 0
    /// The slot holding the scratch address: right after inputs and parameters.
    var scratchSlot: Int { layout.graph.inputs.count + layout.graph.parameters.count }
    /// Compute parameter-only nodes too (scan bodies run them every step; there is no runner to do it once).
    private let computesInvariants: Bool
    /// A prefix for function names, unique per nested body.
    let prefix: String

    init(module: CodeModule, layout: PlanLayout, computesInvariants: Bool = false, prefix: String = "",
         constants: [String: LLVMValueRef?] = [:]) {
        self.module = module
        self.layout = layout
        self.computesInvariants = computesInvariants
        self.prefix = prefix
        constantGlobals = constants
        scalar = ScalarEmitter(module: module)
        let graph = layout.graph
        for (slot, value) in (graph.inputs + graph.parameters.map(\.value)).enumerated() { slotOfValue[value] = slot }
        for (index, node) in graph.nodes.enumerated() {
            for (result, offset) in zip(node.results, layout.resultOffsets[index]) { resultOffset[result] = offset }
        }
    }

    /// A verified module holding `layout`'s plan with its entry named `entry`, and the emitter
    /// that made it (its lowerings and scratch size). The JIT and `dlmc ir --llvm` both start here.
    static func build(_ layout: PlanLayout, target: HostTarget, machine: LLVMTargetMachineRef, entry: String) throws -> (CodeModule, PlanEmitter) {
        let module = CodeModule(name: layout.graph.name, target: target, machine: machine)
        let emitter = PlanEmitter(module: module, layout: layout)
        try emitter.emit(entry: entry)
        try module.verify()
        return (module, emitter)
    }

    var b: LLVMBuilderRef { module.builder }
    var kernelType: LLVMTypeRef {
        module.functionType(module.i32, [module.bytePointer, module.pointer(to: module.bytePointer), module.i64, module.i64, module.bytePointer])
    }
    /// `i32 dlmc_parallel_for(kernel, arena, slots, count, context)`.
    var parallelForType: LLVMTypeRef {
        module.functionType(module.i32, [module.pointer(to: kernelType), module.bytePointer, module.pointer(to: module.bytePointer),
                                         module.i64, module.bytePointer])
    }

    /// Elements of work below which a split kernel still runs on one thread.
    static let parallelThreshold = 1 << 13

    /// One LLVM function of a node's kernel: `emit` fills it in (given the
    /// arena and slots). When `splittable`, its outermost loop takes the
    /// function's begin..<end.
    struct KernelPart {
        let splittable: Bool
        let emit: (LLVMValueRef?, LLVMValueRef?) throws -> Void

        init(splittable: Bool, _ emit: @escaping (LLVMValueRef?, LLVMValueRef?) throws -> Void) {
            self.splittable = splittable
            self.emit = emit
        }
    }

    /// What the entry runs for a node, in order.
    enum Step {
        case kernel(LLVMValueRef?, trip: Int?, work: Int)
        case interpreter(mode: Int32)
    }

    /// The iteration range of the kernel being emitted, for its outermost loop
    /// (taken by the first loop that asks, which records its trip count).
    var splitRange: (begin: LLVMValueRef?, end: LLVMValueRef?)?
    var splitTrip: Int?
    /// Elements the kernel being emitted touches (its output), for the threshold.
    var kernelWork = 0
    var callbackType: LLVMTypeRef { module.functionType(module.i32, [module.bytePointer, module.i64, module.i32]) }
    /// `i32 (arena, slots, context, callback)`: a plan's entry (and a scan body's).
    var entryType: LLVMTypeRef {
        module.functionType(module.i32, [module.bytePointer, module.pointer(to: module.bytePointer), module.bytePointer,
                                         module.pointer(to: callbackType)])
    }

    /// Emits every kernel and the entry function named `entry`.
    func emit(entry: String) throws {
        let graph = layout.graph
        let function = module.function(entry, entryType)
        let (arena, slots, context, callback) = (LLVMGetParam(function, 0), LLVMGetParam(function, 1),
                                                 LLVMGetParam(function, 2), LLVMGetParam(function, 3))
        // Kernels first (each positions the builder in its own function), then the entry's calls.
        var steps: [(step: Step, index: Int)] = []
        // Pools computed by the convolution before them, by that convolution's node.
        var fusedPools: [Int: Int] = [:]
        for (index, node) in graph.nodes.enumerated() {
            if layout.invariantNodes.contains(index) && !computesInvariants {
                lowerings.append(.invariant)
                continue
            }
            if fusedPools.values.contains(index) {
                lowerings.append(.native)
                continue
            }
            let offered = poolFollowing(index)
            pendingPool = offered
            defer { pendingPool = nil }
            do {
                let nodeSteps = try emitKernel(node, index: index)
                if let offered, pendingPool == nil { fusedPools[index] = offered.index }
                steps += nodeSteps.map { ($0, index) }
                let headOnInterpreter = nodeSteps.contains { if case .interpreter = $0 { true } else { false } }
                lowerings.append(headOnInterpreter ? .nativeEpilogue : .native)
            } catch let unsupported as Unsupported {
                steps.append((.interpreter(mode: 0), index))
                lowerings.append(.interpreter(reason: unsupported.reason))
            }
        }
        LLVMPositionBuilderAtEnd(b, module.block("entry", in: function))
        let hasCallback = LLVMBuildICmp(b, LLVMIntNE, callback, LLVMConstNull(module.pointer(to: callbackType)), "has.callback")
        func callInterpreter(_ index: Int, mode: Int32) {
            let status = module.call(callback, callbackType, [context, module.int64(index), module.int32(mode)], "status")
            returnIfFailed(status, in: function, "n\(index).interpreter")
        }
        let parallelFor = module.function("dlmc_parallel_for", parallelForType)
        for step in steps {
            guard case .kernel(let kernel, let trip, let work) = step.step else {
                if case .interpreter(let mode) = step.step { callInterpreter(step.index, mode: mode) }
                continue
            }
            let status: LLVMValueRef?
            if let trip, trip > 1, work >= Self.parallelThreshold {
                status = module.call(parallelFor, parallelForType, [kernel, arena, slots, module.int64(trip), context], "status")
            } else {
                status = module.call(kernel, kernelType, [arena, slots, module.int64(0), module.int64(trip ?? 1), context], "status")
            }
            let rerun = module.block("n\(step.index).rerun", in: function)
            let next = module.block("n\(step.index).done", in: function)
            LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntNE, status, module.int32(0), ""), rerun, next)
            LLVMPositionBuilderAtEnd(b, rerun)
            // Without an interpreter to ask (a scan body), give the status to the caller.
            let ask = module.block("n\(step.index).ask", in: function)
            let give = module.block("n\(step.index).give", in: function)
            LLVMBuildCondBr(b, hasCallback, ask, give)
            LLVMPositionBuilderAtEnd(b, give)
            LLVMBuildRet(b, status)
            LLVMPositionBuilderAtEnd(b, ask)
            callInterpreter(step.index, mode: 0)
            if let pool = fusedPools[step.index] { callInterpreter(pool, mode: 0) }
            LLVMBuildBr(b, next)
            LLVMPositionBuilderAtEnd(b, next)
        }
        LLVMBuildRet(b, module.int32(0))
    }

    /// Returns `status` from `function` when it is not zero; continues in a new block otherwise.
    func returnIfFailed(_ status: LLVMValueRef?, in function: LLVMValueRef?, _ name: String) {
        let failed = module.block("\(name).failed", in: function)
        let next = module.block("\(name).ok", in: function)
        LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntNE, status, module.int32(0), ""), failed, next)
        LLVMPositionBuilderAtEnd(b, failed)
        LLVMBuildRet(b, status)
        LLVMPositionBuilderAtEnd(b, next)
    }

    // MARK: Kernels

    /// Emits node `index` as kernel functions (and interpreter calls) to run in order.
    private func emitKernel(_ node: Node, index: Int) throws -> [Step] {
        let graph = layout.graph
        let result = node.results[0]
        let shape = try concreteShape(graph, result)
        var parts: [KernelPart?] = []
        if node.op.isElementwise || [.broadcast, .transpose, .slice, .constant].contains(node.op) {
            let elemental = try ElementalBody(root: result, in: graph, shape: shape, bindings: layout.bindings, leaf: { $0 == result ? nil : self.location(of: $0) },
                                              shapeOf: { try self.concreteShape(graph, $0) }, constants: constantLocation)
            parts = [KernelPart(splittable: true) { arena, slots in try self.emitElemental(elemental, output: result, dtype: graph.type(of: result).dtype, arena, slots) }]
        } else if node.op == .reshape || (node.op == .dropout && node.operands.count == 1) {
            // Same elements, same order (dropout without a step operand is the identity, as in the interpreter).
            parts = [KernelPart(splittable: false) { arena, slots in self.emitCopy(from: node.operands[0], to: result, bytes: shape.reduce(1, *) * graph.type(of: result).dtype.byteSize, arena, slots) }]
        } else if node.op == .matmul {
            let gemm = try GEMMEmitter.Operands(graph: graph, node: node, shapeOf: { try self.concreteShape(graph, $0) })
            parts = [KernelPart(splittable: true) { arena, slots in
                try self.emitGEMM(gemm, a: node.operands[0], b: node.operands[1], output: result, epilogue: nil, arena, slots)
            }]
        } else if node.op == .conv2d {
            // A convolution outside any group (-O0): the group kernels with no epilogue.
            let outer = Dictionary(node.operands.map { ($0, $0) }, uniquingKeysWith: { first, _ in first })
            let kernel = try (try? directConvolution(node, group: graph, head: node, outer: outer, root: result))
                ?? implicitConvolution(group: graph, head: node, outer: outer, output: result, epilogue: nil, root: result)
            parts = [KernelPart(splittable: true, kernel)]
        } else if node.op == .pool2d {
            parts = [KernelPart(splittable: true, try poolKernel(node))]
        } else if node.op == .reduce {
            parts = [KernelPart(splittable: true, try reduceKernel(node))]
        } else if node.op == .argmax {
            parts = [KernelPart(splittable: true, try argmaxKernel(node))]
        } else if node.op == .gather {
            parts = [KernelPart(splittable: false) { arena, slots in try self.emitGather(node, arena, slots) }]
        } else if node.op == .concat {
            parts = [KernelPart(splittable: false) { arena, slots in try self.emitConcat(node, arena, slots) }]
        } else if node.op == .scan {
            let scan = try prepareScan(node, index: index)
            parts = [KernelPart(splittable: false) { arena, slots in try self.emitScan(node, scan, arena, slots) }]
        } else if node.op == .fused, let group = node.regions.first {
            // nil marks where the interpreter runs the group's convolution.
            parts = try fusedKernel(node, group: group, shape: shape)
        } else {
            throw Unsupported("no LLVM lowering for '\(node.op.rawValue)'")
        }
        guard shape.reduce(1, *) > 0 else { throw Unsupported("empty tensor") }
        return try parts.enumerated().map { position, part in
            guard let part else { return .interpreter(mode: 1) }
            let function = module.function("\(prefix)kernel_n\(index)_\(node.op.rawValue)" + (position > 0 ? "_\(position)" : ""), kernelType)
            LLVMSetLinkage(function, LLVMInternalLinkage)
            LLVMPositionBuilderAtEnd(b, module.block("entry", in: function))
            currentFunction = function
            splitRange = part.splittable ? (LLVMGetParam(function, 2), LLVMGetParam(function, 3)) : nil
            splitTrip = nil
            kernelWork = shape.reduce(1, *)
            try part.emit(LLVMGetParam(function, 0), LLVMGetParam(function, 1))
            LLVMBuildRet(b, module.int32(0))
            splitRange = nil
            return .kernel(function, trip: splitTrip, work: kernelWork)
        }
    }

    var currentFunction: LLVMValueRef?

    /// A fused group: elementwise bodies compile whole; GEMM and convolution
    /// groups compile as one tiled kernel with the epilogue applied per tile
    /// (or direct loops for shallow convolutions); a GEMM left to OpenBLAS, or a
    /// padded deep convolution left to the interpreter's im2col + OpenBLAS
    /// kernel, is followed by the epilogue as a kernel of its own.
    private func fusedKernel(_ node: Node, group: Graph, shape: [Int]) throws -> [KernelPart?] {
        let graph = layout.graph
        let kind: String = if case .string(let k)? = node.attributes["kind"] { k } else { "" }
        if kind == "rows" { return [KernelPart(splittable: true, try rowsKernel(node, group: group))] }
        guard node.results.count == 1, group.outputs.count == 1 else { throw Unsupported("group with several results") }
        let output = node.results[0]
        let outputType = graph.type(of: output)
        var outer: [ValueID: ValueID] = [:]
        for (input, operand) in zip(group.inputs, node.operands) { outer[input] = operand }
        let head = group.nodes.first { $0.op == .matmul || $0.op == .conv2d }
        if kind != "elementwise" && kind != "gemm" && kind != "conv" { throw Unsupported("'\(kind)' groups") }
        if let head {
            guard graph.type(of: output).dtype == group.type(of: head.results[0]).dtype,
                  try concreteShape(group, head.results[0]) == shape else { throw Unsupported("epilogue changes the head's type") }
        }
        let root = group.outputs[0]
        let epilogue: ElementalBody? = root == head?.results[0] ? nil : try ElementalBody(
            root: root, in: group, shape: shape, bindings: layout.bindings,
            leaf: { value in
                if let operand = outer[value] { return self.location(of: operand) }
                if value == head?.results[0] { return self.location(of: output) }
                return nil
            },
            shapeOf: { try self.concreteShape(group, $0) }, constants: constantLocation)
        let finish: [KernelPart?] = epilogue.map { epilogue in
            [KernelPart(splittable: true) { arena, slots in try self.emitElemental(epilogue, output: output, dtype: outputType.dtype, arena, slots) }]
        } ?? []
        guard let head else { return finish }
        if head.op == .conv2d {
            if let direct = try? directConvolution(node, group: group, head: head, outer: outer, root: root) { return [KernelPart(splittable: true, direct)] }
            if let implicit = try? implicitConvolution(group: group, head: head, outer: outer, output: output, epilogue: epilogue, root: root) {
                return [KernelPart(splittable: true, implicit)]
            }
            return [nil] + finish
        }
        guard let a = outer[head.operands[0]], let bOperand = outer[head.operands[1]] else {
            throw Unsupported("matmul of values computed inside the group")
        }
        let gemm = try GEMMEmitter.Operands(graph: group, node: head, shapeOf: { try self.concreteShape(group, $0) })
        if prefersTiled(gemm) {
            // The epilogue runs on each tile as it is finished.
            return [KernelPart(splittable: true) { arena, slots in
                try self.emitGEMM(gemm, a: a, b: bOperand, output: output, epilogue: epilogue, arena, slots)
            }]
        }
        return [KernelPart(splittable: true) { arena, slots in
            try self.emitGEMM(gemm, a: a, b: bOperand, output: output, epilogue: nil, arena, slots)
        }] + finish
    }

    /// Evaluates `body` at every index of its shape and stores into `output`
    /// (row-major, or through `window` strides and offset: a part of a larger tensor).
    func emitElemental(_ body: ElementalBody, output: ValueID, dtype: DType, _ arena: LLVMValueRef?, _ slots: LLVMValueRef?,
                       window: (strides: [Int], offset: Int)? = nil) throws {
        let (shape, accessStrides, outputStrides) = body.collapsed(outputStrides: window?.strides)
        let outputOffset = window?.offset ?? 0
        let bases = body.accesses.map { address(of: $0.location, arena, slots) }
        let outputBase = address(of: location(of: output), arena, slots)
        let loops = LoopNest(module: module, function: currentFunction)
        let moved = body.movedAccess
        let preloaded = invariantLoads(body, bases: bases)
        try loops.loops(shape, "i", outerRange: takeSplit(shape.first)) { indices in
            let target = loops.linear(indices, outputStrides, offset: outputOffset)
            if let moved, body.accesses[moved].dtype == dtype {
                let storage = scalar.storage(dtype)
                let source = loops.linear(indices, accessStrides[moved], offset: body.accesses[moved].offset)
                module.store(module.load(storage, bases[moved], source), storage, outputBase, target)
                return
            }
            let value = try element(of: body, bases: bases, preloaded: preloaded) { a in
                loops.linear(indices, accessStrides[a], offset: body.accesses[a].offset)
            }
            scalar.store(value, dtype, outputBase, target)
        }
    }

    /// The current kernel's iteration range for an outermost loop of `trip`
    /// iterations, once per kernel (`nil` for later loops, or when not splitting).
    func takeSplit(_ trip: Int?) -> (begin: LLVMValueRef?, end: LLVMValueRef?)? {
        guard let range = splitRange, let trip else { return nil }
        splitRange = nil
        splitTrip = trip
        return range
    }

    /// One element of `body`'s root: loads at `index(access)`, registers for
    /// per-row values computed before, and the ops' scalar definitions.
    func element(of body: ElementalBody, bases: [LLVMValueRef?], registers: [Int: LLVMValueRef?] = [:],
                 preloaded: [Int: LLVMValueRef?] = [:], index: (Int) -> LLVMValueRef?) throws -> LLVMValueRef? {
        var cache: [ValueID: LLVMValueRef?] = [:]
        func value(_ v: ValueID) throws -> LLVMValueRef? {
            if let cached = cache[v] { return cached }
            guard let term = body.terms[v], let dtype = body.dtypes[v] else { throw Unsupported("internal: no term for \(v)") }
            let result: LLVMValueRef?
            switch term {
            case .load(let a):
                if let value = preloaded[a] {
                    result = value
                } else if case .register(let r) = body.accesses[a].location {
                    guard let register = registers[r] else { throw Unsupported("internal: register \(r) read before it is set") }
                    result = register
                } else {
                    result = scalar.load(body.accesses[a].dtype, bases[a], index(a))
                }
            case .splat(let constant):
                result = module.real(ScalarExpr.convert(constant, to: dtype), scalar.representation(dtype))
            case .op(let node, let operands):
                let values = try operands.map(value)
                if let expression = node.op.scalarDefinition {
                    let types = operands.map { body.dtypes[$0] ?? dtype }
                    result = scalar.elementwise(expression, operands: values, operandTypes: types, result: dtype, attributes: node.attributes)
                } else {
                    result = values[0]   // broadcast, transpose and slice only move elements
                }
            }
            cache[v] = result
            return result
        }
        return try value(body.root)
    }

    /// For each step slice read in place (a scan's input projection), asks for the next step's
    /// `width` elements from `index` on: successive steps' rows are far apart in the stacked
    /// sequence, so the hardware does not fetch them ahead, and the recurrent GEMM's epilogue
    /// waited on memory for them (LSTM at batch 64: 5% of the run on one load).
    func prefetchNextStep(_ body: ElementalBody, bases: [LLVMValueRef?], at index: [LLVMValueRef?], width: Int) {
        let loops = LoopNest(module: module, function: currentFunction)
        for (a, access) in body.accesses.enumerated() {
            guard case .rows(_, _, let nextStep) = access.location, access.strides.last == 1 else { continue }
            let start = LLVMBuildAdd(b, loops.linear(index, access.strides, offset: access.offset), module.int64(nextStep), "")
            // Past the sequence's end (the last step) the hint is harmless.
            module.prefetch(scalar.storage(access.dtype), bases[a], from: start, count: width, forWriting: false, locality: 2)
        }
    }

    /// The accesses that read one element wherever the kernel is (a broadcast scalar), loaded
    /// once at the builder's position, before the kernel's loops. Loaded inside a loop that
    /// also stores, LLVM must assume the store may change them, which kept such loops from
    /// vectorising once their bounds were a thread's share (GRU at batch 64: 2.4× slower).
    /// `computedHere` is written by the kernel before the body reads it (a GEMM's product): never preloaded.
    func invariantLoads(_ body: ElementalBody, bases: [LLVMValueRef?], computedHere: ValueLocation? = nil) -> [Int: LLVMValueRef?] {
        var loads: [Int: LLVMValueRef?] = [:]
        for (a, access) in body.accesses.enumerated() where access.strides.allSatisfy({ $0 == 0 }) && access.location != computedHere {
            if case .register = access.location { continue }
            loads[a] = scalar.load(access.dtype, bases[a], module.int64(access.offset))
        }
        return loads
    }

    /// Rows of a table picked by integer indices; an index out of range makes the kernel fail (status 3).
    private func emitGather(_ node: Node, _ arena: LLVMValueRef?, _ slots: LLVMValueRef?) throws {
        let graph = layout.graph
        guard case .int(let axis)? = node.attributes["axis"] else { throw Unsupported("gather without an axis") }
        let table = node.operands[0], indices = node.operands[1]
        let tableShape = try concreteShape(graph, table)
        let count = try concreteShape(graph, indices).reduce(1, *)
        let outer = tableShape[..<axis].reduce(1, *), size = tableShape[axis], inner = tableShape[(axis + 1)...].reduce(1, *)
        let elementBytes = graph.type(of: table).dtype.byteSize
        guard outer > 0, count > 0, inner > 0 else { return }
        let tableBase = address(of: location(of: table), arena, slots)
        let indexBase = address(of: location(of: indices), arena, slots)
        let outputBase = address(of: location(of: node.results[0]), arena, slots)
        let indexType = graph.type(of: indices).dtype
        let loops = LoopNest(module: module, function: currentFunction)
        loops.loop(outer, "o") { o in
            loops.loop(count, "j") { j in
                let index = LLVMBuildFPToSI(b, scalar.load(indexType, indexBase, j), module.i64, "index")
                let inRange = LLVMBuildICmp(b, LLVMIntULT, index, module.int64(size), "")
                let bad = module.block("gather.bad", in: currentFunction)
                let good = module.block("gather.row", in: currentFunction)
                LLVMBuildCondBr(b, inRange, good, bad)
                LLVMPositionBuilderAtEnd(b, bad)
                LLVMBuildRet(b, module.int32(3))
                LLVMPositionBuilderAtEnd(b, good)
                let sourceRow = LLVMBuildNUWAdd(b, LLVMBuildNUWMul(b, o, module.int64(size), ""), index, "")
                let targetRow = LLVMBuildNUWAdd(b, LLVMBuildNUWMul(b, o, module.int64(count), ""), j, "")
                let rowBytes = module.int64(inner * elementBytes)
                LLVMBuildMemCpy(b, module.element(module.i8, outputBase, LLVMBuildNUWMul(b, targetRow, rowBytes, "")), 1,
                                module.element(module.i8, tableBase, LLVMBuildNUWMul(b, sourceRow, rowBytes, "")), 1, rowBytes)
            }
        }
    }

    /// Each operand copied into its window of the output along the axis.
    private func emitConcat(_ node: Node, _ arena: LLVMValueRef?, _ slots: LLVMValueRef?) throws {
        let graph = layout.graph
        guard case .int(let axis)? = node.attributes["axis"] else { throw Unsupported("concat without an axis") }
        let output = node.results[0]
        let outputShape = try concreteShape(graph, output)
        let strides = rowMajorStrides(outputShape)
        var start = 0
        for operand in node.operands {
            let shape = try concreteShape(graph, operand)
            defer { start += shape[axis] }
            guard shape.reduce(1, *) > 0 else { continue }
            let piece = try ElementalBody(root: operand, in: graph, shape: shape, bindings: layout.bindings,
                                          leaf: { self.location(of: $0) }, shapeOf: { try self.concreteShape(graph, $0) },
                                          constants: constantLocation)
            try emitElemental(piece, output: output, dtype: graph.type(of: output).dtype, arena, slots,
                              window: (strides, start * strides[axis]))
        }
    }

    func emitCopy(from source: ValueID, to destination: ValueID, bytes: Int, _ arena: LLVMValueRef?, _ slots: LLVMValueRef?) {
        guard location(of: source) != location(of: destination) else { return }   // the planner made it a view
        let from = address(of: location(of: source), arena, slots)
        let to = address(of: location(of: destination), arena, slots)
        LLVMBuildMemCpy(b, to, 1, from, 1, module.int64(bytes))
    }

    /// Whether dlmc's tiled micro-kernel computes this product (else OpenBLAS or loops).
    func prefersTiled(_ g: GEMMEmitter.Operands) -> Bool {
        g.dtype == .f32 && g.batch == 1 && g.k > 0 && GEMMEmitter.prefersTiled(m: g.m, n: g.n, k: g.k)
    }

    /// A matmul into `output`, then `epilogue` (an elemental body reading the product from `output`) on each tile
    /// when the tiled kernel computes it; other paths leave the epilogue to a kernel of its own.
    func emitGEMM(_ gemm: GEMMEmitter.Operands, a: ValueID, b bValue: ValueID, output: ValueID, epilogue: ElementalBody?,
                  _ arena: LLVMValueRef?, _ slots: LLVMValueRef?) throws {
        let emitter = GEMMEmitter(module: module, scalar: scalar, function: currentFunction)
        let (aAddress, bAddress, cAddress) = (address(of: location(of: a), arena, slots), address(of: location(of: bValue), arena, slots),
                                              address(of: location(of: output), arena, slots))
        guard prefersTiled(gemm) else {
            let blocks = gemm.m <= GEMMEmitter.loopRows || gemm.k == 0 ? nil : GEMMEmitter.blasBlocks(gemm)
            return try emitter.emit(gemm, a: aAddress, b: bAddress, c: cAddress, range: takeSplit(blocks))
        }
        let tiling = GEMMEmitter.Tiling(m: gemm.m, n: gemm.n, rows: .dense(depth: gemm.k), lanes: module.vectorLanes)
        kernelWork = gemm.m * gemm.n * gemm.k
        // An epilogue that only adds a matrix (a bias, a step's input projection, a residual) becomes
        // the sums' starting values: no pass over the tile at all.
        if let epilogue, epilogue.shape.count == 2, let product = location(of: output), let a = epilogue.addend(of: product),
           epilogue.accesses[a].strides.last == 1 || epilogue.shape.last == 1 {
            let access = epilogue.accesses[a]
            var nextStep = 0
            if case .rows(_, _, let next) = access.location { nextStep = next }
            let addend = GEMMEmitter.Addend(base: address(of: access.location, arena, slots), rowStride: access.strides[0],
                                            offset: access.offset, nextStep: nextStep)
            return try emitter.emitTiled(tiling, a: aAddress, b: bAddress, c: cAddress, addend: addend, range: takeSplit(tiling.tiles), epilogue: nil)
        }
        let finish = epilogue.map { tileEpilogue($0, output: output, dtype: .f32, arena, slots) }
        try emitter.emitTiled(tiling, a: aAddress, b: bAddress, c: cAddress, range: takeSplit(tiling.tiles), epilogue: finish)
    }

    /// An elemental body over a `[..., M, N]` output evaluated on one tile of its flattened `[M, N]` view.
    func tileEpilogue(_ body: ElementalBody, output: ValueID, dtype: DType,
                      _ arena: LLVMValueRef?, _ slots: LLVMValueRef?) -> GEMMEmitter.TileEpilogue {
        let bases = body.accesses.map { address(of: $0.location, arena, slots) }
        let target = address(of: location(of: output), arena, slots)
        let columns = body.shape.last ?? 1
        let leading = Array(body.shape.dropLast())
        let product = location(of: output)
        let preloaded = invariantLoads(body, bases: bases, computedHere: product)
        return { row0, rows, column0, width in
            let loops = LoopNest(module: self.module, function: self.currentFunction)
            try loops.loop(rows, "epilogue.row", unrolled: false) { r in
                let row = LLVMBuildNUWAdd(self.b, row0, r, "")
                // The row's index along each leading dim.
                var rest = row
                var indices: [LLVMValueRef?] = []
                for size in leading.reversed() {
                    indices.insert(LLVMBuildURem(self.b, rest, self.module.int64(size), ""), at: 0)
                    rest = LLVMBuildUDiv(self.b, rest, self.module.int64(size), "")
                }
                let rowStart = LLVMBuildNUWMul(self.b, row, self.module.int64(columns), "")
                self.prefetchNextStep(body, bases: bases, at: indices + [column0], width: width)
                try loops.loop(width, "epilogue.column", unrolled: false) { j in
                    let column = LLVMBuildNUWAdd(self.b, column0, j, "")
                    let index = indices + [column]
                    let at = LLVMBuildNUWAdd(self.b, rowStart, column, "")
                    let value = try self.element(of: body, bases: bases, preloaded: preloaded) { a in
                        // The product is read where its result is stored, by the same expression: LLVM then
                        // sees one address, not two it must check at run time (the check fails, as
                        // they are equal, and the loop ran scalar: LSTM's input projection 2× slower).
                        if body.accesses[a].location == product { return at }
                        return loops.linear(index, body.accesses[a].strides, offset: body.accesses[a].offset)
                    }
                    self.scalar.store(value, dtype, target, at)
                }
            }
        }
    }

    // MARK: Values

    func concreteShape(_ graph: Graph, _ value: ValueID) throws -> [Int] {
        do {
            return try graph.type(of: value).shape.dims.map { try $0.evaluate(layout.bindings) }
        } catch {
            throw Unsupported("size of \(value) cannot be computed: \(error)")
        }
    }

    /// Bytes of a value of `graph` at this plan's sizes.
    func byteCount(of value: ValueID, in graph: Graph) throws -> Int {
        try concreteShape(graph, value).reduce(1, *) * graph.type(of: value).dtype.byteSize
    }

    /// Where a plan-level value lives.
    func location(of value: ValueID) -> ValueLocation? {
        if let slot = outputSlots[value] { return .slot(slot) }
        if let offset = resultOffset[value] { return .arena(offset) }
        if let slot = slotOfValue[value] {
            if let rows = rowStrides[value] { return .rows(slot: slot, stride: rows.stride, nextStep: rows.nextStep) }
            return .slot(slot)
        }
        return nil
    }

    /// A non-splat constant as a private global array of its dtype's storage.
    func constantLocation(_ node: Node) -> ValueLocation {
        let name = "const_\(constantGlobals.count)"
        guard case .floats(let values)? = node.attributes["values"], case .dtype(let dtype)? = node.attributes["dtype"] else {
            return .global(name)
        }
        let (type, elements): (LLVMTypeRef, [LLVMValueRef?]) = switch dtype {
        case .f32: (module.f32, values.map { module.real($0, module.f32) })
        case .f64: (module.f64, values.map { module.real($0, module.f64) })
        case .i32: (module.i32, values.map { module.int32(Int32(clamping: Int(exactly: $0.rounded(.towardZero)) ?? 0)) })
        case .i64: (module.i64, values.map { module.int64(Int(exactly: $0.rounded(.towardZero)) ?? 0) })
        case .bool: (module.i8, values.map { LLVMConstInt(module.i8, $0 != 0 ? 1 : 0, 0) })
        case .u8: (module.i8, values.map { LLVMConstInt(module.i8, UInt64(UInt8(clamping: Int(exactly: $0.rounded(.towardZero)) ?? 0)), 0) })
        }
        var constants = elements
        let array = constants.withUnsafeMutableBufferPointer { LLVMConstArray(type, $0.baseAddress, UInt32($0.count)) }
        let global = LLVMAddGlobal(module.module, LLVMTypeOf(array), name)
        LLVMSetInitializer(global, array)
        LLVMSetGlobalConstant(global, 1)
        LLVMSetLinkage(global, LLVMPrivateLinkage)
        constantGlobals[name] = global
        return .global(name)
    }

    /// The address of a location as an `i8*`.
    func address(of location: ValueLocation?, _ arena: LLVMValueRef?, _ slots: LLVMValueRef?) -> LLVMValueRef? {
        switch location {
        case .arena(let offset): return module.element(module.i8, arena, module.int64(offset))
        case .slot(let slot), .rows(let slot, _, _): return module.load(module.bytePointer, slots, module.int64(slot))
        case .global(let name): return LLVMBuildBitCast(b, constantGlobals[name] ?? nil, module.bytePointer, "")
        case .register: return LLVMConstNull(module.bytePointer)
        case nil: return LLVMConstNull(module.bytePointer)
        }
    }
}
