import DLMGraph

/// The reference backend: runs a verified graph with concrete shapes bound
/// from its inputs, every op through the kernels in this folder. Keep one
/// per model; runs reuse its memory.
public final class Interpreter {
    /// The graph being run.
    public let graph: Graph
    /// Threads for parallel kernels (OpenBLAS has its own setting).
    public let pool: ThreadPool
    private let runner: GraphRunner
    private let weights: [ValueID: Tensor]

    /// Prepares `graph` with its parameter values by name. Missing, extra
    /// and mis-shaped parameters are errors naming the parameter.
    public init(graph: Graph, parameters: [String: Tensor], pool: ThreadPool = .default) throws {
        self.graph = graph
        self.pool = pool
        var weights: [ValueID: Tensor] = [:]
        var problems: [String] = []
        for parameter in graph.parameters {
            guard let tensor = parameters[parameter.name] else {
                problems.append("missing parameter '\(parameter.name)' (\(parameter.type))")
                continue
            }
            let expected = parameter.type.shape.dims.map(\.constantValue)
            guard tensor.dtype == parameter.type.dtype, tensor.shape.map(Optional.some) == expected else {
                problems.append("parameter '\(parameter.name)' should be \(parameter.type) but is \(tensor.dtype.rawValue)\(tensor.shape)")
                continue
            }
            weights[parameter.value] = tensor
        }
        let known = Set(graph.parameters.map(\.name))
        for name in parameters.keys.sorted() where !known.contains(name) {
            problems.append("unexpected parameter '\(name)' (the model has no parameter of that name)")
        }
        guard problems.isEmpty else { throw RuntimeError(problems.joined(separator: "\n")) }
        self.weights = weights
        runner = GraphRunner(graph: graph)
        // OpenBLAS runs single-threaded; the pool's threads share out blocks of each product.
        BLAS.useSingleThreadedCalls()
    }

    /// Lets `compiler` run this graph's plans (and its scan bodies') as native code.
    package func install(_ compiler: any PlanCompiler) { runner.install(compiler) }

