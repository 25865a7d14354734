import DLMSyntax
import Testing
@testable import DLMGraph

@Suite struct VerifierTests {
    let b = Fixtures.b

    @Test func acceptsValidGraphs() throws {
        #expect(verify(try Fixtures.mlp()).isEmpty)
        #expect(verify(try Fixtures.rnn()).isEmpty)
        try verifyOrThrow(try Fixtures.mlp())
    }

    @Test func catchesUseBeforeDefinition() throws {
        let graph = Graph(name: "G")
        let x = graph.addInput(name: "x", type: Fixtures.f32(b, 4))
        let first = try graph.emit(.relu, [x])
        let second = try graph.emit(.neg, [first])
        graph.setOutputs([second])
        graph.replaceNodes(graph.nodes.reversed())
        let errors = verify(graph)
        #expect(errors.count == 1)
        #expect(errors.first?.op == .neg)
        #expect(errors.first?.nodeIndex == 0)
        #expect(errors.first?.description == "@G: node 0 (neg): operand %1 is used before its definition (node 1)")
    }

    @Test func catchesUndefinedOperandsAndOutputs() {
        let graph = Graph(name: "G")
        let x = graph.addInput(name: "x", type: Fixtures.f32(4))
        graph.appendUnverified(.relu, [ValueID(index: 42)], resultTypes: [Fixtures.f32(4)])
        graph.setOutputs([x, ValueID(index: 7)])
        let messages = verify(graph).map(\.message)
        #expect(messages == ["operand %?42 is not defined", "output %?7 is not defined"])
    }

    @Test func catchesWrongResultType() {
        let file = SourceFile(path: "m.dlm", text: "relu here")
        let graph = Graph(name: "G")
        let x = graph.addInput(name: "x", type: Fixtures.f32(b, 4))
        let y = graph.appendUnverified(.relu, [x], resultTypes: [Fixtures.f32(b, 5)],
                                       location: SourceRange(file: file, start: 0, end: 4))
        graph.setOutputs(y)
        let errors = verify(graph)
        #expect(errors.map(\.description) == ["m.dlm:1:1: @G: node 0 (relu): result types (f32[B, 5]) differ from the inferred (f32[B, 4])"])
        #expect(errors.first?.location?.description == "m.dlm:1:1")
    }

    @Test func catchesBadAttributes() {
        let graph = Graph(name: "G")
        let x = graph.addInput(name: "x", type: Fixtures.f32(b, 4))
        graph.appendUnverified(.reduce, [x], resultTypes: [Fixtures.f32(b)],
                               attributes: ["kind": .int(3), "axes": .ints([1]), "keepdims": .bool(false)])
        graph.appendUnverified(.argmax, [x], resultTypes: [TensorType(.i64, Shape([b]))], attributes: ["axis": .int(1)])
        graph.appendUnverified(.relu, [x], resultTypes: [Fixtures.f32(b, 4)], attributes: ["alpha": .float(1)])
        graph.appendUnverified(.reduce, [x], resultTypes: [Fixtures.f32(b)],
                               attributes: ["kind": .string("sum"), "axes": .ints([4]), "keepdims": .bool(false)])
        let messages = verify(graph).map(\.message)
        #expect(messages == [
            "reduce: attribute 'kind' must be string, not int",
            "argmax: missing attribute 'keepdims'",
            "relu: unknown attribute 'alpha'",
            "reduce: 'axes' 4 is out of range for rank 2",
        ])
    }

    @Test func catchesArityAndSymbolsAndNames() throws {
        let graph = Graph(name: "G")
        let x = graph.addInput(name: "x", type: Fixtures.f32(b, 4))
        _ = graph.addInput(name: "x", type: Fixtures.f32(b, 4))
        _ = graph.addInput(name: "12", type: Fixtures.f32(2))
        _ = try graph.addParameter(name: "bad name", type: Fixtures.f32(2), initializer: .ones)
        _ = try graph.addParameter(name: "w", type: Fixtures.f32(Dim.symbol("K"), 4), initializer: .zeros)
        graph.appendUnverified(.add, [x], resultTypes: [Fixtures.f32(b, 4)])
        graph.appendUnverified(.relu, [x], resultTypes: [Fixtures.f32(Dim.symbol("Q"), 4)])
        let messages = verify(graph).map(\.message)
        #expect(messages.contains("duplicate input name 'x'"))
        #expect(messages.contains { $0.hasPrefix("input name '12' must use only letters") })
        #expect(messages.contains { $0.hasPrefix("parameter name 'bad name' must use only") })
        #expect(messages.contains("parameter 'w' has type f32[K, 4], whose symbol(s) 'K' appear in no input type"))
        #expect(messages.contains("add: expects 2 operands, got 1"))
        #expect(messages.contains("result %1 has type f32[Q, 4], whose symbol(s) 'Q' appear in no input type"))
    }

    @Test func catchesUnprintableSymbols() {
        let graph = Graph(name: "G")
        let x = graph.addInput(name: "x", type: Fixtures.f32(Dim.symbol("batch size")))
        graph.setOutputs([x])
        #expect(verify(graph).map(\.message) == ["input '%x' uses symbol 'batch size', which is not a valid dim name"])
    }

    @Test func verifiesScanBodiesRecursively() throws {
        let graph = try Fixtures.rnn()
        guard let scanIndex = graph.nodes.firstIndex(where: { $0.op == .scan }) else {
            Issue.record("no scan")
            return
        }
        let body = graph.nodes[scanIndex].regions[0]
        body.replaceNodes(Array(body.nodes.reversed()))
        let errors = verify(graph)
        #expect(!errors.isEmpty)
        #expect(errors.allSatisfy { $0.op == .scan })
        #expect(errors.first?.message == "in region 0: @body: node 0 (tanh): operand %1 is used before its definition (node 1)")
    }

    @Test func catchesParsedGraphErrors() throws {
        let graph = try parseGraph("""
        graph @G(%x: f32[B, 4]) -> (f32[B, 4]) {
          %0 = add(%x, %x) : f32[B, 4]
          %1 = matmul(%0, %0) : f32[B, 4]
          return %1
        }
        """)
        let errors = verify(graph)
        #expect(errors.map(\.description) == ["@G: node 1 (matmul): matmul: inner dims differ (4 vs B) in f32[B, 4] x f32[B, 4]"])
    }
}
