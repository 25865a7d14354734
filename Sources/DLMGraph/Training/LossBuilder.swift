/// Losses as graph builders, with Keras's numerics: every loss is the mean
/// over the batch (and any other leading axes) of a per-example loss
/// ("sum_over_batch_size"); cross-entropies on probabilities clip them to
/// [1e-7, 1 - 1e-7]; and a softmax or sigmoid output followed by a
/// cross-entropy on probabilities is differentiated in the stable logits
/// form instead (the clip then never applies).
public enum LossBuilder {
    /// Keras's `epsilon()`, the clip of probabilities.
    public static let epsilon = 1e-7

    /// The type the targets of `loss` must have for predictions of `prediction`:
    /// class ids (i32, the prediction's shape without its class axis) for the
    /// sparse cross-entropy, the prediction's own type otherwise.
    public static func targetType(for loss: Loss, prediction: TensorType) -> TensorType {
        if case .sparseCategoricalCrossEntropy = loss {
            return TensorType(.i32, Shape(Array(prediction.shape.dims.dropLast())))
        }
        return prediction
    }

    /// The scalar loss of `prediction` against `target` (of `targetType`).
    public static func build(_ loss: Loss, prediction: ValueID, target: ValueID, in b: GraphBuilder) throws -> ValueID {
        let classAxis = b.shape(of: prediction).rank - 1
        switch loss {
        case .meanSquaredError:
            let difference = try b.sub(prediction, target)
            return try b.meanAll(try b.mul(difference, difference))
        case .meanAbsoluteError:
            return try b.meanAll(try b.abs(try b.sub(prediction, target)))
        case .binaryCrossEntropy(let fromLogits):
            if let logits = fromLogits ? prediction : logits(of: prediction, activation: .sigmoid, in: b.graph) {
                // max(x, 0) - x·t + log(1 + exp(-|x|)), exact for every x.
                let positive = try b.emit(.relu, [logits])
                let softplus = try b.log(try b.shifted(try b.exp(try b.neg(try b.abs(logits))), by: 1))
                return try b.meanAll(try b.add(try b.sub(positive, try b.mul(logits, target)), softplus))
            }
            let p = try clipped(prediction, in: b)
            let one = try b.filled(1, like: p)
            let terms = try b.add(try b.mul(target, try b.log(p)), try b.mul(try b.sub(one, target), try b.log(try b.sub(one, p))))
            return try b.meanAll(try b.neg(terms))
        case .categoricalCrossEntropy(let fromLogits, let smoothing):
            var t = target
            if smoothing > 0 {
                let classes = b.shape(of: prediction).dims[classAxis].constantValue ?? 1
                t = try b.shifted(try b.scaled(target, by: 1 - smoothing), by: smoothing / Double(classes))
            }
            return try crossEntropy(prediction, oneHot: t, fromLogits: fromLogits, axis: classAxis, in: b)
        case .sparseCategoricalCrossEntropy(let fromLogits):
            let classes = b.shape(of: prediction).dims[classAxis]
            guard let depth = classes.constantValue else {
                throw OpError("sparse_categorical_crossentropy needs a fixed number of classes, not \(classes)", location: b.location)
            }
            return try crossEntropy(prediction, oneHot: try oneHot(target, classes: depth, like: prediction, in: b),
                                    fromLogits: fromLogits, axis: classAxis, in: b)
        }
    }

    /// One-hot rows of class ids, as `ids[..., newaxis] == [0, 1, …, C-1]`: elementwise ops that
    /// fuse into the loss's kernels (a `one_hot` node would be a kernel of its own).
    static func oneHot(_ ids: ValueID, classes: Int, like prediction: ValueID, in b: GraphBuilder) throws -> ValueID {
        let shape = b.shape(of: prediction)
        let idType = b.type(of: ids).dtype
        let classIndex = try b.emit(.constant, [], ["dtype": .dtype(idType), "shape": .dims([.constant(classes)]),
                                                    "values": .floats((0..<classes).map(Double.init))])
        let column = try b.reshape(ids, to: Shape(b.shape(of: ids).dims + [1]))
        let hits = try b.compare(.eq, try b.broadcast(column, to: shape), try b.broadcast(classIndex, to: shape))
        return try b.cast(hits, to: b.type(of: prediction).dtype)
    }

