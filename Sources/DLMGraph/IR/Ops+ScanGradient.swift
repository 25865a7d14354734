/// The gradient of `scan`: a reverse scan over the forward's per-step residuals.
///
/// Before the reverse sweep, the forward scan is rewritten to also stack,
/// per step, every value of its body that the body's gradient reads (gate
/// activations, the incoming carries): `residuals` counts these trailing
/// per-step outputs. The backward scan then runs the body's gradient (built
/// by reverse mode inside the body) once per step in the opposite
/// direction: its sequences are the cotangents of the stacked outputs, the
/// residuals and the forward sequences it reads; its carries are the
/// cotangents of the carries and one accumulator per captured value
/// (weights), which sums the weight gradients over the steps; its per-step
/// outputs are the cotangents of the sequences.
enum ScanGradient {
    /// The body's gradient, built in a scratch graph over a copy of the body.
    struct Analysis {
        /// The scratch graph: the body's inputs, a copy of its nodes, seed inputs, then the gradient's nodes.
        let scratch: Graph
        /// Scratch values of the body's inputs, in order.
        let bodyInputs: [ValueID]
        /// Scratch seed inputs: the cotangents of the carries, then of the per-step outputs.
        let seeds: [ValueID]
        /// The cotangent of each body input (nil where none flows).
        let inputCotangents: [ValueID?]
        /// Where the gradient's nodes start in `scratch.nodes`.
        let firstGradientNode: Int
        /// Body values (as scratch values) that the gradient reads and the body computes or carries in:
        /// the residuals to store, in a fixed order.
        let residuals: [ValueID]
        /// Scratch value → body value, for values of the body's copy.
        let bodyValue: [ValueID: ValueID]
    }

    /// Differentiates one step of `body` (whose first `carries` + `outputs` outputs are seeded) in a scratch graph.
    static func analyse(_ body: Graph, sequences: Int, carries: Int, outputs: Int) throws -> Analysis {
        let scratch = Graph(name: "\(body.name).gradient")
        var values: [ValueID: ValueID] = [:]
        var bodyValue: [ValueID: ValueID] = [:]
        let bodyInputs = body.inputs.map { input -> ValueID in
            let value = scratch.addInput(name: body.name(of: input) ?? "in", type: body.type(of: input))
            values[input] = value
            bodyValue[value] = input
            return value
        }
        for node in body.nodes {
            let results = scratch.appendCopy(of: node, from: body, operands: node.operands.map { values[$0] ?? $0 })
            for (old, new) in zip(node.results, results) {
                values[old] = new
                bodyValue[new] = old
            }
        }
        let seeded = Array(body.outputs.prefix(carries + outputs))
        let seeds = seeded.enumerated().map { index, output in
            scratch.addInput(name: "d_out\(index)", type: body.type(of: output))
        }
        let firstGradientNode = scratch.nodes.count
        let pairs = zip(seeded, seeds).compactMap { output, seed in values[output].map { ($0, seed) } }
        let inputCotangents = try ReverseMode.vectorJacobianProduct(seeds: pairs, withRespectTo: bodyInputs, in: scratch)
        // What the gradient reads of the forward step: computed values and incoming carries.
        let carryInputs = Set(bodyInputs[sequences..<(sequences + carries)])
        var residuals: [ValueID] = []
        var seen: Set<ValueID> = []
        func record(_ value: ValueID) {
            guard let original = bodyValue[value], !seen.contains(value) else { return }
            let computed = body.definingNode(of: original) != nil
            guard computed || carryInputs.contains(value) else { return }
            seen.insert(value)
            residuals.append(value)
        }
        for node in scratch.nodes[firstGradientNode...] { node.operands.forEach(record) }
        for cotangent in inputCotangents.compactMap({ $0 }) { record(cotangent) }
        return Analysis(scratch: scratch, bodyInputs: bodyInputs, seeds: seeds, inputCotangents: inputCotangents,
                        firstGradientNode: firstGradientNode, residuals: residuals, bodyValue: bodyValue)
    }

    static func counts(_ node: Node) throws -> (sequences: Int, carries: Int, residuals: Int) {
        let attributes = AttributeReader(node.attributes)
        let residuals = (try? attributes.int("residuals")) ?? 0
        return (try attributes.int("sequences"), try attributes.int("carries"), residuals)
    }

    /// The forward scan rewritten to also stack its residuals.
    static func expose(_ node: Node, in graph: Graph) throws -> Node {
        guard let body = node.regions.first else { throw OpError("scan without a body", location: node.location) }
        let (sequences, carries, residualCount) = try counts(node)
        guard residualCount == 0 else { return node }
        let outputs = body.outputs.count - carries
        let analysis = try analyse(body, sequences: sequences, carries: carries, outputs: outputs)
        guard !analysis.residuals.isEmpty else { return node }
        let (exposed, copied) = body.copyMappingValues()
        exposed.setOutputs(exposed.outputs + analysis.residuals.compactMap { analysis.bodyValue[$0].flatMap { copied[$0] } })
        let steps = graph.type(of: node.operands[0]).shape.dims[1]
        var rewritten = node
        rewritten.regions = [exposed]
        rewritten.attributes["residuals"] = .int(analysis.residuals.count)
        for residual in analysis.residuals {
            var dims = analysis.scratch.type(of: residual).shape.dims
            dims.insert(steps, at: Swift.min(1, dims.count))
            rewritten.results.append(graph.makeValue(TensorType(analysis.scratch.type(of: residual).dtype, Shape(dims))))
        }
        return rewritten
    }

