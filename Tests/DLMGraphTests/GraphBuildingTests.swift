import DLMSyntax
import Testing
@testable import DLMGraph

@Suite struct GraphBuildingTests {
    let b = Fixtures.b
    let t = Fixtures.t

    @Test func appendInfersTypesAndFillsDefaults() throws {
        let graph = Graph(name: "G")
        let x = graph.addInput(name: "x", type: Fixtures.f32(b, 28, 28, 1))
        let w = try graph.addParameter(name: "conv1.weight", type: Fixtures.f32(3, 3, 1, 32), initializer: .heNormal)
        let y = try graph.emit(.conv2d, [x, w])
        #expect(graph.type(of: y) == Fixtures.f32(b, 26, 26, 32))
        #expect(graph.nodes[0].attributes["strides"] == .ints([1, 1]))
        #expect(graph.nodes[0].attributes["padding"] == .ints([0, 0, 0, 0]))
        #expect(graph.definingNode(of: y) == 0)
        #expect(graph.definingNode(of: x) == nil)
        #expect(graph.name(of: x) == "x")
        #expect(graph.name(of: w) == "conv1.weight")
        #expect(graph.parameter(for: w)?.initializer == .heNormal)
    }

    @Test func appendReportsLocatedErrors() throws {
        let file = SourceFile(path: "m.dlm", text: "model M\n  dense(10)\n")
        let location = SourceRange(file: file, start: 10, end: 15)
        let graph = Graph(name: "G")
        let x = graph.addInput(name: "x", type: Fixtures.f32(b, 3))
        let w = try graph.addParameter(name: "w", type: Fixtures.f32(4, 5), initializer: .zeros)
        do {
            _ = try graph.emit(.matmul, [x, w], location: location)
            Issue.record("expected an error")
        } catch let error as OpError {
            #expect(error.location == location)
            #expect(error.description == "m.dlm:2:3: matmul: inner dims differ (3 vs 4) in f32[B, 3] x f32[4, 5]")
        }
        #expect(graph.nodes.isEmpty)
    }

    @Test func duplicateParameterThrows() throws {
        let graph = Graph(name: "G")
        try graph.addParameter(name: "w", type: Fixtures.f32(2), initializer: .zeros)
        #expect(throws: OpError.self) { try graph.addParameter(name: "w", type: Fixtures.f32(2), initializer: .ones) }
    }

    @Test func scanTyping() throws {
        let graph = try Fixtures.rnn()
        #expect(graph.outputs.map { graph.type(of: $0) } == [Fixtures.f32(b, 4), Fixtures.f32(b, t, 4)])
        #expect(verify(graph).isEmpty)
    }

    @Test func scanRejectsMismatchedBody() throws {
        let body = Graph(name: "body")
        let xt = body.addInput(name: "x_t", type: Fixtures.f32(b, 3))
        _ = body.addInput(name: "h", type: Fixtures.f32(b, 5))
        body.setOutputs([xt])
        let graph = Graph(name: "G")
        let xs = graph.addInput(name: "xs", type: Fixtures.f32(b, t, 3))
        let h0 = graph.addInput(name: "h0", type: Fixtures.f32(b, 4))
        #expect {
            try graph.append(.scan, [xs, h0], attributes: ["sequences": .int(1), "carries": .int(1)], regions: [body])
        } throws: { error in
            (error as? OpError)?.message.contains("body inputs") == true
        }
        #expect(throws: OpError.self) {
            try graph.append(.scan, [xs, h0], attributes: ["sequences": .int(0), "carries": .int(1)], regions: [body])
        }
        #expect(throws: OpError.self) {
            try graph.append(.scan, [xs, h0], attributes: ["sequences": .int(1), "carries": .int(1)])
        }
    }

    @Test func scanWithTwoCarriesAndReverse() throws {
        let body = Graph(name: "body")
        let xt = body.addInput(name: "x_t", type: Fixtures.f32(b, 4))
        let h = body.addInput(name: "h", type: Fixtures.f32(b, 4))
        let c = body.addInput(name: "c", type: Fixtures.f32(b, 4))
        let h1 = try body.emit(.add, [xt, h])
        let c1 = try body.emit(.mul, [h1, c])
        body.setOutputs([h1, c1, c1, h1])
        let graph = Graph(name: "G")
        let xs = graph.addInput(name: "xs", type: Fixtures.f32(b, t, 4))
        let h0 = graph.addInput(name: "h0", type: Fixtures.f32(b, 4))
        let results = try graph.append(.scan, [xs, h0, h0], attributes: ["sequences": .int(1), "carries": .int(2), "reverse": .bool(true)],
                                       regions: [body])
        #expect(results.map { graph.type(of: $0) } == [Fixtures.f32(b, 4), Fixtures.f32(b, 4), Fixtures.f32(b, t, 4), Fixtures.f32(b, t, 4)])
    }

    @Test func initializerFans() {
        #expect(Initializer.fans(of: [784, 10]) == (784, 10))
        #expect(Initializer.fans(of: [3, 3, 1, 32]) == (9, 288))
        #expect(Initializer.fans(of: [10]) == (10, 10))
        #expect(Initializer.fans(of: []) == (1, 1))
        #expect(Initializer.uniform(low: -0.05, high: 0.05).description == "uniform(-0.05, 0.05)")
        #expect(Initializer.glorotUniform.description == "glorot_uniform")
        #expect(Initializer.uniform(-1, 1) == .uniform(low: -1, high: 1))
        #expect(Initializer.orthogonal(2).description == "orthogonal(2.0)")
        #expect(Initializer.named("truncated_normal", arguments: [0, 0.1]) == .truncatedNormal(0, 0.1))
        #expect(Initializer.named("zeros", arguments: [1]) == nil)
    }
}