    /// -Σ t·log p over the class axis, averaged over the rest.
    private static func crossEntropy(_ prediction: ValueID, oneHot t: ValueID, fromLogits: Bool, axis: Int, in b: GraphBuilder) throws -> ValueID {
        let logProbabilities: ValueID
        if let logits = fromLogits ? prediction : logits(of: prediction, activation: .softmax, in: b.graph) {
            logProbabilities = try logSoftmax(logits, axis: axis, in: b)
        } else {
            // Keras renormalises the rows, then clips.
            let total = try b.broadcast(try b.reduce("sum", prediction, axes: [axis], keepDims: true), to: b.shape(of: prediction))
            logProbabilities = try b.log(try clipped(try b.div(prediction, total), in: b))
        }
        return try b.meanAll(try b.neg(try b.reduce("sum", try b.mul(t, logProbabilities), axes: [axis])))
    }

    /// x - max - log Σ exp(x - max) along an axis.
    static func logSoftmax(_ x: ValueID, axis: Int, in b: GraphBuilder) throws -> ValueID {
        let shape = b.shape(of: x)
        let shifted = try b.sub(x, try b.broadcast(try b.reduce("max", x, axes: [axis], keepDims: true), to: shape))
        let total = try b.reduce("sum", try b.exp(shifted), axes: [axis], keepDims: true)
        return try b.sub(shifted, try b.broadcast(try b.log(total), to: shape))
    }

    private static func clipped(_ p: ValueID, in b: GraphBuilder) throws -> ValueID {
        try b.minimum(try b.maximum(p, try b.filled(epsilon, like: p)), try b.filled(1 - epsilon, like: p))
    }

    /// The activation a prediction came from, when it is the model's last step.
    enum OutputActivation { case softmax, sigmoid }

    /// The logits behind `value` when it is `sigmoid(logits)` or a softmax of
    /// logits over the last axis (the composition the lowering emits:
    /// `e / Σe` with `e = exp(x - max x)`); `nil` otherwise.
    static func logits(of value: ValueID, activation: OutputActivation, in graph: Graph) -> ValueID? {
        func node(_ v: ValueID) -> Node? { graph.definingNode(of: v).map { graph.nodes[$0] } }
        func throughBroadcast(_ v: ValueID) -> ValueID { node(v).flatMap { $0.op == .broadcast ? $0.operands[0] : nil } ?? v }
        func isReduce(_ n: Node?, _ kind: String, over axis: Int) -> Bool {
            guard let n, n.op == .reduce else { return false }
            return n.attributes["kind"] == .string(kind) && n.attributes["axes"] == .ints([axis])
        }
        guard let output = node(value) else { return nil }
        switch activation {
        case .sigmoid:
            return output.op == .sigmoid ? output.operands[0] : nil
        case .softmax:
            let axis = graph.type(of: value).shape.rank - 1
            guard output.op == .div, let total = node(throughBroadcast(output.operands[1])), isReduce(total, "sum", over: axis),
                  total.operands[0] == output.operands[0], let e = node(output.operands[0]), e.op == .exp,
                  let shifted = node(e.operands[0]), shifted.op == .sub,
                  let peak = node(throughBroadcast(shifted.operands[1])), isReduce(peak, "max", over: axis),
                  peak.operands[0] == shifted.operands[0] else { return nil }
            return shifted.operands[0]
        }
    }

    /// The weight penalty of a regularizer: l1·Σ|w| + l2·Σw² (Keras's definitions).
    public static func penalty(_ regularizer: Regularizer, of weight: ValueID, in b: GraphBuilder) throws -> ValueID {
        func l1(_ factor: Double) throws -> ValueID { try b.scaled(try b.sumAll(try b.abs(weight)), by: factor) }
        func l2(_ factor: Double) throws -> ValueID { try b.scaled(try b.sumAll(try b.mul(weight, weight)), by: factor) }
        switch regularizer {
        case .l1(let factor): return try l1(factor)
        case .l2(let factor): return try l2(factor)
        case .l1l2(let a, let c): return try b.add(try l1(a), try l2(c))
        }
    }
}
