import Foundation
import DLMGraph
import DLMSyntax
import Testing

/// Parameter counts of the reference models, against Keras' for the same layers.
@Suite struct ReferenceModelTests {
    static let expectedCounts: [(file: String, model: String, parameters: Int)] = [
        ("mnist_cnn_a.dlm", "MnistCNN", 93_322),
        ("mnist_cnn_b.dlm", "MnistCNNB", 121_930),
        ("mnist_cnn_c.dlm", "MnistCNNC", 225_034),
        ("mlp.dlm", "MLP", 101_770),
        ("xor.dlm", "XOR", 9),
        ("linear_regression.dlm", "Linear", 3),
        ("simple_rnn.dlm", "SequenceRNN", 34_562),
        ("gru_lm.dlm", "GRULanguageModel", 2_669_072),
        ("lstm.dlm", "BuiltinLSTM", 82_432),
        ("lstm.dlm", "HandwrittenLSTM", 82_432),
    ]

    static func parameterCount(_ graph: Graph) -> Int {
        graph.parameters.reduce(0) { $0 + ($1.type.shape.elementCount.constantValue ?? 0) }
    }

    @Test(arguments: expectedCounts.indices)
    func parameterCountMatchesKeras(index: Int) throws {
        let expected = Self.expectedCounts[index]
        let module = try lowerExample(expected.file)
        let model = try #require(module.models.first { $0.name == expected.model })
        #expect(Self.parameterCount(model.graph) == expected.parameters)
        #expect(model.summary.reduce(0) { $0 + $1.parameterCount } == expected.parameters)
    }

    @Test func handwrittenLSTMMatchesBuiltinSize() throws {
        let module = try lowerExample("lstm.dlm")
        let counts = module.models.map { Self.parameterCount($0.graph) }
        #expect(counts.count == 2)
        #expect(Set(counts).count == 1)
    }

    @Test func everyExampleLowersAndVerifies() throws {
        let examples = try FileManager.default.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("examples").path)
            .filter { $0.hasSuffix(".dlm") }
        #expect(examples.count >= 12)
        for example in examples {
            let module = try lowerExample(example)
            #expect(!module.models.isEmpty, "\(example) has no model")
            for model in module.models {
                let errors = verify(model.graph)
                #expect(errors.isEmpty, "\(example) \(model.name): \(errors)")
            }
        }
    }

    @Test(arguments: ["mlp.dlm", "mnist_cnn_a.dlm", "lstm.dlm", "gru_lm.dlm", "digits.dlm"])
    func goldenIR(file: String) throws {
        let module = try lowerExample(file)
        let text = module.models.map { GraphPrinter().print($0.graph) }.joined(separator: "\n")
        try expectGolden(text, "Golden/\(file.replacingOccurrences(of: ".dlm", with: ".ir"))")
    }

    /// The textual IR of every example reads back to a graph that prints identically and verifies.
    @Test func examplesRoundTripThroughTextualIR() throws {
        let examples = try FileManager.default.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("examples").path)
            .filter { $0.hasSuffix(".dlm") }
        for example in examples {
            for model in try lowerExample(example).models {
                let text = GraphPrinter().print(model.graph)
                let reparsed = try parseGraph(text)
                #expect(GraphPrinter().print(reparsed) == text, "\(example) \(model.name)")
                #expect(verify(reparsed).isEmpty, "\(example) \(model.name)")
            }
        }
    }

    @Test func summaryNamesLayersInSourceOrder() throws {
        let model = try #require(try lowerExample("mnist_cnn_a.dlm").models.first)
        #expect(model.summary.map(\.name) == ["conv1", "maxpool1", "conv2", "maxpool2", "conv3", "flatten1", "dense1", "dense2"])
        #expect(model.summary.map(\.parameterCount) == [320, 0, 18_496, 0, 36_928, 0, 36_928, 650])
        #expect(model.graph.parameters.map(\.name).prefix(2) == ["conv1.weight", "conv1.bias"])
    }

    @Test func trainBlocksAreChecked() throws {
        let model = try #require(try lowerExample("mnist_cnn_a.dlm").models.first)
        let training = try #require(model.training)
        #expect(training.epochs == 5)
        #expect(training.batch == 32)
        #expect(training.data.scale == 1.0 / 255)
        #expect(training.optimizer == .adam(learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7))
        #expect(training.metrics == ["accuracy"])
    }
}

/// Shape inference with symbolic dimensions.
@Suite struct SymbolicShapeTests {
    @Test func inputsShareSymbols() throws {
        let (module, diagnostics) = lowerSource("""
        model Two(a: f32[B, 10], b: f32[B, 5]) -> f32[B, 15] {
            return concat([a, b], axis: 1)
        }
        """)
        #expect(diagnostics.isEmpty, "\(render(diagnostics))")
        #expect(module.models.count == 1)
    }

    @Test func distinctSymbolsDoNotBroadcast() {
        let (_, diagnostics) = lowerSource("""
        model Two(a: f32[B, 10], b: f32[N, 10]) -> f32[B, 10] {
            return a + b
        }
        """)
        #expect(render(diagnostics) == """
        test.dlm:2:14: error: shapes of '+' do not broadcast: f32[B, 10] and f32[N, 10] (size B vs N)
              return a + b
                       ^
        note: 'B' and 'N' are independent sizes; if they are always equal, use one name for both
        1 error generated.

        """)
    }

    @Test func flattenMultipliesSymbolicDims() throws {
        let (module, diagnostics) = lowerSource("""
        model Seq(x: f32[B, T, 4]) -> f32[B, T * 4] {
            return flatten(x)
        }
        """)
        #expect(diagnostics.isEmpty, "\(render(diagnostics))")
        let graph = try #require(module.models.first?.graph)
        #expect(graph.type(of: graph.outputs[0]).description == "f32[B, 4*T]" || graph.type(of: graph.outputs[0]).description == "f32[B, T*4]")
    }

    @Test func layerSignatureSolvesSizesFromArguments() throws {
        let (module, diagnostics) = lowerSource("""
        layer Affine(x: f32[B, I], units: int = 3) -> f32[B, units] {
            return dense(x, units)
        }
        model M(x: f32[N, 7]) -> (f32[N, 3], f32[N, 5]) {
            return (Affine(x), Affine(x, units: 5))
        }
        """)
        #expect(diagnostics.isEmpty, "\(render(diagnostics))")
        let graph = try #require(module.models.first?.graph)
        #expect(graph.parameters.map(\.name) == ["affine1.dense1.weight", "affine1.dense1.bias", "affine2.dense1.weight", "affine2.dense1.bias"])
    }

    @Test func conflictingLayerSizesAreReportedAtTheCall() {
        let (_, diagnostics) = lowerSource("""
        layer Pair(a: f32[B, H], b: f32[B, H]) -> f32[B, H] {
            return a + b
        }
        model M(x: f32[N, 4], y: f32[N, 6]) -> f32[N, 4] {
            return Pair(x, y)
        }
        """)
        #expect(diagnostics.count == 1)
        #expect(diagnostics.first?.message.id == "conflicting_size")
        #expect(diagnostics.first?.range?.description == "test.dlm:5:20")
    }

    @Test func convOnSymbolicSpatialSize() throws {
        let (module, diagnostics) = lowerSource("""
        model Conv(x: f32[B, H, W, 3]) -> f32[B, H - 2, W - 2, 8] {
            return conv2d(x, 8, kernel: 3)
        }
        """)
        #expect(diagnostics.isEmpty, "\(render(diagnostics))")
        #expect(module.models.count == 1)
    }
}
