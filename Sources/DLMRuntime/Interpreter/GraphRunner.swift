import DLMGraph
import Dispatch
import Foundation

/// Runs one graph on buffers: binds symbolic sizes, places every result in
/// memory it keeps, and dispatches each node to its kernel. Elementwise
/// programs are compiled once per node when the runner is built, and the
/// placement of results is kept while the sizes stay the same, so running
/// again (every call of a model, every step of a scan) allocates nothing.
///
/// With a `PlanCompiler` installed, each new plan is offered to it, and
/// compiled code runs the nodes instead of the dispatch loop; it calls back
/// `executeNode` for any node it did not compile.
package final class GraphRunner {
    package let graph: Graph
    /// Compiles plans to native code (the LLVM backend); `nil` interprets.
    private var compiler: (any PlanCompiler)?
    private var compiledPlan: (any CompiledPlan)?
    /// Whether the compiler has been offered the current plan (it may have declined).
    private var compileAttempted = false
    private let programs: [Int: ElementwiseProgram]
    private var bodies: [Int: GraphRunner] = [:]
    private var fusedKernels: [Int: FusedKernel] = [:]
    /// Row kernels by node, compiled for the row length of the last run.
    private var rowKernels: [Int: RowKernel] = [:]
    /// Scratch memory for kernels (im2col columns, accumulators), reset every run.
    let workspace = Workspace()
    /// The arena holding node results, laid out by `memoryPlan` for `plannedBindings`.
    private var arena: UnsafeMutableRawPointer?
    private var arenaCapacity = 0
    private(set) var memoryPlan: MemoryPlan?
    private var plannedBindings: [String: Int]?
    private var plannedOutputs: [[BufferView]] = []
    private var values: [BufferView?]
    private var scratchInputs: [BufferView] = []
    /// Nodes whose inputs are only parameters and constants (a folded batch
    /// norm's weights, a transposed weight): computed on the first run for a
    /// plan, then kept — parameters do not change while a runner lives.
    private let invariant: Set<Int>
    private var invariantsReady = false
    /// Plans for other sizes, kept with their arenas and code: training
    /// alternates between full and partial batches, validation between others.
    private var savedPlans: [[String: Int]: SavedPlan] = [:]
    /// At most this many plans are kept besides the current one.
    private static let savedPlanLimit = 4

    /// A plan not in use: its memory, its buffers and its compiled code.
    private struct SavedPlan {
        let arena: UnsafeMutableRawPointer?
        let arenaCapacity: Int
        let memoryPlan: MemoryPlan?
        let plannedOutputs: [[BufferView]]
        let compiledPlan: (any CompiledPlan)?
        let compileAttempted: Bool
        let invariantsReady: Bool
    }
    /// Per-op-kind time in nanoseconds, collected when `DLMC_PROFILE` is set.
    nonisolated(unsafe) static var profile: [String: UInt64]? = ProcessInfo.processInfo.environment["DLMC_PROFILE"] != nil ? [:] : nil

    deinit {
        arena?.deallocate()
        for saved in savedPlans.values { saved.arena?.deallocate() }
    }

    /// Bytes of memory this runner and its nested bodies hold (arenas and scratch).
    var heldBytes: Int {
        arenaCapacity + savedPlans.values.reduce(0) { $0 + $1.arenaCapacity } + workspace.capacity
            + bodies.values.reduce(0) { $0 + $1.heldBytes }
    }

    package init(graph: Graph) {
        self.graph = graph
        values = [BufferView?](repeating: nil, count: graph.valueCount)
        var constantValues = Set(graph.parameters.map(\.value))
        var invariant: Set<Int> = []
        for (index, node) in graph.nodes.enumerated()
        where node.op != .scan && node.op != .dropout && node.operands.allSatisfy(constantValues.contains)
            && node.results.allSatisfy({ graph.type(of: $0).shape.dims.allSatisfy { $0.constantValue != nil } }) {
            invariant.insert(index)
            constantValues.formUnion(node.results)
        }
        self.invariant = invariant
        var programs: [Int: ElementwiseProgram] = [:]
        for (index, node) in graph.nodes.enumerated() {
            if let scalar = node.op.scalarDefinition {
                programs[index] = ElementwiseProgram(scalar, attributes: node.attributes)
            }
        }
        self.programs = programs
        for (index, node) in graph.nodes.enumerated() where node.op == .scan || node.op == .fused {
            guard let body = node.regions.first else { continue }
            if node.op == .fused, node.attributes["kind"] != .string("rows"), let kernel = FusedKernel(body: body) {
                fusedKernels[index] = kernel
            } else {
                bodies[index] = GraphRunner(graph: body)
            }
        }
    }

    /// Concrete shape of a value under `bindings`.
    func shape(of value: ValueID, _ bindings: [String: Int]) throws -> [Int] {
        try graph.type(of: value).shape.dims.map { dim in
            do {
                let n = try dim.evaluate(bindings)
                guard n >= 0 else { throw RuntimeError("size \(dim) evaluates to \(n)") }
                return n
            } catch let error as RuntimeError {
                throw error
            } catch {
                throw RuntimeError("cannot compute size \(dim): \(error)")
            }
        }
    }

    /// Places every node result for the given sizes (only when they change),
    /// reusing memory after each value's last use.
    private func plan(_ bindings: [String: Int]) throws {
        if plannedBindings == bindings { return }
        if let current = plannedBindings {
            savedPlans[current] = SavedPlan(arena: arena, arenaCapacity: arenaCapacity, memoryPlan: memoryPlan, plannedOutputs: plannedOutputs,
                                            compiledPlan: compiledPlan, compileAttempted: compileAttempted, invariantsReady: invariantsReady)
            arena = nil
            arenaCapacity = 0
        }
        if let saved = savedPlans.removeValue(forKey: bindings) {
            (arena, arenaCapacity, memoryPlan, plannedOutputs) = (saved.arena, saved.arenaCapacity, saved.memoryPlan, saved.plannedOutputs)
            (compiledPlan, compileAttempted, invariantsReady) = (saved.compiledPlan, saved.compileAttempted, saved.invariantsReady)
            bindResults()
            plannedBindings = bindings
            return
        }
        while savedPlans.count > Self.savedPlanLimit, let evicted = savedPlans.keys.first {
            savedPlans.removeValue(forKey: evicted)?.arena?.deallocate()
        }
        var shapes: [[[Int]]] = []
        var sizes: [[Int]] = []
        for node in graph.nodes {
            var nodeShapes: [[Int]] = []
            var nodeSizes: [Int] = []
            for result in node.results {
                let shape = try self.shape(of: result, bindings)
                nodeShapes.append(shape)
                nodeSizes.append(try Self.elementCount(shape) * graph.type(of: result).dtype.byteSize)
            }
            shapes.append(nodeShapes)
            sizes.append(nodeSizes)
        }
        // Plain elementwise programs read each chunk before writing it, so they may write over a dying operand;
        // a reshape (or inference dropout) of a dying value takes over its buffer and copies nothing.
        let inPlace = Set(graph.nodes.indices.filter { programs[$0] != nil || [.reshape, .dropout].contains(graph.nodes[$0].op) })
        let pinned = Set(invariant.flatMap { graph.nodes[$0].results })
        let plan = MemoryPlan(graph: graph, sizes: sizes, inPlace: inPlace.subtracting(invariant), pinned: pinned)
        if arena == nil || arenaCapacity < plan.arenaBytes {
            arena?.deallocate()
            arena = UnsafeMutableRawPointer.allocate(byteCount: max(plan.arenaBytes, 64), alignment: MemoryPlan.alignment)
            arenaCapacity = max(plan.arenaBytes, 64)
        }
        guard let base = arena else { throw RuntimeError("internal: no arena") }
        plannedOutputs = graph.nodes.indices.map { index in
            zip(graph.nodes[index].results, plan.offsets[index]).enumerated().map { position, pair in
                BufferView(pointer: base + pair.1, dtype: graph.type(of: pair.0).dtype, shape: shapes[index][position])
            }
        }
        bindResults()
        memoryPlan = plan
        plannedBindings = bindings
        invariantsReady = false
        compiledPlan = nil
        compileAttempted = false
    }

    /// Results keep their planned buffers for every run of a plan (compiled code and its callbacks read them too).
    private func bindResults() {
        for (index, node) in graph.nodes.enumerated() {
            for (result, view) in zip(node.results, plannedOutputs[index]) { values[result.index] = view }
        }
    }

    /// Installs a plan compiler here and in every scan and group body.
    package func install(_ compiler: any PlanCompiler) {
        self.compiler = compiler
        compiledPlan = nil
        compileAttempted = false
        for saved in savedPlans.values { saved.arena?.deallocate() }
        savedPlans = [:]
        plannedBindings = nil
        for body in bodies.values { body.install(compiler) }
    }

    /// Where the current plan put everything, for a compiler.
    private func layout(_ bindings: [String: Int]) throws -> PlanLayout {
        guard let plan = memoryPlan else { throw RuntimeError("internal: no memory plan") }
        return PlanLayout(graph: graph, bindings: bindings, resultOffsets: plan.offsets, arenaBytes: plan.arenaBytes,
                          invariantNodes: invariant)
    }

    /// Plans memory for `bindings` (without running) and returns the layout a compiler would get.
    package func planLayout(bindings: [String: Int]) throws -> PlanLayout {
        try plan(bindings)
        return try layout(bindings)
    }

    /// The addresses of the graph's inputs then its parameters, as a compiled plan reads them.
    package func slotAddresses(into addresses: inout [UnsafeMutableRawPointer?]) {
        addresses.removeAll(keepingCapacity: true)
        for value in graph.inputs { addresses.append(values[value.index]?.pointer) }
        for parameter in graph.parameters { addresses.append(values[parameter.value.index]?.pointer) }
    }

    /// The base of the arena the current plan's offsets refer to.
    package var arenaAddress: UnsafeMutableRawPointer? { arena }

    /// Runs node `index` of the current plan through its interpreter kernel
    /// (compiled plans call this for the nodes they leave to the interpreter).
    package func executeNode(_ index: Int, bindings: [String: Int], pool: ThreadPool) throws {
        guard graph.nodes.indices.contains(index) else { throw RuntimeError("internal: no node \(index) in @\(graph.name)") }
        let node = graph.nodes[index]
        try gatherOperands(of: node)
        try executeTimed(node, index: index, bindings: bindings, pool: pool, label: " (for the JIT)")
    }

    /// Runs a node whose operands are gathered, adding its time to the profile when one is kept.
    private func executeTimed(_ node: Node, index: Int, bindings: [String: Int], pool: ThreadPool, label: String = "") throws {
        guard Self.profile != nil else {
            try execute(node, index: index, inputs: scratchInputs, outputs: plannedOutputs[index], bindings: bindings, pool: pool)
            return
        }
        let start = DispatchTime.now().uptimeNanoseconds
        try execute(node, index: index, inputs: scratchInputs, outputs: plannedOutputs[index], bindings: bindings, pool: pool)
        Self.profile?[node.op.rawValue + label, default: 0] += DispatchTime.now().uptimeNanoseconds - start
    }

    /// Fills `scratchInputs` with the buffers of a node's operands (no allocation once warm).
    private func gatherOperands(of node: Node) throws {
        scratchInputs.removeAll(keepingCapacity: true)
        for operand in node.operands {
            guard values.indices.contains(operand.index), let view = values[operand.index] else {
                throw RuntimeError("internal: value \(operand) of @\(graph.name) has no buffer")
            }
            scratchInputs.append(view)
        }
    }

    /// The buffers of the graph's outputs.
    private func outputViews() throws -> [BufferView] {
        try graph.outputs.map { output in
            guard values.indices.contains(output.index), let view = values[output.index] else {
                throw RuntimeError("internal: output \(output) of @\(graph.name) was not computed")
            }
            return view
        }
    }

    /// Runs only the matmul or convolution that heads fused group `index`,
    /// writing its result into the group's output buffer (compiled code then
    /// applies the group's epilogue in place).
    package func executeHead(ofGroup index: Int, bindings: [String: Int], pool: ThreadPool) throws {
        guard graph.nodes.indices.contains(index), let body = graph.nodes[index].regions.first,
              let head = body.nodes.first(where: { $0.op == .matmul || $0.op == .conv2d }) else {
            throw RuntimeError("internal: node \(index) of @\(graph.name) is not a GEMM or convolution group")
        }
        let node = graph.nodes[index]
        let inputs = try head.operands.map { operand in
            guard let position = body.inputs.firstIndex(of: operand), let view = values[node.operands[position].index] else {
                throw RuntimeError("internal: the head of group \(index) reads a value computed inside the group")
            }
            return view
        }
        try execute(head, index: index, inputs: inputs, outputs: [plannedOutputs[index][0]], bindings: bindings, pool: pool)
    }

    /// Runs the graph. `bound` maps every input and parameter to its buffer;
    /// results stay valid until the next run.
    func run(_ bound: [ValueID: BufferView], bindings: [String: Int], pool: ThreadPool) throws -> [BufferView] {
        try plan(bindings)
        workspace.reset()
        for (id, view) in bound where values.indices.contains(id.index) { values[id.index] = view }
        if let compiler {
            if compiledPlan == nil && !compileAttempted {
                compileAttempted = true
                compiledPlan = compiler.compile(try layout(bindings))
            }
            if let compiledPlan { return try runCompiled(compiledPlan, bindings: bindings, pool: pool) }
        }
        for (index, node) in graph.nodes.enumerated() {
            if invariantsReady && invariant.contains(index) { continue }
            try gatherOperands(of: node)
            try executeTimed(node, index: index, bindings: bindings, pool: pool)
        }
        invariantsReady = true
        return try outputViews()
    }

    /// Runs the plan through compiled code: nodes that depend only on
    /// parameters run once on the interpreter, the compiled plan runs the rest.
    private func runCompiled(_ compiled: any CompiledPlan, bindings: [String: Int], pool: ThreadPool) throws -> [BufferView] {
        if !invariantsReady {
            for index in invariant.sorted() { try executeNode(index, bindings: bindings, pool: pool) }
            invariantsReady = true
        }
        try compiled.run(self, bindings: bindings, pool: pool)
        return try outputViews()
    }

    /// The row length of a row group: the last dim of its first reduction's input.
    private func rowLength(of body: Graph, _ inputs: [BufferView]) -> Int? {
        for node in body.nodes where node.op == .reduce {
            let operand = node.operands[0]
            if let position = body.inputs.firstIndex(of: operand) { return inputs[position].shape.last }
            // Otherwise find any full-row input.
            let type = body.type(of: operand)
            for (position, input) in body.inputs.enumerated() where body.type(of: input).shape.rank == type.shape.rank {
                if let last = inputs[position].shape.last, body.type(of: input).shape.dims.last != .constant(1) { return last }
            }
        }
        return nil
    }

    /// The product of a shape's sizes, or an error when it would overflow.
    static func elementCount(_ shape: [Int]) throws -> Int {
        var count = 1
        for n in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow, product < (1 << 40) else { throw RuntimeError("tensor of shape \(shape) is too large") }
            count = product
        }
        return count
    }

    private func execute(_ node: Node, index: Int, inputs: [BufferView], outputs: [BufferView],
                         bindings: [String: Int], pool: ThreadPool) throws {
        if let program = programs[index] {
            program.run(inputs: inputs, output: outputs[0], pool: pool)
            return
        }
        let attributes = node.attributes
        switch node.op {
        case .constant: try DataMovementKernels.constant(attributes, outputs[0])
        case .broadcast: DataMovementKernels.broadcast(inputs[0], outputs[0])
        case .reshape: DataMovementKernels.copy(inputs[0], outputs[0])
        case .dropout:
            if inputs.count == 2 {
                try GradientKernels.dropout(inputs[0], step: inputs[1], outputs[0], attributes)
            } else {
                DataMovementKernels.copy(inputs[0], outputs[0])
            }
        case .transpose: try DataMovementKernels.transpose(inputs[0], outputs[0], attributes)
        case .slice: try DataMovementKernels.slice(inputs[0], outputs[0], attributes, bindings)
        case .concat: try DataMovementKernels.concat(inputs, outputs[0], attributes)
        case .gather: try DataMovementKernels.gather(inputs[0], inputs[1], outputs[0], attributes)
        case .oneHot: DataMovementKernels.oneHot(inputs[0], outputs[0])
        case .scatterAdd: try GradientKernels.scatterAdd(inputs[0], inputs[1], outputs[0], attributes)
        case .conv2dBackpropInput:
            try GradientKernels.conv2dBackpropInput(inputs[0], inputs[1], outputs[0], attributes, workspace: workspace, pool: pool)
        case .conv2dBackpropFilter:
            try GradientKernels.conv2dBackpropFilter(inputs[0], inputs[1], outputs[0], attributes, workspace: workspace, pool: pool)
        case .pool2dBackprop: try GradientKernels.pool2dBackprop(inputs[0], inputs[1], outputs[0], attributes, pool: pool)
        case .matmul: LinearAlgebraKernels.matmul(inputs[0], inputs[1], outputs[0], pool: pool)
        case .conv2d: try LinearAlgebraKernels.conv2d(inputs[0], inputs[1], outputs[0], attributes, workspace: workspace, pool: pool)
        case .pool2d: try LinearAlgebraKernels.pool2d(inputs[0], outputs[0], attributes, pool: pool)
        case .reduce: try ReductionKernels.reduce(inputs[0], outputs[0], attributes, workspace: workspace)
        case .argmax: try ReductionKernels.argmax(inputs[0], outputs[0], attributes)
        case .scan:
            guard let body = bodies[index] else { throw RuntimeError("internal: scan without a body") }
            try ScanKernel.run(node, body: body, inputs: inputs, outputs: outputs, bindings: bindings, pool: pool, workspace: workspace)
        case .fused:
            if let kernel = fusedKernels[index] {
                try kernel.run(inputs: inputs, output: outputs[0], workspace: workspace, pool: pool)
                return
            }
            if node.attributes["kind"] == .string("rows"), let body = node.regions.first, let rowLength = rowLength(of: body, inputs) {
                if rowKernels[index]?.rowLength != rowLength { rowKernels[index] = RowKernel(body: body, rowLength: rowLength) }
                if let kernel = rowKernels[index] {
                    kernel.run(inputs: inputs, outputs: outputs, pool: pool)
                    return
                }
            }
            // Groups the fused kernel does not cover run op by op through their body.
            guard let body = bodies[index] else { throw RuntimeError("internal: fused group without a body") }
            var bound: [ValueID: BufferView] = [:]
            for (input, view) in zip(body.graph.inputs, inputs) { bound[input] = view }
            for (output, result) in zip(outputs, try body.run(bound, bindings: bindings, pool: pool)) {
                output.pointer.copyMemory(from: result.pointer, byteCount: output.byteCount)
            }
        case .neg, .abs, .exp, .log, .sqrt, .rsqrt, .tanh, .sigmoid, .relu, .leakyRelu, .gelu, .erf, .logicalNot,
             .add, .sub, .mul, .div, .pow, .maximum, .minimum, .eq, .ne, .lt, .le, .gt, .ge, .logicalAnd, .logicalOr,
             .select, .cast:
            throw RuntimeError("internal: elementwise op \(node.op.rawValue) has no compiled program")
        }
    }
}

/// Time spent per op kind, collected when the `DLMC_PROFILE` environment
/// variable is set (benchmarks print it).
public enum RuntimeProfile {
    /// Nanoseconds per op name since the process started, or `nil` when not profiling.
    public static var snapshot: [String: UInt64]? { GraphRunner.profile }
}
