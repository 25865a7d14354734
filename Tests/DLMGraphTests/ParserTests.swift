import Testing
@testable import DLMGraph

@Suite struct ParserTests {
    /// Parses, checks the graph verifies, and checks it prints back identically.
    func roundTrip(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let graph = try parseGraph(text)
        #expect(verify(graph).map(\.description) == [], sourceLocation: sourceLocation)
        #expect(graph.description == text, sourceLocation: sourceLocation)
        #expect(try parseGraph(graph.description).description == graph.description, sourceLocation: sourceLocation)
    }

    func parseError(_ text: String) -> IRParseError? {
        do {
            _ = try parseGraph(text)
            return nil
        } catch let error as IRParseError {
            return error
        } catch {
            return nil
        }
    }

    @Test func roundTripsBuiltGraphs() throws {
        try roundTrip(try Fixtures.mlp().description)
        try roundTrip(try Fixtures.rnn().description)
    }

    @Test func roundTripsCNNWithSymbolicDims() throws {
        let text = """
        graph @MnistCNN(%x: f32[B, H, 28, 1]) -> (%logits: f32[B, 10], %pred: i64[B]) {
          param @conv1.weight: f32[3, 3, 1, 32] = glorot_uniform
          param @conv1.bias: f32[32] = zeros
          param frozen @bn1.moving_mean: f32[32] = constant(0.5)
          param @fc.weight: f32[32, 10] = truncated_normal(0.0, 0.05)
          %0 = conv2d(%x, @conv1.weight) {dilations = [1, 1], padding = [0, 0, 0, 0], strides = [2, 2]} : f32[B, (H + 1)/2 - 1, 13, 32]
          %1 = broadcast(@conv1.bias) {shape = [B, (H + 1)/2 - 1, 13, 32]} : f32[B, (H + 1)/2 - 1, 13, 32]
          %2 = add(%0, %1) : f32[B, (H + 1)/2 - 1, 13, 32]
          %3 = leaky_relu(%2) {alpha = 0.2} : f32[B, (H + 1)/2 - 1, 13, 32]
          %4 = pool2d(%3) {kind = "avg", padding = [0, 0, 0, 0], strides = [1, 1], window = [1, 13]} : f32[B, (H + 1)/2 - 1, 1, 32]
          %5 = reduce(%4) {axes = [1, 2], keepdims = false, kind = "max"} : f32[B, 32]
          %6 = matmul(%5, @fc.weight) : f32[B, 10]
          %7 = argmax(%6) {axis = 1, keepdims = false} : i64[B]
          %8 = constant() {dtype = f32, shape = [], values = [-1.5e-05]} : f32[]
          return %6, %7
        }

        """
        try roundTrip(text)
    }

    @Test func roundTripsDataMovementAndScan() throws {
        let text = """
        graph @Seq(%ids: i32[B, T], %mask: bool[B, T]) -> (%c: f32[B, 4], f32[B, T, 4], f32[T, B, 8]) {
          param @emb: f32[100, 4] = uniform(-0.05, 0.05)
          %0 = gather(@emb, %ids) {axis = 0} : f32[B, T, 4]
          %1 = one_hot(%ids) {depth = 8, dtype = f32} : f32[B, T, 8]
          %2 = transpose(%1) {permutation = [1, 0, 2]} : f32[T, B, 8]
          %3 = slice(%0) {ends = [B, 1, 4], starts = [0, 0, 0], steps = [1, 1, 1]} : f32[B, 1, 4]
          %4 = reshape(%3) {shape = [B, 4]} : f32[B, 4]
          %5 = cast(%mask) {dtype = f32} : f32[B, T]
          %6, %7 = scan(%0, %4) {carries = 1, reverse = true, sequences = 1} : f32[B, 4], f32[B, T, 4] {
            body(%x_t: f32[B, 4], %h: f32[B, 4]) {
              %0 = add(%x_t, %h) : f32[B, 4]
              %1 = sigmoid(%0) : f32[B, 4]
              %2 = concat(%1, %0) {axis = 1} : f32[B, 8]
              %3 = slice(%2) {ends = [B, 8], starts = [0, 4], steps = [1, 1]} : f32[B, 4]
              return %1, %3
            }
          }
          return %6, %7, %2
        }

        """
        try roundTrip(text)
    }

