import DLMGraph
import DLMPasses
import DLMRuntime
import Testing

/// Every op's gradient rule against central finite differences in f64.
@Suite struct GradientRuleTests {
    @Test func everyOpDeclaresHowGradientsFlow() {
        let missing = OpCode.allCases.filter { $0.definition.gradient == nil }.map(\.rawValue)
        #expect(missing.isEmpty, "ops without a gradient rule or a reason they have none: \(missing)")
    }

    @Test(arguments: [OpCode.neg, .abs, .exp, .tanh, .sigmoid, .relu, .leakyRelu, .gelu, .erf])
    func unary(_ op: OpCode) throws {
        var check = GradientCheck()
        _ = check.input("x", [3, 4])
        try check.check { b, x in try b.emit(op, [x[0]], op == .leakyRelu ? ["alpha": .float(0.2)] : [:]) }
    }

    @Test(arguments: [OpCode.log, .sqrt, .rsqrt])
    func unaryOfPositive(_ op: OpCode) throws {
        var check = GradientCheck()
        _ = check.input("x", [5], positive: true)
        try check.check { b, x in try b.emit(op, [x[0]]) }
    }

    @Test(arguments: [OpCode.add, .sub, .mul, .div, .maximum, .minimum])
    func binary(_ op: OpCode) throws {
        var check = GradientCheck()
        _ = check.input("x", [2, 3])
        _ = check.input("y", [2, 3])
        try check.check { b, v in try b.emit(op, [v[0], v[1]]) }
    }

    @Test func power() throws {
        var check = GradientCheck()
        _ = check.input("x", [4], positive: true)
        _ = check.input("y", [4])
        try check.check { b, v in try b.emit(.pow, [v[0], v[1]]) }
    }

    @Test func sameValueOnBothSides() throws {
        // x·x and x - x: cotangents from two uses of one value add up.
        var check = GradientCheck()
        _ = check.input("x", [3])
        try check.check { b, x in try b.add(try b.mul(x[0], x[0]), try b.sub(try b.exp(x[0]), x[0])) }
    }

    @Test func selectAndCast() throws {
        var check = GradientCheck()
        _ = check.input("x", [4])
        _ = check.input("y", [4])
        try check.check(step: 1e-3, tolerance: 1e-4) { b, v in
            let condition = try b.constant([1, 0, 0, 1], .bool, [4])
            let chosen = try b.select(condition, v[0], v[1])
            return try b.cast(try b.cast(chosen, to: .f32), to: .f64)
        }
    }

    @Test func broadcastReshapeTranspose() throws {
        var check = GradientCheck()
        _ = check.input("row", [3])
        _ = check.input("column", [2, 1])
        try check.check { b, v in
            let shape = Shape([2, 3])
            let sum = try b.add(try b.broadcast(v[0], to: shape), try b.broadcast(v[1], to: shape))
            let square = try b.mul(sum, sum)
            return try b.transpose(try b.reshape(square, to: Shape([3, 2])), [1, 0])
        }
    }

    @Test func slices() throws {
        var check = GradientCheck()
        _ = check.input("x", [4, 7])
        try check.check { b, x in
            let strided = try b.emit(.slice, [x[0]], ["starts": .dims([1, 1]), "ends": .dims([4, 7]), "steps": .ints([2, 3])])
            let plain = try b.slice(x[0], axis: 1, start: 2, end: 5)
            return try b.concat([try b.reshape(strided, to: Shape([4])), try b.reshape(plain, to: Shape([12]))], axis: 0)
        }
    }

    @Test func concatenation() throws {
        var check = GradientCheck()
        _ = check.input("a", [2, 1])
        _ = check.input("b", [2, 3])
        try check.check { b, v in try b.concat([v[1], v[0], v[1]], axis: 1) }
    }

    @Test func gatherAndScatter() throws {
        var check = GradientCheck()
        _ = check.input("table", [5, 3])
        _ = check.input("updates", [2, 4])
        try check.check { b, v in
            let picks = try b.constant([4, 0, 4, 2, 1, 4], .i64, [2, 3])
            let gathered = try b.emit(.gather, [v[0], picks], ["axis": .int(0)])
            let spread = try b.emit(.scatterAdd, [try b.constant([1, 3, 1, 0], .i32, [4]), v[1]], ["axis": .int(1), "shape": .dims([2, 5])])
            return try b.concat([try b.reshape(gathered, to: Shape([18])), try b.reshape(spread, to: Shape([10]))], axis: 0)
        }
    }

    @Test func matmul() throws {
        var check = GradientCheck()
        _ = check.input("a", [3, 4])
        _ = check.input("b", [4, 2])
        _ = check.input("batchA", [2, 2, 3])
        _ = check.input("batchB", [2, 3, 2])
        try check.check { b, v in
            let plain = try b.reshape(try b.emit(.matmul, [v[0], v[1]]), to: Shape([6]))
            let batched = try b.reshape(try b.emit(.matmul, [v[2], v[3]]), to: Shape([8]))
            return try b.concat([plain, batched], axis: 0)
        }
    }

