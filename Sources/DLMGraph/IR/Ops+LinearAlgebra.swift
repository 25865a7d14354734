/// Matrix multiplication, convolution and pooling.
enum LinearAlgebraOps {
    static func definition(of op: OpCode) -> OpDefinition {
        switch op {
        case .matmul: matmul
        case .conv2d: conv2d
        case .conv2dBackpropInput: conv2dBackpropInput
        case .conv2dBackpropFilter: conv2dBackpropFilter
        case .pool2dBackprop: pool2dBackprop
        default: pool2d
        }
    }

    static let matmul = OpDefinition(
        name: "matmul", summary: "batched matrix product: [..., M, K] x [..., K, N] -> [..., M, N]",
        example: "%2 = matmul(%0, @fc.weight) : f32[B, 10]",
        arity: .fixed(2),
        inferTypes: { types, _, _ in
            let a = try TypeRules.first(types)
            let b = try TypeRules.operand(types, 1)
            let rank = a.shape.rank
            guard rank >= 2, b.shape.rank == rank else {
                throw TypeRules.fail("operands must have the same rank >= 2, got \(a) and \(b)")
            }
            guard a.dtype == b.dtype, a.dtype != .bool else {
                throw TypeRules.fail("operands must share a numeric dtype, got \(a) and \(b)")
            }
            guard a.shape.dims[..<(rank - 2)] == b.shape.dims[..<(rank - 2)] else {
                throw TypeRules.fail("batch dims differ: \(a) and \(b)")
            }
            let k1 = a.shape.dims[rank - 1]
            let k2 = b.shape.dims[rank - 2]
            guard k1 == k2 else { throw TypeRules.fail("inner dims differ (\(k1) vs \(k2)) in \(a) x \(b)") }
            return [TensorType(a.dtype, Shape(Array(a.shape.dims[..<(rank - 1)]) + [b.shape.dims[rank - 1]]))]
        },
        gradient: .rule { c in
            // dA = G·Bᵀ, dB = Aᵀ·G (batch dims ride along).
            let b = c.builder, g = try c.cotangent()
            return [try b.emit(.matmul, [g, try b.transposeLastTwo(c.operand(1))]),
                    try b.emit(.matmul, [try b.transposeLastTwo(c.operand(0)), g])]
        })

    static let windowAttributes: [OpDefinition.AttributeSpec] = [
        .optional("strides", .ints, default: .ints([1, 1])),
        .optional("padding", .ints, default: .ints([0, 0, 0, 0])),
    ]

    /// `floor((size + padBefore + padAfter - dilation*(window-1) - 1) / stride) + 1`.
    static func outputSize(_ size: Dim, window: Dim, stride: Int, dilation: Int, padding: Int, _ what: String) throws -> Dim {
        let span = Dim.constant(dilation) * (window - 1) + 1
        let result = (size + .constant(padding) - span).floorDivided(by: stride) + 1
        try TypeRules.requirePositive(result, what)
        return result
    }

    static let conv2d = OpDefinition(
        name: "conv2d", summary: "2-D convolution, NHWC input x HWIO filter -> NHWC",
        example: "%0 = conv2d(%x, @conv1.weight) {dilations = [1, 1], padding = [0, 0, 0, 0], strides = [1, 1]} : f32[B, 26, 26, 32]",
        arity: .fixed(2),
        attributes: windowAttributes + [.optional("dilations", .ints, default: .ints([1, 1]))],
        inferTypes: { types, attributes, _ in
            let x = try TypeRules.first(types)
            let w = try TypeRules.operand(types, 1)
            try TypeRules.requireRank(x, 4, "input")
            try TypeRules.requireRank(w, 4, "filter")
            guard x.dtype == w.dtype, x.dtype.isFloatingPoint else {
                throw TypeRules.fail("input and filter must share a floating-point dtype, got \(x) and \(w)")
            }
            guard x.shape.dims[3] == w.shape.dims[2] else {
                throw TypeRules.fail("input channels \(x.shape.dims[3]) differ from filter input channels \(w.shape.dims[2])")
            }
            let strides = try attributes.ints("strides")
            let dilations = try attributes.ints("dilations")
            let padding = try attributes.ints("padding")
            try TypeRules.requireInts(strides, count: 2, "strides", "positive") { $0 > 0 }
            try TypeRules.requireInts(dilations, count: 2, "dilations", "positive") { $0 > 0 }
            try TypeRules.requireInts(padding, count: 4, "padding", "non-negative") { $0 >= 0 }
            let height = try outputSize(x.shape.dims[1], window: w.shape.dims[0], stride: strides[0],
                                        dilation: dilations[0], padding: padding[0] &+ padding[1], "output height")
            let width = try outputSize(x.shape.dims[2], window: w.shape.dims[1], stride: strides[1],
                                       dilation: dilations[1], padding: padding[2] &+ padding[3], "output width")
            return [TensorType(x.dtype, Shape([x.shape.dims[0], height, width, w.shape.dims[3]]))]
        },
        gradient: .rule { c in
            let g = try c.cotangent()
            return [try convolutionInputGradient(c, g, filter: c.operand(1), inputShape: c.type(of: c.operand(0)).shape),
                    try filterGradientAsConvolution(c, input: c.operand(0), g, filterShape: c.type(of: c.operand(1)).shape)]
        })