    @Test func acceptsCommentsAndOmittedDefaults() throws {
        let graph = try parseGraph("""
        // a comment
        graph @G(%x: f32[B, 8]) -> (f32[B, 4]) {
          %y = reduce(%x) {axes = [1], kind = "sum", keepdims = true} : f32[B, 1]  // named result
          %z = broadcast(%y) {shape = [B, 4]} : f32[B, 4]
          return %z
        }
        """)
        #expect(verify(graph).isEmpty)
        #expect(graph.nodes.count == 2)
        let conv = try parseGraph("""
        graph @C(%x: f32[1, 5, 5, 1]) -> (f32[1, 3, 3, 1]) {
          param @w: f32[3, 3, 1, 1] = he_normal
          %0 = conv2d(%x, @w) : f32[1, 3, 3, 1]
          return %0
        }
        """)
        #expect(conv.nodes[0].attributes["strides"] == .ints([1, 1]))
        #expect(verify(conv).isEmpty)
    }

    @Test func reportsErrorsWithLineAndColumn() throws {
        let undefined = parseError("graph @G(%x: f32[2]) -> (f32[2]) {\n  %0 = relu(%y) : f32[2]\n  return %0\n}\n")
        #expect(undefined == IRParseError("use of undefined value '%y', found '%y'", line: 2, column: 13))
        let unknownOp = parseError("graph @G(%x: f32[2]) -> (f32[2]) {\n  %0 = frobnicate(%x) : f32[2]\n  return %0\n}")
        #expect(unknownOp?.line == 2)
        #expect(unknownOp?.column == 8)
        #expect(unknownOp?.message.hasPrefix("unknown op 'frobnicate'") == true)
        let badType = parseError("graph @G(%x: f33[2]) -> () {\n  return\n}")
        #expect(badType?.message.hasPrefix("unknown dtype 'f33'") == true)
        #expect(badType?.column == 14)
        let missingColon = parseError("graph @G(%x f32[2]) -> () { return }")
        #expect(missingColon?.description == "1:13: expected ':' after the input name, found 'f32'")
        let mismatch = parseError("graph @G(%x: f32[2]) -> (f32[3]) {\n  return %x\n}")
        #expect(mismatch?.line == 2)
        #expect(mismatch?.message.contains("header declares f32[3]") == true)
        let redefined = parseError("graph @G(%x: f32[2]) -> () {\n  %x = relu(%x) : f32[2]\n  return\n}")
        #expect(redefined?.message.hasPrefix("redefinition of '%x'") == true)
        #expect(parseError("graph @G() -> () { return } extra")?.message.hasPrefix("expected end of input") == true)
        #expect(try Dim.parse("2*B + (T - 3)/2") == 2 * Fixtures.b + (Fixtures.t - 3).floorDivided(by: 2))
        #expect(try TensorType.parse("i64[B, 3]") == TensorType(.i64, Shape([Fixtures.b, 3])))
        #expect(throws: IRParseError.self) { try Dim.parse("B +") }
        #expect(throws: IRParseError.self) { try TensorType.parse("f32[B] x") }
        #expect(parseError("graph @G(%x: f32[99999999999999999999]) -> () { return }")?.message.hasPrefix("integer literal is too large") == true)
        #expect(parseError("graph @G(%x: f32[B/0]) -> () { return }")?.message.hasPrefix("dim divisor must be positive") == true)
        #expect(parseError("\"unterminated")?.message == "unterminated string")
        #expect(parseError("graph @G() -> () { return } $")?.message == "unexpected character '$'")
    }

    @Test func rejectsDeepNesting() {
        let deep = String(repeating: "(", count: 5000) + "B" + String(repeating: ")", count: 5000)
        let error = parseError("graph @G(%x: f32[\(deep)]) -> () { return }")
        #expect(error?.message.hasPrefix("nesting is too deep") == true)
    }
}
