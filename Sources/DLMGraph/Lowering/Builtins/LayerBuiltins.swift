import DLMSyntax

/// Layers with weights or windows: dense, conv2d, pooling, dropout, embedding.
enum LayerBuiltins {
    static let all: [Builtin] = [
        Builtin("dense", "x, units, activation?, use_bias?, kernel_initializer?, bias_initializer?, kernel_regularizer?, bias_regularizer?, name?",
                layer: "dense", "A fully connected layer: activation(x @ weight + bias) over the last axis.") { lowerer, args in
            try lowerer.dense(args)
        },
        Builtin("conv2d", "x, filters, kernel, strides?, padding?, dilation?, activation?, use_bias?, kernel_initializer?, bias_initializer?, kernel_regularizer?, bias_regularizer?, name?",
                layer: "conv", "A 2-D convolution over NHWC images with HWIO weights.") { lowerer, args in
            try lowerer.conv2d(args)
        },
        Builtin("maxpool2d", "x, size?, strides?, padding?, name?", layer: "maxpool", "Max pooling over NHWC windows (default 2×2, stride = size).") { lowerer, args in
            try lowerer.pool2d(args, kind: "max")
        },
        Builtin("avgpool2d", "x, size?, strides?, padding?, name?", layer: "avgpool", "Average pooling over NHWC windows (default 2×2, stride = size).") { lowerer, args in
            try lowerer.pool2d(args, kind: "avg")
        },
        Builtin("global_avgpool", "x, name?", layer: "gap", "The mean over height and width: [B, H, W, C] to [B, C].") { lowerer, args in
            let x = try args.tensor("x")
            try lowerer.requireImage(x, "global_avgpool", at: args.range(of: "x"))
            return .tensor(try lowerer.reduce("mean", x, axes: [1, 2], keepDims: false, at: args.range))
        },
        Builtin("dropout", "x, rate, seed?, name?", layer: "dropout", "Zeroes a fraction of values while training (scaled to keep the mean); identity when running.") { lowerer, args in
            let x = try args.tensor("x")
            guard x.type.dtype.isFloatingPoint else { throw lowerer.fail(.needsFloat("dropout", x.type.description), at: args.range) }
            let rate = try args.fraction("rate", default: 0)
            let seed = try args.int("seed", default: 0)
            return .tensor(try lowerer.emit1(.dropout, [x], attributes: ["rate": .float(rate), "seed": .int(seed)], at: args.range))
        },
        Builtin("embedding", "x, input_dim, output_dim, embeddings_initializer?, embeddings_regularizer?, name?",
                layer: "embedding", "Looks up a learned vector per integer id: [B, T] ids to [B, T, output_dim].") { lowerer, args in
            let x = try args.tensor("x")
            guard x.type.dtype.isInteger else {
                let input = if case .name(let id)? = args.expression("x") { "'\(id.name)'" } else { "the input" }
                throw lowerer.fail(.argumentType("x", "embedding", "integer ids (i32 or i64)", x.type.description), at: args.range(of: "x"),
                                   notes: [DiagnosticNote("declare \(input) as i32\(x.type.shape)")])
            }
            let vocabulary = try args.size("input_dim"), width = try args.size("output_dim")
            let initializer = try args.initializer("embeddings_initializer", default: .uniform(low: -0.05, high: 0.05))
            try lowerer.recordRegularizer(args, "embeddings_regularizer", for: "\(args.layerName).weight")
            let table = try lowerer.parameter("\(args.layerName).weight", TensorType(.f32, Shape([.constant(vocabulary), .constant(width)])),
                                              initializer: initializer, at: args.callee.range)
            return .tensor(try lowerer.emit1(.gather, [table, x], attributes: ["axis": .int(0)], at: args.range))
        },
    ]
}

extension Lowerer {
    /// Reports a non-NHWC input to an image layer.
    func requireImage(_ x: TensorRef, _ layer: String, at range: SourceRange) throws {
        guard x.type.shape.rank == 4 else {
            var notes: [DiagnosticNote] = []
            let dims = x.type.shape.dims
            if dims.count == 2, let n = dims[1].constantValue, let side = Self.squareRoot(n) {
                // `[B, 784]` is most likely a flattened 28×28 single-channel image.
                let target = "[\(dims[0]), \(side), \(side), 1]"
                let written = range.file.text(of: range)
                let fix = Self.isValidParameterName(written) && written != layer ? "reshape it first: reshape(\(written), \(target))" : "reshape it to \(target) first"
                notes.append(DiagnosticNote("if it is a flattened \(side)×\(side) image, \(fix)"))
            } else if dims.count == 2 || dims.count == 3 {
                notes.append(DiagnosticNote("reshape it to [batch, height, width, channels] before \(layer)"))
            }
            throw fail(.expectsImage(layer, x.type.description), at: range, notes: notes)
        }
        guard x.type.dtype.isFloatingPoint else { throw fail(.needsFloat(layer, x.type.description), at: range) }
    }

    /// The whole square root of `n` when `n` is a perfect square above 1.
    static func squareRoot(_ n: Int) -> Int? {
        guard n > 1 else { return nil }
        let side = Int(Double(n).squareRoot().rounded())
        let (square, overflow) = side.multipliedReportingOverflow(by: side)
        return !overflow && square == n ? side : nil
    }

    /// Records a `…_regularizer:` argument against a parameter name.
    func recordRegularizer(_ args: CallArguments, _ argument: String, for parameter: String) throws {
        if let regularizer = try args.regularizer(argument) { regularizers[parameter] = regularizer }
    }