    /// Fresh parameter values drawn from each parameter's initializer.
    public static func initialParameters(of graph: Graph, seed: UInt64) throws -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for parameter in graph.parameters {
            let shape = parameter.type.shape.dims.compactMap(\.constantValue)
            guard shape.count == parameter.type.shape.rank else {
                throw RuntimeError("parameter '\(parameter.name)' has a symbolic shape \(parameter.type)")
            }
            var random = RandomSource(seed: seed, name: parameter.name)
            let values = ParameterInitialization.values(parameter.initializer, shape: shape, random: &random)
            result[parameter.name] = try Tensor(dtype: parameter.type.dtype, shape: shape, values: values)
        }
        return result
    }

    /// Binds the symbolic sizes of the graph's inputs from actual tensors,
    /// checking dtypes, ranks, fixed sizes and that shared symbols agree.
    public func bindSizes(_ inputs: [String: Tensor]) throws -> [String: Int] {
        var bindings: [String: Int] = [:]
        var origin: [String: String] = [:]
        var deferred: [(name: String, axis: Int, dim: Dim, actual: Int)] = []
        for input in graph.inputs {
            let name = graph.name(of: input) ?? "input"
            let type = graph.type(of: input)
            guard let tensor = inputs[name] else { throw RuntimeError("missing input '\(name)' (\(type))") }
            guard tensor.dtype == type.dtype else {
                throw RuntimeError("input '\(name)' should have element type \(type.dtype.rawValue) but has \(tensor.dtype.rawValue)")
            }
            guard tensor.shape.count == type.shape.rank else {
                throw RuntimeError("input '\(name)' should have rank \(type.shape.rank) (\(type)) but has shape \(tensor.shape)")
            }
            for (axis, (dim, actual)) in zip(type.shape.dims, tensor.shape).enumerated() {
                if let fixed = dim.constantValue {
                    guard fixed == actual else {
                        throw RuntimeError("input '\(name)' should have size \(fixed) on axis \(axis) (\(type)) but has \(actual)")
                    }
                } else if dim.symbols.count == 1, let symbol = dim.symbols.first, dim == .symbol(symbol) {
                    if let bound = bindings[symbol], bound != actual {
                        throw RuntimeError("size '\(symbol)' is \(bound) from \(origin[symbol] ?? "another input") but \(actual) from input '\(name)' axis \(axis)")
                    }
                    bindings[symbol] = actual
                    origin[symbol] = "input '\(name)' axis \(axis)"
                } else {
                    deferred.append((name, axis, dim, actual))
                }
            }
        }
        for (name, axis, dim, actual) in deferred {
            let expected: Int
            do { expected = try dim.evaluate(bindings) } catch {
                throw RuntimeError("input '\(name)' axis \(axis) has size '\(dim)', which cannot be computed from the other inputs")
            }
            guard expected == actual else {
                throw RuntimeError("input '\(name)' axis \(axis) should have size \(dim) = \(expected) but has \(actual)")
            }
        }
        for name in inputs.keys.sorted() where !graph.inputs.contains(where: { graph.name(of: $0) == name }) {
            throw RuntimeError("unexpected input '\(name)' (inputs: \(graph.inputs.compactMap { graph.name(of: $0) }.joined(separator: ", ")))")
        }
        return bindings
    }

    /// Memory use of the last run's plan: the arena holding every intermediate
    /// (with reuse after last use), what separate buffers would need, and all
    /// memory the interpreter holds (arena, kernel scratch, scan bodies).
    public struct MemoryStatistics: Sendable {
        public let arenaBytes: Int
        public let naiveBytes: Int
        public let heldBytes: Int
    }

    /// Statistics of the current memory plan (`nil` before the first run).
    public var memoryStatistics: MemoryStatistics? {
        runner.memoryPlan.map { MemoryStatistics(arenaBytes: $0.arenaBytes, naiveBytes: $0.naiveBytes, heldBytes: runner.heldBytes) }
    }

    /// Runs the graph on named inputs; output `i` is copied into
    /// `destinations[i]` in place (see `Tensor.overwrite`) when it has that
    /// tensor's dtype and shape, and into a new tensor otherwise. A train step
    /// writes its new parameters and optimiser slots back into the state it
    /// read them from this way, with no allocation.
    package func run(_ inputs: [String: Tensor], writingInto destinations: [Tensor?]) throws -> [Tensor] {
        let results = try runViews(inputs)
        return try results.enumerated().map { index, view in
            if index < destinations.count, let destination = destinations[index], destination.dtype == view.dtype, destination.shape == view.shape {
                destination.overwrite(with: view.pointer)
                return destination
            }
            return try Tensor(dtype: view.dtype, shape: view.shape, bytes: UnsafeRawBufferPointer(start: view.pointer, count: view.byteCount))
        }
    }

    /// Runs the graph on named inputs and returns its outputs in order.
    public func run(_ inputs: [String: Tensor]) throws -> [Tensor] {
        try runViews(inputs).map { view in
            try Tensor(dtype: view.dtype, shape: view.shape, bytes: UnsafeRawBufferPointer(start: view.pointer, count: view.byteCount))
        }
    }

    /// Runs the graph; the outputs' buffers stay valid until the next run.
    private func runViews(_ inputs: [String: Tensor]) throws -> [BufferView] {
        let bindings = try bindSizes(inputs)
        var bound: [ValueID: BufferView] = [:]
        for input in graph.inputs {
            if let name = graph.name(of: input), let tensor = inputs[name] { bound[input] = tensor.view }
        }
        for (id, tensor) in weights { bound[id] = tensor.view }
        return try withExtendedLifetime((inputs, weights)) {
            try runner.run(bound, bindings: bindings, pool: pool)
        }
    }
}
