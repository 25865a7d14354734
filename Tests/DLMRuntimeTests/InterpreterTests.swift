import DLMGraph
import DLMRuntime
import DLMSyntax
import Foundation
import Testing

/// The package root, from this file's path.
private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Lowers a `.dlm` source or example and returns its models.
func lowerModels(_ text: String) throws -> [LoweredModel] {
    let diagnostics = DiagnosticEngine()
    let unit = Parser.parse(SourceFile(path: "test.dlm", text: text), diagnostics: diagnostics)
    let module = Lowering.lower(unit, diagnostics: diagnostics)
    guard !diagnostics.hasErrors else { throw RuntimeError(DiagnosticRenderer().render(diagnostics.diagnostics)) }
    return module.models
}

func exampleModels(_ file: String) throws -> [LoweredModel] {
    try lowerModels(String(contentsOf: packageRoot.appendingPathComponent("examples/\(file)"), encoding: .utf8))
}

/// Deterministic test data in [-1, 1).
func randomTensor(_ shape: [Int], seed: UInt64) throws -> Tensor {
    var random = RandomSource(seed: seed)
    let count = shape.reduce(1, *)
    return try Tensor(shape: shape, scalars: (0..<count).map { _ in Float(random.uniform(-1, 1)) })
}

@Suite struct InterpreterTests {
    /// The MLP against a plain triple-loop implementation written here.
    @Test func mlpMatchesNaiveLoops() throws {
        let model = try #require(try exampleModels("mlp.dlm").first)
        let parameters = try Interpreter.initialParameters(of: model.graph, seed: 7)
        let interpreter = try Interpreter(graph: model.graph, parameters: parameters)
        let x = try randomTensor([3, 784], seed: 1)
        let output = try #require(try interpreter.run(["x": x]).first)
        #expect(output.shape == [3, 10])

        func dense(_ input: [Double], rows: Int, _ w: Tensor, _ b: Tensor, relu: Bool) -> [Double] {
            let (k, n) = (w.shape[0], w.shape[1])
            let wv = w.scalars, bv = b.scalars
            var out = [Double](repeating: 0, count: rows * n)
            for r in 0..<rows {
                for j in 0..<n {
                    var s = bv[j]
                    for p in 0..<k { s += input[r * k + p] * wv[p * n + j] }
                    out[r * n + j] = relu ? max(0, s) : s
                }
            }
            return out
        }
        let p = parameters
        let hidden = dense(x.scalars, rows: 3, try #require(p["dense1.weight"]), try #require(p["dense1.bias"]), relu: true)
        let expected = dense(hidden, rows: 3, try #require(p["dense2.weight"]), try #require(p["dense2.bias"]), relu: false)
        for (a, e) in zip(output.scalars, expected) {
            #expect(abs(a - e) <= 1e-4 + 1e-4 * abs(e))
        }
    }

    /// Softmax outputs of the CNN are distributions.
    @Test func cnnSoftmaxRowsSumToOne() throws {
        let model = try #require(try exampleModels("mnist_cnn_a.dlm").first)
        let interpreter = try Interpreter(graph: model.graph, parameters: try Interpreter.initialParameters(of: model.graph, seed: 1))
        let output = try #require(try interpreter.run(["x": try randomTensor([2, 28, 28, 1], seed: 3)]).first)
        #expect(output.shape == [2, 10])
        for row in 0..<2 {
            let values = output.scalars
            let sum = (0..<10).reduce(0.0) { $0 + values[row * 10 + $1] }
            #expect(abs(sum - 1) < 1e-5)
        }
    }

    /// The built-in LSTM and the LSTM written from its gate equations agree
    /// when the built-in's fused weights are split into the hand-written gates.
    @Test func builtinAndHandwrittenLSTMAgree() throws {
        let models = try exampleModels("lstm.dlm")
        let builtin = try #require(models.first { $0.name == "BuiltinLSTM" })
        let handwritten = try #require(models.first { $0.name == "HandwrittenLSTM" })
        let fused = try Interpreter.initialParameters(of: builtin.graph, seed: 11)
        // Fused weights are random too (not the zero/orthogonal defaults) so every path is exercised.
        var random = RandomSource(seed: 5)
        var bias = try #require(fused["lstm1.bias"])
        bias = try Tensor(shape: bias.shape, scalars: (0..<bias.count).map { _ in Float(random.uniform(-0.5, 0.5)) })
        let kernel = try #require(fused["lstm1.weight"]), recurrent = try #require(fused["lstm1.recurrent_weight"])
        let (features, units) = (kernel.shape[0], recurrent.shape[0])
        let kernelValues = kernel.scalars, recurrentValues = recurrent.scalars, biasValues = bias.scalars
        var split: [String: Tensor] = [:]
        // Built-in gate order i, f, g, o; the hand-written cell multiplies concat([h, x]).
        for (gate, name) in ["input_gate", "forget_gate", "cell", "output_gate"].enumerated() {
            var w: [Float] = []
            for row in 0..<units { for c in 0..<units { w.append(Float(recurrentValues[row * 4 * units + gate * units + c])) } }
            for row in 0..<features { for c in 0..<units { w.append(Float(kernelValues[row * 4 * units + gate * units + c])) } }
            split["lstm_cell1.\(name).weight"] = try Tensor(shape: [units + features, units], scalars: w)
            split["lstm_cell1.\(name).bias"] = try Tensor(shape: [units], scalars: (0..<units).map { Float(biasValues[gate * units + $0]) })
        }
        var fusedWithBias = fused
        fusedWithBias["lstm1.bias"] = bias
        let x = try randomTensor([2, 6, features], seed: 9)
        let a = try #require(try Interpreter(graph: builtin.graph, parameters: fusedWithBias).run(["x": x]).first)
        let b = try #require(try Interpreter(graph: handwritten.graph, parameters: split).run(["x": x]).first)
        #expect(a.mismatch(against: b, rtol: 1e-5, atol: 1e-6) == nil)
    }

    /// After the first call, running again with the same sizes allocates no
    /// tensor memory: the arena, kernel scratch and scan bodies keep their size.
    @Test(arguments: ["mnist_cnn_a.dlm", "gru_lm.dlm", "simple_rnn.dlm"])
    func repeatedRunsDoNotGrowMemory(file: String) throws {
        let model = try #require(try exampleModels(file).first)
        let interpreter = try Interpreter(graph: model.graph, parameters: try Interpreter.initialParameters(of: model.graph, seed: 1))
        let input = try #require(model.graph.inputs.first)
        let type = model.graph.type(of: input)
        let shape = type.shape.dims.map { $0.constantValue ?? 3 }
        let x = type.dtype == .i32
            ? try Tensor(dtype: .i32, shape: shape, values: (0..<shape.reduce(1, *)).map { Double($0 % 50) })
            : try randomTensor(shape, seed: 4)
        let name = try #require(model.graph.name(of: input))
        let first = try interpreter.run([name: x])
        let held = try #require(interpreter.memoryStatistics?.heldBytes)
        for _ in 0..<3 {
            let again = try interpreter.run([name: x])
            #expect(again.map(\.scalars) == first.map(\.scalars))
        }
        let stats = try #require(interpreter.memoryStatistics)
        #expect(stats.heldBytes == held)
        // Reuse after last use makes the arena smaller than separate buffers.
        #expect(stats.arenaBytes < stats.naiveBytes)
    }

    @Test func inputsAreCheckedAndSizesBound() throws {
        let model = try #require(try lowerModels("""
        model Two(a: f32[B, 3], b: f32[B, 2]) -> f32[B, 5] {
            return concat([a, b], axis: 1)
        }
        """).first)
        let interpreter = try Interpreter(graph: model.graph, parameters: [:])
        let out = try interpreter.run(["a": try randomTensor([4, 3], seed: 1), "b": try randomTensor([4, 2], seed: 2)])
        #expect(out.first?.shape == [4, 5])
        #expect(throws: RuntimeError.self) { try interpreter.run(["a": try randomTensor([4, 3], seed: 1), "b": try randomTensor([5, 2], seed: 2)]) }
        #expect(throws: RuntimeError.self) { try interpreter.run(["a": try randomTensor([4, 3], seed: 1)]) }
        #expect(throws: RuntimeError.self) { try interpreter.run(["a": try randomTensor([4, 4], seed: 1), "b": try randomTensor([4, 2], seed: 2)]) }
    }

    @Test func parametersAreCheckedByName() throws {
        let model = try #require(try exampleModels("xor.dlm").first)
        var parameters = try Interpreter.initialParameters(of: model.graph, seed: 1)
        parameters["dense9.weight"] = try randomTensor([1], seed: 1)
        #expect(throws: RuntimeError.self) { try Interpreter(graph: model.graph, parameters: parameters) }
        parameters["dense9.weight"] = nil
        parameters["dense1.weight"] = try randomTensor([3, 2], seed: 1)
        #expect(throws: RuntimeError.self) { try Interpreter(graph: model.graph, parameters: parameters) }
    }

    @Test func initializationIsReproducible() throws {
        let model = try #require(try exampleModels("mnist_cnn_a.dlm").first)
        let a = try Interpreter.initialParameters(of: model.graph, seed: 3)
        let b = try Interpreter.initialParameters(of: model.graph, seed: 3)
        let c = try Interpreter.initialParameters(of: model.graph, seed: 4)
        #expect(a["conv1.weight"]?.scalars == b["conv1.weight"]?.scalars)
        #expect(a["conv1.weight"]?.scalars != c["conv1.weight"]?.scalars)
        // Glorot uniform limit for a 3×3×1×32 filter: sqrt(6 / (9 + 288)).
        let limit = (6.0 / 297).squareRoot()
        #expect(a["conv1.weight"]?.scalars.allSatisfy { abs($0) <= limit } == true)
    }
}

/// The vectorised float exp and tanh stay within a few ulp of the exact values.
@Suite struct FastMathAccuracyTests {
    @Test(arguments: ["exp", "tanh", "sigmoid"])
    func sweepAgainstDoublePrecision(function: String) throws {
        let model = try #require(try lowerModels("model M(x: f32[N]) -> f32[N] {\n    return \(function)(x)\n}\n").first)
        let values = stride(from: -100.0, through: 89.0, by: 0.0137).map { Float($0) } + [0, -0, 1e-8, -1e-8, 0.6249, 0.6251]
        let x = try Tensor(shape: [values.count], scalars: values)
        let out = try #require(try Interpreter(graph: model.graph, parameters: [:]).run(["x": x]).first).scalars
        var worst = 0.0
        for (v, got) in zip(values, out) {
            let d = Double(v)
            let exact: Double = switch function {
            case "exp": Foundation.exp(d)
            case "tanh": Foundation.tanh(d)
            default: 1 / (1 + Foundation.exp(-d))
            }
            let rounded = Double(Float(exact))
            guard rounded.isFinite, rounded != 0, rounded.magnitude >= Double(Float.leastNormalMagnitude) else { continue }
            worst = max(worst, abs(got - rounded) / abs(rounded))
        }
        #expect(worst < 4e-7, "\(function): worst relative error \(worst)")
    }
}