    func dense(_ args: CallArguments) throws -> LoweredValue {
        let x = try args.tensor("x")
        let shape = x.type.shape
        guard shape.rank == 2 || shape.rank == 3 else {
            let notes = shape.rank >= 4 ? [DiagnosticNote("add flatten before dense")] : []
            throw fail(.denseRank(x.type.description), at: args.range(of: "x"), notes: notes)
        }
        guard x.type.dtype.isFloatingPoint else {
            throw fail(.needsFloat("dense", x.type.description), at: args.range(of: "x"), notes: [DiagnosticNote("convert it first: cast(x, f32)")])
        }
        let units = try args.size("units")
        let activation = try args.activation()
        let name = args.layerName
        let inputs = shape.dims[shape.rank - 1]
        guard let fanIn = inputs.constantValue else {
            throw fail(.symbolicFeatures("dense", x.type.description), at: args.range(of: "x"))
        }
        try recordRegularizer(args, "kernel_regularizer", for: "\(name).weight")
        let weight = try parameter("\(name).weight", TensorType(x.type.dtype, Shape([.constant(fanIn), .constant(units)])),
                                   initializer: try args.initializer("kernel_initializer", default: .glorotUniform), at: args.callee.range)
        var y = try matmul(x, weight, at: args.range)
        if try args.bool("use_bias", default: true) {
            try recordRegularizer(args, "bias_regularizer", for: "\(name).bias")
            let bias = try parameter("\(name).bias", TensorType(x.type.dtype, Shape([.constant(units)])),
                                     initializer: try args.initializer("bias_initializer", default: .zeros), at: args.callee.range)
            y = try elementwise(.add, y, bias, at: args.range, symbol: "dense")
        }
        return .tensor(try applyActivation(activation, to: y, at: args.range))
    }

    func conv2d(_ args: CallArguments) throws -> LoweredValue {
        let x = try args.tensor("x")
        try requireImage(x, "conv2d", at: args.range(of: "x"))
        let filters = try args.size("filters")
        let kernel = try args.sizes("kernel", count: 2)
        let strides = try args.sizes("strides", count: 2, default: [1, 1])
        let dilation = try args.sizes("dilation", count: 2, default: [1, 1])
        let padding = try args.choice("padding", ["valid", "same"], default: "valid")
        let activation = try args.activation()
        let dims = x.type.shape.dims
        guard let channels = dims[3].constantValue else {
            throw fail(.symbolicFeatures("conv2d", x.type.description), at: args.range(of: "x"))
        }
        let pads = try windowPadding(layer: "conv2d", input: x, window: kernel, strides: strides, dilation: dilation,
                                     padding: padding, at: args)
        let name = args.layerName
        try recordRegularizer(args, "kernel_regularizer", for: "\(name).weight")
        let weightType = TensorType(x.type.dtype, Shape([.constant(kernel[0]), .constant(kernel[1]), .constant(channels), .constant(filters)]))
        let weight = try parameter("\(name).weight", weightType,
                                   initializer: try args.initializer("kernel_initializer", default: .glorotUniform), at: args.callee.range)
        var y = try emit1(.conv2d, [x, weight], attributes: [
            "strides": .ints(strides), "dilations": .ints(dilation), "padding": .ints(pads),
        ], at: args.range)
        if try args.bool("use_bias", default: true) {
            try recordRegularizer(args, "bias_regularizer", for: "\(name).bias")
            let bias = try parameter("\(name).bias", TensorType(x.type.dtype, Shape([.constant(filters)])),
                                     initializer: try args.initializer("bias_initializer", default: .zeros), at: args.callee.range)
            y = try elementwise(.add, y, bias, at: args.range, symbol: "conv2d")
        }
        return .tensor(try applyActivation(activation, to: y, at: args.range))
    }

    func pool2d(_ args: CallArguments, kind: String) throws -> LoweredValue {
        let layer = kind == "max" ? "maxpool2d" : "avgpool2d"
        let x = try args.tensor("x")
        try requireImage(x, layer, at: args.range(of: "x"))
        let size = try args.sizes("size", count: 2, default: [2, 2])
        let strides = try args.sizes("strides", count: 2, default: size)
        let padding = try args.choice("padding", ["valid", "same"], default: "valid")
        let pads = try windowPadding(layer: layer, input: x, window: size, strides: strides, dilation: [1, 1], padding: padding, at: args)
        return .tensor(try emit1(.pool2d, [x], attributes: [
            "kind": .string(kind), "window": .ints(size), "strides": .ints(strides), "padding": .ints(pads),
        ], at: args.range))
    }

    /// Explicit [top, bottom, left, right] padding for a window op, checking
    /// that a `valid` window fits the input.
    private func windowPadding(layer: String, input x: TensorRef, window: [Int], strides: [Int], dilation: [Int],
                               padding: String, at args: CallArguments) throws -> [Int] {
        var pads: [Int] = []
        for axis in 0..<2 {
            let size = x.type.shape.dims[1 + axis]
            let extent = dilation[axis] * (window[axis] - 1) + 1
            if padding == "valid" {
                if let n = size.constantValue, n < extent {
                    throw fail(.windowTooLarge(layer, "\(window[0])×\(window[1])", x.type.description), at: args.callee.range)
                }
                pads += [0, 0]
            } else {
                guard let n = size.constantValue else {
                    throw fail(.samePaddingNeedsFixedSize(layer, x.type.description), at: args.range(of: "padding"))
                }
                let out = (n + strides[axis] - 1) / strides[axis]
                let total = max(0, (out - 1) * strides[axis] + extent - n)
                pads += [total / 2, total - total / 2]
            }
        }
        return pads
    }
}
