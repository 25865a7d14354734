import DLMGraph

/// One training step of a model as a single graph: the forward pass in
/// training mode, the loss, the backward pass (`ReverseMode`) and the
/// optimiser's update of every parameter. Parameters, optimiser slots and
/// running statistics are inputs whose new values are outputs (the trainer
/// feeds each output back as the next step's input), so the whole step is
/// fused, memory-planned and compiled like any other graph.
///
/// The same builder makes the evaluation graph (`training: false`): the
/// inference-mode forward pass and the loss, no update.
public struct TrainStep {
    /// Graph input names that are not the model's own inputs or state.
    public enum InputName {
        public static let target = "train.target"
        public static let learningRate = "train.learning_rate"
        public static let iteration = "train.iteration"
        public static let dropoutStep = "train.dropout_step"
    }

    /// The step graph. Inputs: the model's inputs, the target, then (training
    /// only) the learning rate, the 1-based step number and, when the model
    /// has dropout, the 0-based step as i64; then every state tensor.
    /// Outputs: the loss, the model's first output (for metrics), then the
    /// new value of each updated state tensor.
    public let graph: Graph
    /// Names of the state inputs, in input order: parameters (by their names), then optimiser slots (`slotName`).
    public let stateNames: [String]
    /// The parameter each optimiser slot belongs to, by slot state name.
    public let slotOwners: [String: String]
    /// For each output after the first two, the name of the state it updates.
    public let updatedState: [String]

    /// Index of the loss among the outputs.
    public static let lossOutput = 0
    /// Index of the prediction among the outputs.
    public static let predictionOutput = 1

