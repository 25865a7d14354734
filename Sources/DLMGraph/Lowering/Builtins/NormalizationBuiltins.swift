import DLMSyntax

/// Batch and layer normalisation, as compositions of primitive ops.
enum NormalizationBuiltins {
    static let all: [Builtin] = [
        Builtin("batchnorm", "x, axis?, momentum?, epsilon?, center?, scale?, name?", layer: "bn",
                "Normalises with running statistics: (x - mean) / sqrt(variance + epsilon) * gamma + beta over one axis (default: the last).") { lowerer, args in
            try lowerer.batchNorm(args)
        },
        Builtin("layernorm", "x, axis?, epsilon?, center?, scale?, name?", layer: "ln",
                "Normalises each example over one axis (default: the last), then scales by gamma and shifts by beta.") { lowerer, args in
            try lowerer.layerNorm(args)
        },
    ]
}

extension Lowerer {
    /// Gamma and beta (when enabled) of a normalisation over a feature axis of fixed size.
    private func normalisationScaleShift(_ args: CallArguments, x: TensorRef, axis: Int, normalized: TensorRef) throws -> TensorRef {
        let layer = args.callee.name
        guard let features = x.type.shape.dims[axis].constantValue else {
            throw fail(.symbolicFeatures(layer, x.type.description), at: args.range(of: "x"))
        }
        let featureType = TensorType(x.type.dtype, Shape([.constant(features)]))
        var y = normalized
        if try args.bool("scale", default: true) {
            let gamma = try parameter("\(args.layerName).gamma", featureType, initializer: .ones, at: args.callee.range)
            y = try elementwise(.mul, y, try alongAxis(gamma, axis: axis, rank: x.type.shape.rank, at: args.range), at: args.range, symbol: layer)
        }
        if try args.bool("center", default: true) {
            let beta = try parameter("\(args.layerName).beta", featureType, initializer: .zeros, at: args.callee.range)
            y = try elementwise(.add, y, try alongAxis(beta, axis: axis, rank: x.type.shape.rank, at: args.range), at: args.range, symbol: layer)
        }
        return y
    }

    /// Reshapes a per-feature vector so it broadcasts along `axis` of a rank-`rank` tensor.
    private func alongAxis(_ v: TensorRef, axis: Int, rank: Int, at range: SourceRange) throws -> TensorRef {
        var dims = [Dim](repeating: .constant(1), count: rank - axis)
        dims[0] = v.type.shape.dims[0]
        return try reshape(v, to: Shape(dims), at: range)
    }

    func batchNorm(_ args: CallArguments) throws -> LoweredValue {
        let x = try args.tensor("x")
        guard x.type.dtype.isFloatingPoint, x.type.shape.rank >= 2 else {
            throw fail(.needsRank("batchnorm", "at least 2 (a batch of features)", x.type.description), at: args.range(of: "x"))
        }
        let rank = x.type.shape.rank
        let axis = try args.axis("axis", rank: rank, default: -1)
        guard axis != 0 else { throw fail(.batchNormOverBatch, at: args.range(of: "axis")) }
        let momentum = try args.fraction("momentum", default: 0.99)
        let epsilon = try args.float("epsilon", default: 0.001)
        guard let features = x.type.shape.dims[axis].constantValue else {
            throw fail(.symbolicFeatures("batchnorm", x.type.description), at: args.range(of: "x"))
        }
        let featureType = TensorType(x.type.dtype, Shape([.constant(features)]))
        // Running statistics are parameters that training updates but the optimiser does not.
        let mean = try parameter("\(args.layerName).moving_mean", featureType, initializer: .zeros, isTrainable: false, at: args.callee.range)
        let variance = try parameter("\(args.layerName).moving_variance", featureType, initializer: .ones, isTrainable: false, at: args.callee.range)
        let meanAlongAxis = try alongAxis(mean, axis: axis, rank: rank, at: args.range)
        let varianceAlongAxis = try alongAxis(variance, axis: axis, rank: rank, at: args.range)
        if x.level == 0 {
            batchNorms.append(BatchNormSite(input: x.id, axis: axis, momentum: momentum, mean: meanAlongAxis.id, variance: varianceAlongAxis.id,
                                            meanParameter: "\(args.layerName).moving_mean", varianceParameter: "\(args.layerName).moving_variance"))
        }
        let centered = try elementwise(.sub, x, meanAlongAxis, at: args.range, symbol: "batchnorm")
        let shifted = try elementwise(.add, varianceAlongAxis,
                                      try constant(epsilon, dtype: x.type.dtype, at: args.range), at: args.range, symbol: "batchnorm")
        let inverse = try emit1(.rsqrt, [shifted], at: args.range)
        let normalized = try elementwise(.mul, centered, inverse, at: args.range, symbol: "batchnorm")
        return .tensor(try normalisationScaleShift(args, x: x, axis: axis, normalized: normalized))
    }

    func layerNorm(_ args: CallArguments) throws -> LoweredValue {
        let x = try args.tensor("x")
        guard x.type.dtype.isFloatingPoint, x.type.shape.rank >= 1 else {
            throw fail(.needsRank("layernorm", "at least 1", x.type.description), at: args.range(of: "x"))
        }
        let rank = x.type.shape.rank
        let axis = try args.axis("axis", rank: rank, default: -1)
        let epsilon = try args.float("epsilon", default: 0.001)
        let mean = try reduce("mean", x, axes: [axis], keepDims: true, at: args.range)
        let centered = try elementwise(.sub, x, mean, at: args.range, symbol: "layernorm")
        let squared = try emit1(.mul, [centered, centered], at: args.range)
        let variance = try reduce("mean", squared, axes: [axis], keepDims: true, at: args.range)
        let shifted = try elementwise(.add, variance, try constant(epsilon, dtype: x.type.dtype, at: args.range), at: args.range, symbol: "layernorm")
        let inverse = try emit1(.rsqrt, [shifted], at: args.range)
        let normalized = try elementwise(.mul, centered, inverse, at: args.range, symbol: "layernorm")
        return .tensor(try normalisationScaleShift(args, x: x, axis: axis, normalized: normalized))
    }
}
