import Testing
@testable import DLMGraph

/// The textual form as written in the design brief parses and verifies.
@Suite struct SpecExampleTests {
    @Test func parsesTheBriefExample() throws {
        let text = """
        graph @MnistCNN(%x: f32[B, 28, 28, 1], %xs: f32[B, T, 3]) -> (%logits: f32[B, 26, 26, 32], f32[B, 4]) {
          param @conv1.weight: f32[3, 3, 1, 32] = glorot_uniform
          param @conv1.bias: f32[32] = zeros
          param @w: f32[7, 16] = glorot_uniform
          param frozen @h0: f32[B, 4] = zeros
          %0 = conv2d(%x, @conv1.weight) {dilations = [1, 1], padding = [0, 0, 0, 0], strides = [1, 1]} : f32[B, 26, 26, 32]
          %1 = broadcast(@conv1.bias) {shape = [B, 26, 26, 32]} : f32[B, 26, 26, 32]
          %2 = add(%0, %1) : f32[B, 26, 26, 32]
          %h, %c = scan(%xs, @h0, @h0, @w) {carries = 2, reverse = false, sequences = 1} : f32[B, 4], f32[B, 4] {
            body(%x_t: f32[B, 3], %h: f32[B, 4], %c: f32[B, 4], %w: f32[7, 16]) {
              %a = add(%h, %c) : f32[B, 4]
              %b = tanh(%a) : f32[B, 4]
              return %a, %b
            }
          }
          return %2, %c
        }
        """
        let graph = try parseGraph(text)
        #expect(verify(graph).map(\.description) == [])
        #expect(graph.nodes.count == 4)
        #expect(graph.parameter(named: "h0")?.isTrainable == false)
        let printed = graph.description
        #expect(printed.contains("%3, %4 = scan(%xs, @h0, @h0, @w) {carries = 2, reverse = false, sequences = 1} : f32[B, 4], f32[B, 4] {"))
        #expect(try parseGraph(printed).description == printed)
    }
}
