import DLMSyntax
import Testing
@testable import DLMGraph

@Suite struct PrinterTests {
    @Test func printsMLPGolden() throws {
        let graph = try Fixtures.mlp()
        let expected = """
        graph @MLP(%x: f32[B, 784]) -> (%logits: f32[B, 10], f32[B]) {
          param @fc1.weight: f32[784, 10] = glorot_uniform
          param @fc1.bias: f32[10] = zeros
          param frozen @bn.scale: f32[10] = uniform(-0.05, 0.05)
          %0 = matmul(%x, @fc1.weight) : f32[B, 10]
          %1 = broadcast(@fc1.bias) {shape = [B, 10]} : f32[B, 10]
          %2 = add(%0, %1) : f32[B, 10]
          %3 = relu(%2) : f32[B, 10]
          %4 = reduce(%3) {axes = [1], keepdims = false, kind = "sum"} : f32[B]
          return %3, %4
        }

        """
        #expect(graph.description == expected)
    }

    @Test func printsScanGolden() throws {
        let graph = try Fixtures.rnn()
        let expected = """
        graph @RNN(%xs: f32[B, T, 3]) -> (%h: f32[B, 4], %hs: f32[B, T, 4]) {
          param @rnn.w: f32[7, 4] = orthogonal(1.0)
          %0 = constant() {dtype = f32, shape = [1, 4], values = [0.0]} : f32[1, 4]
          %1 = broadcast(%0) {shape = [B, 4]} : f32[B, 4]
          %2, %3 = scan(%xs, %1, @rnn.w) {carries = 1, reverse = false, sequences = 1} : f32[B, 4], f32[B, T, 4] {
            body(%x_t: f32[B, 3], %h: f32[B, 4], %w: f32[7, 4]) {
              %0 = concat(%x_t, %h) {axis = 1} : f32[B, 7]
              %1 = matmul(%0, %w) : f32[B, 4]
              %2 = tanh(%1) : f32[B, 4]
              return %2, %2
            }
          }
          return %2, %3
        }

        """
        #expect(graph.description == expected)
    }

    @Test func printsLocationsOnRequest() throws {
        let file = SourceFile(path: "mnist.dlm", text: "model M {\n  x = relu(y)\n}\n")
        let graph = Graph(name: "G")
        let x = graph.addInput(name: "x", type: Fixtures.f32(4))
        let y = try graph.emit(.relu, [x], location: SourceRange(file: file, start: 16, end: 20))
        graph.setOutputs([y])
        #expect(!graph.description.contains("loc("))
        let text = GraphPrinter(printsLocations: true).print(graph)
        #expect(text.contains("%0 = relu(%x) : f32[4] loc(\"mnist.dlm\":2:7)\n"))
        let reparsed = try parseGraph(text)
        #expect(reparsed.nodes.first?.location?.description == "mnist.dlm:2:7")
        #expect(GraphPrinter(printsLocations: true).print(reparsed) == text)
    }

    @Test func printsAttributeKinds() {
        #expect(GraphPrinter.text(of: .float(0.2)) == "0.2")
        #expect(GraphPrinter.text(of: .float(1)) == "1.0")
        #expect(GraphPrinter.text(of: .floats([-1.5, 1e-5])) == "[-1.5, 1e-05]")
        #expect(GraphPrinter.text(of: .string("a\"b")) == "\"a\\\"b\"")
        #expect(GraphPrinter.text(of: .dims([Fixtures.b * 2, 3])) == "[2*B, 3]")
        #expect(GraphPrinter.text(of: .dtype(.i64)) == "i64")
        #expect(GraphPrinter.text(of: .bool(true)) == "true")
    }
}