    /// Convolution windows: plain, strided with padding, dilated.
    static let windows: [[String: Attribute]] = [
        [:],
        ["strides": .ints([2, 2]), "padding": .ints([1, 1, 0, 1])],
        ["dilations": .ints([2, 1]), "padding": .ints([1, 0, 1, 1])],
    ]

    @Test(arguments: windows)
    func convolution(_ window: [String: Attribute]) throws {
        var check = GradientCheck()
        _ = check.input("x", [2, 5, 6, 2])
        _ = check.input("w", [2, 3, 2, 3])
        try check.check { b, v in try b.emit(.conv2d, [v[0], v[1]], window) }
    }

    @Test func convolutionGradientsOfConvolutionGradients() throws {
        // The gradient ops are linear in both operands; their own rules are checked the same way.
        var check = GradientCheck()
        _ = check.input("g", [1, 2, 3, 3])
        _ = check.input("w", [2, 2, 2, 3])
        _ = check.input("x", [1, 4, 4, 2])
        try check.check { b, v in
            let window: [String: Attribute] = ["strides": .ints([2, 1]), "padding": .ints([0, 1, 0, 0])]
            let input = try b.emit(.conv2dBackpropInput, [v[0], v[1]], window.merging(["input_shape": .dims([1, 4, 4, 2])]) { a, _ in a })
            let filter = try b.emit(.conv2dBackpropFilter, [v[2], v[0]], window.merging(["filter_shape": .dims([2, 2, 2, 3])]) { a, _ in a })
            return try b.concat([try b.reshape(input, to: Shape([32])), try b.reshape(filter, to: Shape([24]))], axis: 0)
        }
    }

    @Test(arguments: ["max", "avg"])
    func pooling(_ kind: String) throws {
        var check = GradientCheck()
        _ = check.input("x", [2, 5, 5, 2])
        try check.check { b, v in
            let overlapping = try b.emit(.pool2d, [v[0]], ["kind": .string(kind), "window": .ints([3, 3]), "strides": .ints([2, 2]),
                                                          "padding": .ints([1, 1, 0, 1])])
            let plain = try b.emit(.pool2d, [v[0]], ["kind": .string(kind), "window": .ints([2, 2]), "strides": .ints([2, 2])])
            let count = b.shape(of: overlapping).dims.compactMap(\.constantValue).reduce(1, *)
            return try b.concat([try b.reshape(overlapping, to: Shape([.constant(count)])), try b.reshape(plain, to: Shape([16]))], axis: 0)
        }
    }

    @Test(arguments: ["sum", "mean", "max", "min", "prod"])
    func reductions(_ kind: String) throws {
        var check = GradientCheck()
        _ = check.input("x", [2, 3, 4])
        try check.check { b, v in
            let inner = try b.reduce(kind, v[0], axes: [2])
            let outer = try b.reduce(kind, v[0], axes: [0, 2], keepDims: true)
            return try b.concat([try b.reshape(inner, to: Shape([6])), try b.reshape(outer, to: Shape([3]))], axis: 0)
        }
    }

    @Test func tiedMaximumSharesTheGradient() throws {
        let graph = Graph(name: "ties")
        let x = graph.addInput(name: "x", type: TensorType(.f64, Shape([4])))
        let b = GraphBuilder(graph)
        let loss = try b.reduce("max", x, axes: [0])
        let gradient = try ReverseMode.gradients(of: loss, withRespectTo: [x], in: graph)
        graph.setOutputs(gradient)
        let result = try Interpreter(graph: graph, parameters: [:]).run(["x": try Tensor(dtype: .f64, shape: [4], values: [2, 5, 1, 5])])
        #expect(result[0].scalars == [0, 0.5, 0, 0.5])
    }

    @Test func trainingDropoutReusesItsMask() throws {
        var check = GradientCheck()
        _ = check.input("x", [40])
        try check.check { b, v in
            let step = try b.constant([3], .i64, [])
            return try b.emit(.dropout, [v[0], step], ["rate": .float(0.4), "seed": .int(11)])
        }
    }

    @Test func nonDifferentiableOpOnThePathIsAnError() throws {
        let graph = Graph(name: "argmax")
        let x = graph.addInput(name: "x", type: TensorType(.f64, Shape([4])))
        let b = GraphBuilder(graph)
        let pooled = try b.emit(.pool2dBackprop, [try b.reshape(x, to: Shape([1, 2, 2, 1])), try b.filled(1, TensorType(.f64, Shape([1, 1, 1, 1])))],
                                ["kind": .string("max"), "window": .ints([2, 2]), "strides": .ints([2, 2])])
        let loss = try b.sumAll(pooled)
        #expect(throws: OpError.self) { try ReverseMode.gradients(of: loss, withRespectTo: [x], in: graph) }
    }
}