    /// The filter gradient as an ordinary convolution, so every backend runs
    /// it with its convolution kernels (the JIT's implicit GEMM among them):
    /// dW[kh, kw, ci, co] = Σ x[n, oh·s + kh·d - p, ow·s + kw·d - p, ci] · g[n, oh, ow, co]
    /// is the convolution of x with batch and channels swapped ([C, H, W, N])
    /// by g as a filter ([OH, OW, N, CO]), its stride the dilation and its
    /// dilation the stride; the result [C, KH', KW', CO] is cut to the filter's
    /// KH × KW (a stride that skips the input's last rows leaves more) and
    /// turned back to HWIO.
    static func filterGradientAsConvolution(_ c: GradientContext, input x: ValueID, _ g: ValueID, filterShape: Shape) throws -> ValueID {
        let b = c.builder
        let strides = try c.attributes.ints("strides"), dilations = try c.attributes.ints("dilations")
        let swapped = try b.transpose(x, [3, 1, 2, 0])
        let asFilter = try b.transpose(g, [1, 2, 0, 3])
        var correlation = try b.emit(.conv2d, [swapped, asFilter], [
            "strides": .ints(dilations), "dilations": .ints(strides), "padding": c.node.attributes["padding"] ?? .ints([0, 0, 0, 0]),
        ])
        correlation = try b.slice(correlation, axis: 1, start: 0, end: filterShape.dims[0])
        correlation = try b.slice(correlation, axis: 2, start: 0, end: filterShape.dims[1])
        return try b.transpose(correlation, [1, 2, 0, 3])
    }

    /// The window attributes a convolution passes on to its gradient ops.
    static func convolutionWindow(_ c: GradientContext) -> [String: Attribute] {
        c.node.attributes.filter { ["strides", "padding", "dilations"].contains($0.key) }
    }

    static func convolutionInputGradient(_ c: GradientContext, _ g: ValueID, filter: ValueID, inputShape: Shape) throws -> ValueID {
        try c.builder.emit(.conv2dBackpropInput, [g, filter], convolutionWindow(c).merging(["input_shape": .dims(inputShape.dims)]) { a, _ in a })
    }

    static func convolutionFilterGradient(_ c: GradientContext, input: ValueID, _ g: ValueID, filterShape: Shape) throws -> ValueID {
        try c.builder.emit(.conv2dBackpropFilter, [input, g], convolutionWindow(c).merging(["filter_shape": .dims(filterShape.dims)]) { a, _ in a })
    }

    /// Checks that a convolution of `input` by `filter` with these attributes gives `output`.
    static func checkConvolution(input: TensorType, filter: TensorType, output: TensorType, _ attributes: AttributeReader) throws {
        let forward = try conv2d.inferTypes([input, filter], attributes, [])
        guard forward == [output] else {
            throw TypeRules.fail("a convolution of \(input) by \(filter) gives \(forward.map(\.description).joined()), not \(output)")
        }
    }

    static let conv2dBackpropInput = OpDefinition(
        name: "conv2d_backprop_input", summary: "the gradient of conv2d with respect to its input: the transposed convolution of g by the filter",
        example: "%2 = conv2d_backprop_input(%g, @conv1.weight) {dilations = [1, 1], input_shape = [B, 28, 28, 1], padding = [0, 0, 0, 0], strides = [1, 1]} : f32[B, 28, 28, 1]",
        arity: .fixed(2),
        attributes: windowAttributes + [.optional("dilations", .ints, default: .ints([1, 1])), .required("input_shape", .dims)],
        inferTypes: { types, attributes, _ in
            let g = try TypeRules.first(types)
            let w = try TypeRules.operand(types, 1)
            let input = TensorType(g.dtype, Shape(try attributes.dims("input_shape")))
            try checkConvolution(input: input, filter: w, output: g, attributes)
            return [input]
        },
        gradient: .rule { c in
            // Linear in both operands: d/dg is the forward convolution, d/dw the filter gradient with g as the input.
            let cotangent = try c.cotangent()
            return [try c.builder.emit(.conv2d, [cotangent, c.operand(1)], convolutionWindow(c)),
                    try convolutionFilterGradient(c, input: cotangent, c.operand(0), filterShape: c.type(of: c.operand(1)).shape)]
        })