    /// Builds the step of `model` (its graph as lowered, before any pass) for `config`.
    public static func build(_ model: LoweredModel, config: TrainingConfig, training: Bool) throws -> TrainStep {
        let source = model.graph
        guard let output = source.outputs.first else { throw OpError("model '\(model.name)' has no output to train") }
        let graph = Graph(name: training ? "\(model.name).train_step" : "\(model.name).evaluate")
        var values: [ValueID: ValueID] = [:]
        for input in source.inputs {
            values[input] = graph.addInput(name: source.name(of: input) ?? "input", type: source.type(of: input))
        }
        let predictionType = source.type(of: output)
        let target = graph.addInput(name: InputName.target, type: LossBuilder.targetType(for: config.loss, prediction: predictionType))
        let dtype = predictionType.dtype
        let scalar = TensorType(dtype, Shape([]))
        let hasDropout = source.nodes.contains { $0.op == .dropout }
        let learningRate = training ? graph.addInput(name: InputName.learningRate, type: scalar) : nil
        let iteration = training ? graph.addInput(name: InputName.iteration, type: scalar) : nil
        let dropoutStep = training && hasDropout ? graph.addInput(name: InputName.dropoutStep, type: TensorType(.i64, Shape([]))) : nil

        var stateNames: [String] = []
        var parameterInputs: [String: ValueID] = [:]
        for parameter in source.parameters {
            let input = graph.addInput(name: parameter.name, type: parameter.type)
            values[parameter.value] = input
            parameterInputs[parameter.name] = input
            stateNames.append(parameter.name)
        }
        let trainable = source.parameters.filter(\.isTrainable)
        let slotNames = OptimizerBuilder.slotNames(of: config.optimizer)
        var slotInputs: [String: [ValueID]] = [:]
        var slotOwners: [String: String] = [:]
        if training {
            for parameter in trainable {
                slotInputs[parameter.name] = try slotNames.map { slot in
                    let name = slotName(slot, of: parameter.name)
                    guard source.parameter(named: name) == nil else {
                        throw OpError("the model has a parameter named '\(name)', the name of an optimiser slot; rename it")
                    }
                    stateNames.append(name)
                    slotOwners[name] = parameter.name
                    return graph.addInput(name: name, type: parameter.type)
                }
            }
        }

        // The forward pass, in training mode: dropout draws its mask for this step, batch norm uses batch statistics.
        var batchStatistics: [(site: BatchNormSite, mean: ValueID, variance: ValueID)] = []
        let sites = training ? model.batchNorms : []
        for node in source.nodes {
            var operands = node.operands.map { values[$0] ?? $0 }
            if let dropoutStep, node.op == .dropout { operands.append(dropoutStep) }
            for site in sites where node.operands.contains(site.mean) || node.operands.contains(site.variance) {
                if !batchStatistics.contains(where: { $0.site == site }), let x = values[site.input] {
                    let b = GraphBuilder(graph, location: node.location)
                    let moments = try batchMoments(of: x, axis: site.axis, in: b)
                    batchStatistics.append((site, moments.mean, moments.variance))
                    values[site.mean] = try b.reshape(moments.mean, to: source.type(of: site.mean).shape)
                    values[site.variance] = try b.reshape(moments.variance, to: source.type(of: site.variance).shape)
                }
                operands = zip(node.operands, operands).map { original, mapped in
                    original == site.mean || original == site.variance ? (values[original] ?? mapped) : mapped
                }
            }
            let results = graph.appendCopy(of: node, from: source, operands: operands)
            for (old, new) in zip(node.results, results) { values[old] = new }
        }
        guard let prediction = values[output] else { throw OpError("internal: the model's output was not copied") }

        let b = GraphBuilder(graph, location: config.data.range)
        var loss = try LossBuilder.build(config.loss, prediction: prediction, target: target, in: b)
        for parameter in source.parameters {
            guard let regularizer = model.regularizers[parameter.name], let weight = parameterInputs[parameter.name] else { continue }
            loss = try b.add(loss, try LossBuilder.penalty(regularizer, of: weight, in: b))
        }
        var outputs = [loss, prediction]
        var updated: [String] = []
        if training, let learningRate, let iteration {
            let weights = trainable.compactMap { parameterInputs[$0.name] }
            let gradients = try ReverseMode.gradients(of: loss, withRespectTo: weights, in: graph)
            let scalars = OptimizerBuilder.Scalars(learningRate: learningRate, step: iteration)
            for (parameter, (weight, gradient)) in zip(trainable, zip(weights, gradients)) {
                let g = try config.clipNorm.map { try OptimizerBuilder.clipped(gradient, toNorm: $0, in: b) } ?? gradient
                let slots = slotInputs[parameter.name] ?? []
                let update = try OptimizerBuilder.update(config.optimizer, parameter: weight, gradient: g, slots: slots, scalars: scalars, in: b)
                outputs.append(update.parameter)
                updated.append(parameter.name)
                for (slot, value) in zip(slotNames, update.slots) {
                    outputs.append(value)
                    updated.append(slotName(slot, of: parameter.name))
                }
            }
            for entry in batchStatistics {
                for (name, batch) in [(entry.site.meanParameter, entry.mean), (entry.site.varianceParameter, entry.variance)] {
                    guard let moving = parameterInputs[name] else { continue }
                    let flat = try b.reshape(batch, to: graph.type(of: moving).shape)
                    let momentum = entry.site.momentum
                    outputs.append(try b.add(try b.scaled(moving, by: momentum), try b.scaled(flat, by: 1 - momentum)))
                    updated.append(name)
                }
            }
        }
        graph.setOutputs(outputs, names: ["loss", "prediction"] + updated)
        try verifyOrThrow(graph)
        return TrainStep(graph: graph, stateNames: stateNames, slotOwners: slotOwners, updatedState: updated)
    }

    /// The state name of an optimiser slot: `optimizer.m.dense1.weight`.
    public static func slotName(_ slot: String, of parameter: String) -> String { "optimizer.\(slot).\(parameter)" }

    /// The mean and biased variance of `x` over every axis but `axis`, kept as size-1 axes.
    static func batchMoments(of x: ValueID, axis: Int, in b: GraphBuilder) throws -> (mean: ValueID, variance: ValueID) {
        let shape = b.shape(of: x)
        let axes = (0..<shape.rank).filter { $0 != axis }
        let mean = try b.reduce("mean", x, axes: axes, keepDims: true)
        let centered = try b.sub(x, try b.broadcast(mean, to: shape))
        let variance = try b.reduce("mean", try b.mul(centered, centered), axes: axes, keepDims: true)
        return (mean, variance)
    }
}
