import DLMCodegen
import DLMGraph
import DLMPasses
import DLMRuntime
import DLMTestSupport
import DLMTraining
import Foundation
import Testing

/// Optimiser steps, epochs and losses against Keras 3's numbers
/// (scripts/make_training_fixtures.py wrote the fixtures).
@Suite struct KerasFixtureTests {
    static func fixture(_ name: String) throws -> [String: Tensor] {
        try SafeTensors.read(packageRoot.appendingPathComponent("Tests/DLMTrainingTests/Fixtures/\(name).safetensors").path).tensors
    }

    /// `rtol` relative, with an absolute floor for values near zero.
    static func expectClose(_ actual: Tensor, _ expected: Tensor, rtol: Double = 1e-5, atol: Double = 1e-6, _ what: String) {
        #expect(actual.mismatch(against: expected, rtol: rtol, atol: atol) == nil,
                "\(what): \(actual.mismatch(against: expected, rtol: rtol, atol: atol) ?? "")")
    }

    /// The fixture's optimiser configurations as `optimizer =` settings.
    static let optimizers: [(name: String, setting: String)] = [
        ("sgd", "sgd(lr: 0.1)"),
        ("sgd_momentum", "sgd(lr: 0.1, momentum: 0.9)"),
        ("sgd_nesterov", "sgd(lr: 0.1, momentum: 0.9, nesterov: true)"),
        ("rmsprop", "rmsprop(lr: 0.01)"),
        ("rmsprop_momentum", "rmsprop(lr: 0.01, momentum: 0.9)"),
        ("adam", "adam(lr: 0.01)"),
        ("adamw", "adamw(lr: 0.01, weight_decay: 0.004)"),
        ("adam_clipnorm", "adam(lr: 0.01, clipnorm: 0.1)"),
        ("adam_expdecay", "adam(lr: exponential_decay(0.01, decay_steps: 1, decay_rate: 0.5))"),
        ("adam_cosine", "adam(lr: cosine_decay(0.01, decay_steps: 3))"),
        ("l2", "sgd(lr: 0.1)"),
    ]

    static func smallModel(optimizer: String, regularized: Bool) -> String {
        """
        model Small(x: f32[B, 6]) -> f32[B, 4] {
            return x |> dense(8, activation: relu\(regularized ? ", kernel_regularizer: l2(0.01)" : "")) |> dense(4)
        }
        train Small {
            data      = inline(x: [[0]], y: [[0]])
            loss      = sparse_categorical_crossentropy(from_logits: true)
            optimizer = \(optimizer)
        }
        """
    }

    @Test(arguments: optimizers.map(\.name), [Backend.interp, .jit])
    func smallMLPEpoch(configuration: String, backend: Backend) throws {
        let fixture = try Self.fixture("small_mlp")
        let setting = try #require(Self.optimizers.first { $0.name == configuration }).setting
        let model = try #require(try lowerModels(Self.smallModel(optimizer: setting, regularized: configuration == "l2")).first)
        let config = try #require(model.training)
        var parameters: [String: Tensor] = [:]
        for parameter in model.graph.parameters { parameters[parameter.name] = try #require(fixture["init.\(parameter.name)"]) }
        let runner = try TrainStepRunner(model: model, config: config, parameters: parameters, backend: backend, pool: testPool)
        let x = try #require(fixture["x"]), y = try #require(fixture["y"])
        var losses: [Float] = []
        for batch in 0..<3 {
            let features = try Tensor(shape: [4, 6], scalars: Array(x.floats[(batch * 24)..<((batch + 1) * 24)]))
            let targets = try Tensor(dtype: .i32, shape: [4], values: Array(y.scalars[(batch * 4)..<((batch + 1) * 4)]))
            losses.append(Float(try runner.train(features: features, targets: targets).loss))
            if batch == 0, fixture["\(configuration).step1.dense1.weight"] != nil {
                for (name, value) in runner.parameters {
                    Self.expectClose(value, try #require(fixture["\(configuration).step1.\(name)"]), "\(configuration) step 1 \(name)")
                }
            }
        }
        Self.expectClose(try Tensor(shape: [3], scalars: losses), try #require(fixture["\(configuration).losses"]), "\(configuration) losses")
        for (name, value) in runner.parameters {
            Self.expectClose(value, try #require(fixture["\(configuration).epoch1.\(name)"]), "\(configuration) epoch \(name)")
        }
    }

    static let losses: [(name: String, loss: Loss)] = [
        ("mse", .meanSquaredError),
        ("mae", .meanAbsoluteError),
        ("binary_crossentropy", .binaryCrossEntropy(fromLogits: false)),
        ("binary_crossentropy_logits", .binaryCrossEntropy(fromLogits: true)),
        ("categorical_crossentropy", .categoricalCrossEntropy(fromLogits: false, labelSmoothing: 0)),
        ("categorical_crossentropy_logits", .categoricalCrossEntropy(fromLogits: true, labelSmoothing: 0)),
        ("sparse_categorical_crossentropy", .sparseCategoricalCrossEntropy(fromLogits: false)),
        ("sparse_categorical_crossentropy_logits", .sparseCategoricalCrossEntropy(fromLogits: true)),
        ("sparse_categorical_crossentropy_logits_seq", .sparseCategoricalCrossEntropy(fromLogits: true)),
    ]

    @Test(arguments: losses.map(\.name))
    func lossValueAndGradient(name: String) throws {
        let fixture = try Self.fixture("losses")
        let loss = try #require(Self.losses.first { $0.name == name }).loss
        let prediction = try #require(fixture["\(name).pred"]), target = try #require(fixture["\(name).target"])
        let graph = Graph(name: "loss")
        let p = graph.addInput(name: "p", type: TensorType(.f32, Shape(prediction.shape.map(Dim.constant))))
        let t = graph.addInput(name: "t", type: TensorType(target.dtype, Shape(target.shape.map(Dim.constant))))
        let value = try LossBuilder.build(loss, prediction: p, target: t, in: GraphBuilder(graph))
        let gradient = try ReverseMode.gradients(of: value, withRespectTo: [p], in: graph)
        graph.setOutputs([value] + gradient)
        let outputs = try Interpreter(graph: graph, parameters: [:], pool: testPool).run(["p": prediction, "t": target])
        Self.expectClose(outputs[0], try #require(fixture["\(name).value"]), "\(name) value")
        Self.expectClose(outputs[1], try #require(fixture["\(name).grad"]), "\(name) gradient")
    }
}

private let sharedMNIST = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data/mnist")
private let haveMNIST = FileManager.default.fileExists(atPath: sharedMNIST.appendingPathComponent("train-images-idx3-ubyte.gz").path)

/// The reference MLP (784-128-10) on the first 256 MNIST training images:
/// 8 Adam steps from the fixture rule's initial weights, against Keras.
@Suite struct MNISTMLPFixtureTests {
    @Test(.enabled(if: haveMNIST, "../shared/data/mnist is not here"), arguments: [Backend.interp, .jit])
    func eightAdamStepsMatchKeras(backend: Backend) throws {
        let fixture = try KerasFixtureTests.fixture("mnist_mlp_adam")
        let model = try #require(try lowerModels("""
        model MLP(x: f32[B, 784]) -> f32[B, 10] {
            return x |> dense(128, activation: relu) |> dense(10)
        }
        train MLP {
            data      = idx(images: "train-images-idx3-ubyte.gz", labels: "train-labels-idx1-ubyte.gz") / 255
            loss      = sparse_categorical_crossentropy(from_logits: true)
            optimizer = adam(lr: 0.001)
            batch     = 32
            shuffle   = false
        }
        """).first)
        let config = try #require(model.training)
        let data = try DatasetLoader.load(config.data, relativeTo: sharedMNIST.path, features: model.graph.type(of: model.graph.inputs[0]),
                                          targets: .classIndices(classes: 10, shape: []))
        let runner = try TrainStepRunner(model: model, config: config, parameters: try fixtureParameters(of: model.graph), backend: backend, pool: testPool)
        let sample = try #require(fixture["sample_index"]).scalars.map { Int($0) }
        func dense1Sample() throws -> Tensor {
            let weights = try #require(runner.parameters["dense1.weight"]).floats
            return try Tensor(shape: [sample.count], scalars: sample.map { weights[$0] })
        }
        var losses: [Float] = []
        for step in 0..<8 {
            let batch = try data.rows(Array((step * 32)..<((step + 1) * 32)))
            losses.append(Float(try runner.train(features: batch.features, targets: batch.targets).loss))
            if step == 0 {
                KerasFixtureTests.expectClose(try #require(runner.parameters["dense2.weight"]), try #require(fixture["step1.dense2.weight"]), "step 1 dense2.weight")
                KerasFixtureTests.expectClose(try #require(runner.parameters["dense2.bias"]), try #require(fixture["step1.dense2.bias"]), "step 1 dense2.bias")
                KerasFixtureTests.expectClose(try dense1Sample(), try #require(fixture["step1.dense1.weight_sample"]), "step 1 dense1.weight")
            }
        }
        KerasFixtureTests.expectClose(try Tensor(shape: [8], scalars: losses), try #require(fixture["losses"]), "losses")
        for name in ["dense2.weight", "dense2.bias", "dense1.bias"] {
            KerasFixtureTests.expectClose(try #require(runner.parameters[name]), try #require(fixture["epoch1.\(name)"]), "epoch \(name)")
        }
        KerasFixtureTests.expectClose(try dense1Sample(), try #require(fixture["epoch1.dense1.weight_sample"]), "epoch dense1.weight")
    }
}
