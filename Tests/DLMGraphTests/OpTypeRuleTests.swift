import Testing
@testable import DLMGraph

/// Type rules of every op category, good and bad cases.
@Suite struct OpTypeRuleTests {
    let b = Dim.symbol("B")

    func f32(_ dims: Dim...) -> TensorType { TensorType(.f32, Shape(dims)) }

    /// Runs an op's registry rule on operand types.
    func infer(_ op: OpCode, _ types: [TensorType], _ attributes: [String: Attribute] = [:], regions: [Graph] = []) throws -> [TensorType] {
        let definition = op.definition
        return try definition.check(types, try definition.normalize(attributes), regions)
    }

    func rejects(_ op: OpCode, _ types: [TensorType], _ attributes: [String: Attribute] = [:], containing text: String) {
        do {
            let result = try infer(op, types, attributes)
            Issue.record("\(op) accepted \(types) giving \(result)")
        } catch let error as OpError {
            #expect(error.message.hasPrefix(op.rawValue + ": "), "\(error.message)")
            #expect(error.message.contains(text), "\(error.message)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func everyOpHasOneDefinition() {
        for op in OpCode.allCases {
            #expect(op.definition.name == op.rawValue)
            #expect(!op.definition.summary.isEmpty)
            #expect(!op.definition.example.isEmpty)
            #expect(OpRegistry.op(named: op.rawValue) == op)
        }
        #expect(OpRegistry.all.count == OpCode.allCases.count)
    }

    @Test func unaryElementwise() throws {
        #expect(try infer(.relu, [f32(b, 8)]) == [f32(b, 8)])
        #expect(try infer(.neg, [TensorType(.i32, Shape([4]))]) == [TensorType(.i32, Shape([4]))])
        rejects(.exp, [TensorType(.i32, Shape([4]))], containing: "floating-point")
        rejects(.sigmoid, [TensorType(.i64, Shape([4]))], containing: "floating-point")
        rejects(.logicalNot, [f32(4)], containing: "bool")
        #expect(try infer(.logicalNot, [TensorType(.bool, Shape([4]))]) == [TensorType(.bool, Shape([4]))])
        #expect(try infer(.leakyRelu, [f32(4)], ["alpha": .float(0.2)]) == [f32(4)])
        rejects(.leakyRelu, [f32(4)], ["alpha": .string("x")], containing: "'alpha' must be float")
        rejects(.relu, [f32(4)], ["beta": .int(1)], containing: "unknown attribute 'beta'")
        rejects(.relu, [f32(4), f32(4)], containing: "expects 1 operand")
    }

    @Test func binaryElementwise() throws {
        #expect(try infer(.add, [f32(b, 8), f32(b, 8)]) == [f32(b, 8)])
        #expect(try infer(.lt, [f32(b, 8), f32(b, 8)]) == [TensorType(.bool, Shape([b, 8]))])
        #expect(try infer(.eq, [TensorType(.bool, Shape([2])), TensorType(.bool, Shape([2]))]) == [TensorType(.bool, Shape([2]))])
        rejects(.add, [f32(b, 8), f32(1, 8)], containing: "broadcast explicitly")
        rejects(.mul, [f32(8), TensorType(.f64, Shape([8]))], containing: "identical types")
        rejects(.logicalAnd, [f32(8), f32(8)], containing: "bool")
        rejects(.add, [TensorType(.bool, Shape([2])), TensorType(.bool, Shape([2]))], containing: "numeric")
        rejects(.pow, [TensorType(.i32, Shape([2])), TensorType(.i32, Shape([2]))], containing: "floating-point")
    }

    @Test func selectAndCast() throws {
        let cond = TensorType(.bool, Shape([b, 4]))
        #expect(try infer(.select, [cond, f32(b, 4), f32(b, 4)]) == [f32(b, 4)])
        rejects(.select, [f32(b, 4), f32(b, 4), f32(b, 4)], containing: "condition must be bool")
        rejects(.select, [TensorType(.bool, Shape([4])), f32(b, 4), f32(b, 4)], containing: "condition shape")
        #expect(try infer(.cast, [f32(b)], ["dtype": .dtype(.i64)]) == [TensorType(.i64, Shape([b]))])
        rejects(.cast, [f32(b)], containing: "missing required attribute 'dtype'")
    }

    @Test func constant() throws {
        #expect(try infer(.constant, [], ["dtype": .dtype(.f32), "shape": .ints([2, 2]), "values": .floats([1, 2, 3, 4])]) == [f32(2, 2)])
        #expect(try infer(.constant, [], ["dtype": .dtype(.f32), "shape": .dims([]), "values": .floats([1])]) == [f32()])
        rejects(.constant, [], ["dtype": .dtype(.f32), "shape": .ints([3]), "values": .floats([1, 2])], containing: "expected 1 or 3")
        rejects(.constant, [], ["dtype": .dtype(.f32), "shape": .dims([b]), "values": .floats([1])], containing: "non-negative integers")
    }

    @Test func broadcastRules() throws {
        #expect(try infer(.broadcast, [f32(32)], ["shape": .dims([b, 26, 26, 32])]) == [f32(b, 26, 26, 32)])
        #expect(try infer(.broadcast, [f32(b, 1)], ["shape": .dims([b, 5])]) == [f32(b, 5)])
        #expect(try infer(.broadcast, [f32()], ["shape": .dims([3])]) == [f32(3)])
        #expect(try infer(.broadcast, [f32(1, 4)], ["shape": .dims([2, b, 4])]) == [f32(2, b, 4)])
        rejects(.broadcast, [f32(3)], ["shape": .dims([b, 4])], containing: "not 1 or 4")
        rejects(.broadcast, [f32(b, 3)], ["shape": .dims([3])], containing: "lower rank")
    }

    @Test func matmul() throws {
        #expect(try infer(.matmul, [f32(b, 784), f32(784, 10)]) == [f32(b, 10)])
        #expect(try infer(.matmul, [f32(b, 3, 4), f32(b, 4, 5)]) == [f32(b, 3, 5)])
        rejects(.matmul, [f32(b, 3), f32(4, 5)], containing: "inner dims differ")
        rejects(.matmul, [f32(b, 3, 4), f32(4, 5)], containing: "same rank")
        rejects(.matmul, [f32(2, 3, 4), f32(3, 4, 5)], containing: "batch dims")
        rejects(.matmul, [f32(3), f32(3)], containing: "rank >= 2")
    }

    @Test func conv2dSizes() throws {
        let filter = f32(3, 3, 1, 32)
        #expect(try infer(.conv2d, [f32(b, 28, 28, 1), filter]) == [f32(b, 26, 26, 32)])
        #expect(try infer(.conv2d, [f32(b, 28, 28, 1), filter], ["padding": .ints([1, 1, 1, 1])]) == [f32(b, 28, 28, 32)])
        #expect(try infer(.conv2d, [f32(b, 28, 28, 1), filter], ["strides": .ints([2, 2])]) == [f32(b, 13, 13, 32)])
        #expect(try infer(.conv2d, [f32(b, 28, 28, 1), filter], ["dilations": .ints([2, 2])]) == [f32(b, 24, 24, 32)])
        let h = Dim.symbol("H")
        let result = try infer(.conv2d, [f32(b, h, h, 1), filter], ["strides": .ints([2, 2])])
        let expected = (h - 3).floorDivided(by: 2) + 1
        #expect(result == [f32(b, expected, expected, 32)])
        #expect(try expected.evaluate(["H": 28]) == 13)
        rejects(.conv2d, [f32(b, 28, 28, 3), filter], containing: "channels")
        rejects(.conv2d, [f32(b, 2, 2, 1), filter], containing: "output height would be 0")
        rejects(.conv2d, [f32(b, 28, 28, 1), filter], ["strides": .ints([0, 1])], containing: "'strides' must be 2 positive")
        rejects(.conv2d, [f32(b, 28, 28, 1), filter], ["padding": .ints([1, 1])], containing: "'padding' must be 4")
        rejects(.conv2d, [f32(28, 28, 1), filter], containing: "rank 4")
    }

    @Test func pool2dSizes() throws {
        let attributes: [String: Attribute] = ["kind": .string("max"), "window": .ints([2, 2]), "strides": .ints([2, 2])]
        #expect(try infer(.pool2d, [f32(b, 26, 26, 32)], attributes) == [f32(b, 13, 13, 32)])
        #expect(try infer(.pool2d, [f32(b, 27, 27, 32)], attributes) == [f32(b, 13, 13, 32)])
        let t = Dim.symbol("T")
        #expect(try infer(.pool2d, [f32(b, 2 * t, 4, 1)], attributes) == [f32(b, t, 2, 1)])
        var avg = attributes
        avg["kind"] = .string("median")
        rejects(.pool2d, [f32(b, 26, 26, 32)], avg, containing: "'kind'")
        rejects(.pool2d, [f32(b, 26, 26, 32)], ["kind": .string("avg")], containing: "missing required attribute 'window'")
    }

    @Test func reductions() throws {
        #expect(try infer(.reduce, [f32(b, 10)], ["kind": .string("sum"), "axes": .ints([1])]) == [f32(b)])
        #expect(try infer(.reduce, [f32(b, 10)], ["kind": .string("mean"), "axes": .ints([0, 1]), "keepdims": .bool(true)]) == [f32(1, 1)])
        rejects(.reduce, [f32(b, 10)], ["kind": .string("sum"), "axes": .ints([1, 0])], containing: "sorted and unique")
        rejects(.reduce, [f32(b, 10)], ["kind": .string("sum"), "axes": .ints([2])], containing: "out of range")
        rejects(.reduce, [f32(b, 10)], ["kind": .string("avg"), "axes": .ints([0])], containing: "'kind'")
        #expect(try infer(.argmax, [f32(b, 10)], ["axis": .int(1)]) == [TensorType(.i64, Shape([b]))])
        #expect(try infer(.argmax, [f32(b, 10)], ["axis": .int(1), "keepdims": .bool(true)]) == [TensorType(.i64, Shape([b, 1]))])
        rejects(.argmax, [f32(b, 10)], ["axis": .int(-1)], containing: "out of range")
    }

    @Test func dataMovement() throws {
        #expect(try infer(.reshape, [f32(b, 28, 28, 1)], ["shape": .dims([b, 784])]) == [f32(b, 784)])
        rejects(.reshape, [f32(b, 28)], ["shape": .dims([b, 27])], containing: "cannot reshape")
        #expect(try infer(.transpose, [f32(b, 3, 4)], ["permutation": .ints([2, 0, 1])]) == [f32(4, b, 3)])
        rejects(.transpose, [f32(b, 3)], ["permutation": .ints([0, 0])], containing: "not a permutation")
        #expect(try infer(.slice, [f32(b, 10)], ["starts": .dims([0, 2]), "ends": .dims([b, 10]), "steps": .ints([1, 3])]) == [f32(b, 3)])
        #expect(try infer(.slice, [f32(b, 10)], ["starts": .dims([1, 0]), "ends": .dims([b, 10]), "steps": .ints([1, 1])]) == [f32(b - 1, 10)])
        rejects(.slice, [f32(b, 10)], ["starts": .dims([0, 0]), "ends": .dims([b, 11]), "steps": .ints([1, 1])], containing: "exceeds")
        rejects(.slice, [f32(b, 10)], ["starts": .dims([0, 0]), "ends": .dims([b, 10]), "steps": .ints([1, 0])], containing: "positive")
        #expect(try infer(.concat, [f32(b, 4), f32(b, 8)], ["axis": .int(1)]) == [f32(b, 12)])
        #expect(try infer(.concat, [f32(b, 4), f32(b, 4)], ["axis": .int(0)]) == [f32(2 * b, 4)])
        rejects(.concat, [f32(b, 4), f32(3, 8)], ["axis": .int(1)], containing: "must match")
        rejects(.concat, [], ["axis": .int(0)], containing: "at least 1 operand")
        let ids = TensorType(.i32, Shape([b, Dim.symbol("T")]))
        #expect(try infer(.gather, [f32(1000, 64), ids], ["axis": .int(0)]) == [f32(b, Dim.symbol("T"), 64)])
        rejects(.gather, [f32(1000, 64), f32(b)], ["axis": .int(0)], containing: "integers")
        #expect(try infer(.oneHot, [TensorType(.i64, Shape([b]))], ["depth": .int(10)]) == [f32(b, 10)])
        rejects(.oneHot, [TensorType(.i64, Shape([b]))], ["depth": .int(0)], containing: "positive")
    }
}