    static let conv2dBackpropFilter = OpDefinition(
        name: "conv2d_backprop_filter", summary: "the gradient of conv2d with respect to its filter: the correlation of the input with g",
        example: "%2 = conv2d_backprop_filter(%x, %g) {dilations = [1, 1], filter_shape = [3, 3, 1, 32], padding = [0, 0, 0, 0], strides = [1, 1]} : f32[3, 3, 1, 32]",
        arity: .fixed(2),
        attributes: windowAttributes + [.optional("dilations", .ints, default: .ints([1, 1])), .required("filter_shape", .dims)],
        inferTypes: { types, attributes, _ in
            let x = try TypeRules.first(types)
            let g = try TypeRules.operand(types, 1)
            let filter = TensorType(x.dtype, Shape(try attributes.dims("filter_shape")))
            try checkConvolution(input: x, filter: filter, output: g, attributes)
            return [filter]
        },
        gradient: .rule { c in
            let cotangent = try c.cotangent()
            return [try convolutionInputGradient(c, c.operand(1), filter: cotangent, inputShape: c.type(of: c.operand(0)).shape),
                    try c.builder.emit(.conv2d, [c.operand(0), cotangent], convolutionWindow(c))]
        })

    static let pool2d = OpDefinition(
        name: "pool2d", summary: "2-D max or average pooling over NHWC windows (padding excluded from averages)",
        example: "%1 = pool2d(%0) {kind = \"max\", padding = [0, 0, 0, 0], strides = [2, 2], window = [2, 2]} : f32[B, 13, 13, 32]",
        arity: .fixed(1),
        attributes: [.required("kind", .string), .required("window", .ints)] + windowAttributes,
        inferTypes: { types, attributes, _ in
            let x = try TypeRules.first(types)
            try TypeRules.requireRank(x, 4, "input")
            guard x.dtype != .bool else { throw TypeRules.fail("input must be numeric, got \(x)") }
            let kind = try attributes.string("kind")
            guard kind == "max" || kind == "avg" else { throw TypeRules.fail("'kind' must be \"max\" or \"avg\", got \"\(kind)\"") }
            let window = try attributes.ints("window")
            let strides = try attributes.ints("strides")
            let padding = try attributes.ints("padding")
            try TypeRules.requireInts(window, count: 2, "window", "positive") { $0 > 0 }
            try TypeRules.requireInts(strides, count: 2, "strides", "positive") { $0 > 0 }
            try TypeRules.requireInts(padding, count: 4, "padding", "non-negative") { $0 >= 0 }
            let height = try outputSize(x.shape.dims[1], window: .constant(window[0]), stride: strides[0],
                                        dilation: 1, padding: padding[0] &+ padding[1], "output height")
            let width = try outputSize(x.shape.dims[2], window: .constant(window[1]), stride: strides[1],
                                       dilation: 1, padding: padding[2] &+ padding[3], "output width")
            return [TensorType(x.dtype, Shape([x.shape.dims[0], height, width, x.shape.dims[3]]))]
        },
        gradient: .rule { c in [try c.builder.emit(.pool2dBackprop, [c.operand(0), try c.cotangent()], c.node.attributes)] })

    static let pool2dBackprop = OpDefinition(
        name: "pool2d_backprop",
        summary: "the gradient of pool2d: each window's cotangent goes to its first largest input (max) or is shared by the window's inputs (avg)",
        example: "%2 = pool2d_backprop(%x, %g) {kind = \"max\", padding = [0, 0, 0, 0], strides = [2, 2], window = [2, 2]} : f32[B, 26, 26, 32]",
        arity: .fixed(2),
        attributes: [.required("kind", .string), .required("window", .ints)] + windowAttributes,
        inferTypes: { types, attributes, _ in
            let x = try TypeRules.first(types)
            let g = try TypeRules.operand(types, 1)
            let forward = try pool2d.inferTypes([x], attributes, [])
            guard forward == [g] else {
                throw TypeRules.fail("pooling \(x) gives \(forward.map(\.description).joined()), not \(g)")
            }
            return [x]
        },
        gradient: .none("second derivatives of pooling are not supported"))
}