    static func rule(_ c: GradientContext) throws -> [ValueID?] {
        let node = c.node, b = c.builder, graph = b.graph
        guard let body = node.regions.first else { throw OpError("scan without a body", location: node.location) }
        let (sequenceCount, carryCount, residualCount) = try counts(node)
        let outputCount = body.outputs.count - carryCount - residualCount
        let analysis = try analyse(body, sequences: sequenceCount, carries: carryCount, outputs: outputCount)
        let reverse = (try? c.attributes.bool("reverse")) ?? false
        let operands = node.operands
        let captureRange = (sequenceCount + carryCount)..<operands.count

        // The stored residuals, by the body values they hold.
        var storedResidual: [ValueID: Int] = [:]
        for (index, output) in body.outputs.suffix(residualCount).enumerated() { storedResidual[output] = carryCount + outputCount + index }
        let scratch = analysis.scratch
        let backward = Graph(name: "\(body.name).backward")
        var mapping: [ValueID: ValueID] = [:]
        var sequenceOperands: [ValueID] = []

        // Sequences: cotangents of the stacked outputs that have one (the others are zero inside).
        for (index, seed) in analysis.seeds.enumerated().dropFirst(carryCount) {
            if let cotangent = c.resultCotangents[index] {
                mapping[seed] = backward.addInput(name: "d_out\(index)", type: scratch.type(of: seed))
                sequenceOperands.append(cotangent)
            }
        }
        // The residuals the gradient reads, then the forward sequences it reads.
        for residual in analysis.residuals {
            guard let original = analysis.bodyValue[residual], let result = storedResidual[original] else {
                throw OpError("internal: scan residual not stored by the forward pass", location: node.location)
            }
            mapping[residual] = backward.addInput(name: "residual\(sequenceOperands.count)", type: scratch.type(of: residual))
            sequenceOperands.append(node.results[result])
        }
        let used = Set(scratch.nodes[analysis.firstGradientNode...].flatMap(\.operands)).union(analysis.inputCotangents.compactMap { $0 })
        for (index, input) in analysis.bodyInputs.prefix(sequenceCount).enumerated() where used.contains(input) || sequenceOperands.isEmpty {
            mapping[input] = backward.addInput(name: "x\(index)_t", type: scratch.type(of: input))
            sequenceOperands.append(operands[index])
        }

        // Carries: the carries' cotangents, then one accumulator per capture that needs a gradient.
        var carryOperands: [ValueID] = []
        for index in 0..<carryCount {
            let seed = analysis.seeds[index]
            mapping[seed] = backward.addInput(name: "d_state\(index)", type: scratch.type(of: seed))
            carryOperands.append(try c.resultCotangents[index] ?? b.zeros(like: node.results[index]))
        }
        let capturesNeeded = captureRange.filter { c.needsGradient[$0] && c.isDifferentiable(operands[$0]) }
        var accumulators: [ValueID] = []
        for index in capturesNeeded {
            accumulators.append(backward.addInput(name: "d_capture\(index)", type: graph.type(of: operands[index])))
            carryOperands.append(try b.zeros(like: operands[index]))
        }
        // Captures the gradient reads (weights).
        var captureOperands: [ValueID] = []
        for index in captureRange where used.contains(analysis.bodyInputs[index]) {
            mapping[analysis.bodyInputs[index]] = backward.addInput(name: "w\(index)", type: graph.type(of: operands[index]))
            captureOperands.append(operands[index])
        }

        // The gradient's nodes, reading the backward body's inputs.
        for scratchNode in scratch.nodes[analysis.firstGradientNode...] {
            let operands = try scratchNode.operands.map { operand -> ValueID in
                if let mapped = mapping[operand] { return mapped }
                // A seed with no input is the cotangent of an output nothing reads: zeros.
                if let seedIndex = analysis.seeds.firstIndex(of: operand) {
                    let zero = try GraphBuilder(backward).filled(0, scratch.type(of: analysis.seeds[seedIndex]))
                    mapping[operand] = zero
                    return zero
                }
                throw OpError("internal: the scan body's gradient reads a value the backward scan does not have", location: node.location)
            }
            let results = backward.appendCopy(of: scratchNode, from: scratch, operands: operands)
            for (old, new) in zip(scratchNode.results, results) { mapping[old] = new }
        }
        let bodyBuilder = GraphBuilder(backward, location: node.location)
        func cotangent(ofInput index: Int) throws -> ValueID {
            let input = analysis.bodyInputs[index]
            guard let value = analysis.inputCotangents[index], let mapped = mapping[value] else {
                return try bodyBuilder.filled(0, scratch.type(of: input))
            }
            return mapped
        }
        var bodyOutputs: [ValueID] = []
        for index in sequenceCount..<(sequenceCount + carryCount) { bodyOutputs.append(try cotangent(ofInput: index)) }
        for (accumulator, index) in zip(accumulators, capturesNeeded) {
            bodyOutputs.append(try bodyBuilder.add(accumulator, try cotangent(ofInput: index)))
        }
        let sequencesNeeded = (0..<sequenceCount).filter { c.needsGradient[$0] && c.isDifferentiable(operands[$0]) }
        for index in sequencesNeeded { bodyOutputs.append(try cotangent(ofInput: index)) }
        backward.setOutputs(bodyOutputs)

        let results = try graph.append(.scan, sequenceOperands + carryOperands + captureOperands, attributes: [
            "sequences": .int(sequenceOperands.count), "carries": .int(carryOperands.count), "reverse": .bool(!reverse),
        ], regions: [backward], location: node.location)
        var cotangents = [ValueID?](repeating: nil, count: operands.count)
        for index in 0..<carryCount { cotangents[sequenceCount + index] = results[index] }
        for (position, index) in capturesNeeded.enumerated() { cotangents[index] = results[carryCount + position] }
        for (position, index) in sequencesNeeded.enumerated() { cotangents[index] = results[carryCount + capturesNeeded.count + position] }
        return cotangents
    }
}
