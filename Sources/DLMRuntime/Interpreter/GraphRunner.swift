import DLMGraph
import Dispatch
import Foundation

/// Runs one graph on buffers: binds symbolic sizes, allocates results in a
/// workspace, and dispatches each node to its kernel. Elementwise programs
/// are compiled once per node when the runner is built.
final class GraphRunner {
    let graph: Graph
    private let programs: [Int: ElementwiseProgram]
    private var bodies: [Int: GraphRunner] = [:]
    let workspace = Workspace()
    /// Per-op-kind time in nanoseconds, collected when `DLMC_PROFILE` is set.
    nonisolated(unsafe) static var profile: [String: UInt64]? = ProcessInfo.processInfo.environment["DLMC_PROFILE"] != nil ? [:] : nil

    init(graph: Graph) {
        self.graph = graph
        var programs: [Int: ElementwiseProgram] = [:]
        for (index, node) in graph.nodes.enumerated() {
            if let scalar = node.op.scalarDefinition {
                programs[index] = ElementwiseProgram(scalar, attributes: node.attributes)
            }
        }
        self.programs = programs
        for (index, node) in graph.nodes.enumerated() where node.op == .scan || node.op == .fused {
            if let body = node.regions.first { bodies[index] = GraphRunner(graph: body) }
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

    /// Runs the graph. `bound` maps every input and parameter to its buffer;
    /// results live in this runner's workspace until its next run.
    func run(_ bound: [ValueID: BufferView], bindings: [String: Int], pool: ThreadPool) throws -> [BufferView] {
        workspace.reset()
        var values = bound
        for (index, node) in graph.nodes.enumerated() {
            let inputs = try node.operands.map { operand -> BufferView in
                guard let view = values[operand] else { throw RuntimeError("internal: value \(operand) of @\(graph.name) has no buffer") }
                return view
            }
            var outputs: [BufferView] = []
            for result in node.results {
                let shape = try self.shape(of: result, bindings)
                let dtype = graph.type(of: result).dtype
                let count = try Self.elementCount(shape)
                let view = BufferView(pointer: workspace.allocate(count * dtype.byteSize), dtype: dtype, shape: shape)
                values[result] = view
                outputs.append(view)
            }
            if Self.profile != nil {
                let start = DispatchTime.now().uptimeNanoseconds
                try execute(node, index: index, inputs: inputs, outputs: outputs, bindings: bindings, pool: pool)
                Self.profile?[node.op.rawValue, default: 0] += DispatchTime.now().uptimeNanoseconds - start
            } else {
                try execute(node, index: index, inputs: inputs, outputs: outputs, bindings: bindings, pool: pool)
            }
        }
        return try graph.outputs.map { output in
            guard let view = values[output] else { throw RuntimeError("internal: output \(output) of @\(graph.name) was not computed") }
            return view
        }
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
        case .reshape, .dropout: DataMovementKernels.copy(inputs[0], outputs[0])
        case .transpose: try DataMovementKernels.transpose(inputs[0], outputs[0], attributes)
        case .slice: try DataMovementKernels.slice(inputs[0], outputs[0], attributes, bindings)
        case .concat: try DataMovementKernels.concat(inputs, outputs[0], attributes)
        case .gather: try DataMovementKernels.gather(inputs[0], inputs[1], outputs[0], attributes)
        case .oneHot: DataMovementKernels.oneHot(inputs[0], outputs[0])
        case .matmul: LinearAlgebraKernels.matmul(inputs[0], inputs[1], outputs[0], pool: pool)
        case .conv2d: try LinearAlgebraKernels.conv2d(inputs[0], inputs[1], outputs[0], attributes, workspace: workspace, pool: pool)
        case .pool2d: try LinearAlgebraKernels.pool2d(inputs[0], outputs[0], attributes, pool: pool)
        case .reduce: try ReductionKernels.reduce(inputs[0], outputs[0], attributes, workspace: workspace)
        case .argmax: try ReductionKernels.argmax(inputs[0], outputs[0], attributes)
        case .scan:
            guard let body = bodies[index] else { throw RuntimeError("internal: scan without a body") }
            try ScanKernel.run(node, body: body, inputs: inputs, outputs: outputs, bindings: bindings, pool: pool, workspace: workspace)
        case .fused:
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
