import DLMRuntime
import Foundation
import Testing

/// `dlmc train` and `dlmc evaluate` end to end: the bundled recipes reach
/// their targets, checkpoints resume to the same weights, and every bad
/// input ends with a located message, exit status 1 and no weights file.
@Suite struct TrainCommandTests {
    /// A fresh scratch directory.
    func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("dlmc-train-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The value of a figure (`loss: 0.1234`) in an evaluate line.
    func figure(_ name: String, in text: String) -> Double? {
        guard let range = text.range(of: "\(name): ") else { return nil }
        return Double(text[range.upperBound...].prefix { $0 == "." || $0 == "-" || $0 == "e" || $0.isNumber })
    }

    @Test func linearRegressionReachesItsTarget() throws {
        let weights = try scratch().appendingPathComponent("linear.safetensors").path
        let train = try dlmc(["train", "examples/linear_regression.dlm", "--output", weights, "--quiet"])
        #expect(train.status == 0, "\(train.stderr)")
        let evaluate = try dlmc(["evaluate", "examples/linear_regression.dlm", "--weights", weights])
        #expect(evaluate.status == 0, "\(evaluate.stderr)")
        let loss = try #require(figure("loss", in: evaluate.stdout), "\(evaluate.stdout)")
        #expect(loss < 1e-3)
    }

    @Test(arguments: ["jit", "interp"])
    func xorGetsAllFourRight(backend: String) throws {
        let directory = try scratch()
        let weights = directory.appendingPathComponent("xor.safetensors").path
        let train = try dlmc(["train", "examples/xor.dlm", "--output", weights, "--backend", backend])
        #expect(train.status == 0, "\(train.stderr)")
        // Not a terminal: one line per epoch, no redraws.
        #expect(train.stdout.contains("Epoch 200/200 - 4/4"))
        #expect(!train.stdout.contains("\r") && !train.stdout.contains("\u{8}"))
        let evaluate = try dlmc(["evaluate", "examples/xor.dlm", "--weights", weights, "--backend", backend])
        #expect(figure("accuracy", in: evaluate.stdout) == 1, "\(evaluate.stdout)\(evaluate.stderr)")
        // The weights load in `dlmc run`, and its outputs agree.
        let input = directory.appendingPathComponent("x.npy").path
        try NPY.write(try Tensor(shape: [4, 2], scalars: [0, 0, 0, 1, 1, 0, 1, 1]), to: input)
        let output = directory.appendingPathComponent("y.npy").path
        let run = try dlmc(["run", "examples/xor.dlm", "--weights", weights, "--input", "x=\(input)", "--output", output])
        #expect(run.status == 0, "\(run.stderr)")
        let predictions = try NPY.read(output).scalars.map { $0 > 0.5 }
        #expect(predictions == [false, true, true, false])
    }

    /// A small model with dropout and a shuffled, split data set, so a resumed run must restore the optimiser,
    /// the step count (dropout's masks) and the epoch (the shuffle) to match.
    static let resumable = """
    model Net(x: f32[N, 2]) -> f32[N, 1] {
        return x |> dense(8, activation: relu) |> dropout(0.25) |> dense(1, activation: sigmoid)
    }
    train Net {
        data      = inline(x: [[0, 0], [0, 1], [1, 0], [1, 1], [0.5, 0.2], [0.1, 0.9], [0.8, 0.7], [0.3, 0.3], [0.9, 0.1], [0.2, 0.6]],
                           y: [[0], [1], [1], [0], [1], [1], [0], [0], [1], [1]])
        validate  = split(0.2)
        loss      = binary_crossentropy
        optimizer = adam(lr: 0.02)
        epochs    = 6
        batch     = 3
        metrics   = [accuracy]
        seed      = 9
    }
    """

    @Test func resumingGivesTheUninterruptedWeights() throws {
        let directory = try scratch()
        let file = directory.appendingPathComponent("net.dlm")
        try Self.resumable.write(to: file, atomically: true, encoding: .utf8)
        let whole = directory.appendingPathComponent("whole.safetensors").path
        let history = directory.appendingPathComponent("history.json").path
        #expect(try dlmc(["train", file.path, "--output", whole, "--history", history, "--quiet"]).status == 0)
        let halfway = directory.appendingPathComponent("half.safetensors").path
        let checkpoints = directory.appendingPathComponent("checkpoints").path
        #expect(try dlmc(["train", file.path, "--output", halfway, "--epochs", "3", "--checkpoint", checkpoints, "--quiet"]).status == 0)
        let resumed = directory.appendingPathComponent("resumed.safetensors").path
        let result = try dlmc(["train", file.path, "--output", resumed, "--resume", checkpoints, "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        let a = try SafeTensors.read(whole).tensors, b = try SafeTensors.read(resumed).tensors, c = try SafeTensors.read(halfway).tensors
        #expect(a.keys.sorted() == b.keys.sorted())
        for (name, tensor) in a {
            #expect(tensor.withUnsafeBytes { Array($0) } == b[name]?.withUnsafeBytes { Array($0) }, "\(name) differs after resuming")
            #expect(tensor.withUnsafeBytes { Array($0) } != c[name]?.withUnsafeBytes { Array($0) }, "\(name) did not change after epoch 3")
        }
        // The history has one entry per epoch with the validation figures.
        let text = try String(contentsOfFile: history, encoding: .utf8)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect((json["val_loss"] as? [Any])?.count == 6)
        #expect((json["accuracy"] as? [Any])?.count == 6)
    }

    @Test func sameSeedGivesBitwiseTheSameWeights() throws {
        let directory = try scratch()
        let file = directory.appendingPathComponent("net.dlm")
        try Self.resumable.write(to: file, atomically: true, encoding: .utf8)
        var runs: [[String: Tensor]] = []
        for index in 0..<2 {
            let path = directory.appendingPathComponent("w\(index).safetensors").path
            #expect(try dlmc(["train", file.path, "--output", path, "--quiet"]).status == 0)
            runs.append(try SafeTensors.read(path).tensors)
        }
        for (name, tensor) in runs[0] {
            #expect(tensor.withUnsafeBytes { Array($0) } == runs[1][name]?.withUnsafeBytes { Array($0) }, "\(name)")
        }
    }

    /// A train block whose data or settings are bad, and what the error must say.
    static let badInputs: [(name: String, data: String, expected: String)] = [
        ("missing file", "csv(\"missing.csv\", label: -1)", "missing.csv"),
        ("labels out of range", "inline(x: [[0, 1], [1, 0]], y: [[0], [5]])", "outside 0..<3"),
        ("data shape", "inline(x: [[0, 1, 2], [1, 0, 2]], y: [[0], [1]])", "3"),
        ("nan in data", "csv(\"nan.csv\", label: -1)", "NaN"),
        ("corrupt file", "npy(x: \"corrupt.npy\", y: \"corrupt.npy\")", "corrupt.npy"),
    ]

    @Test(arguments: badInputs.map(\.name))
    func badDataIsALocatedErrorAndLeavesNoWeights(name: String) throws {
        let case_ = try #require(Self.badInputs.first { $0.name == name })
        let directory = try scratch()
        try "1,2,0\nnan,1,1\n".write(to: directory.appendingPathComponent("nan.csv"), atomically: true, encoding: .utf8)
        try Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, 9, 9]).write(to: directory.appendingPathComponent("corrupt.npy"))
        let file = directory.appendingPathComponent("bad.dlm")
        try """
        model Net(x: f32[N, 2]) -> f32[N, 3] {
            return dense(x, 3)
        }
        train Net {
            data      = \(case_.data)
            loss      = sparse_categorical_crossentropy(from_logits: true)
            optimizer = sgd(lr: 0.1)
        }
        """.write(to: file, atomically: true, encoding: .utf8)
        // An earlier weights file must survive a failed run untouched.
        let weights = directory.appendingPathComponent("w.safetensors").path
        try Data("previous".utf8).write(to: URL(fileURLWithPath: weights))
        let result = try dlmc(["train", file.path, "--output", weights])
        #expect(result.status == 1)
        #expect(result.stderr.contains("bad.dlm:5:17: error:"), "\(result.stderr)")
        #expect(result.stderr.contains(case_.expected), "\(result.stderr)")
        #expect(!result.stderr.contains("Fatal error") && !result.stderr.contains("Stack"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: weights)) == Data("previous".utf8))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty, "temporary files left behind: \(leftovers)")
    }

    @Test func divergingLossStopsWithAClearMessage() throws {
        let directory = try scratch()
        let file = directory.appendingPathComponent("diverge.dlm")
        try """
        model Net(x: f32[N, 1]) -> f32[N, 1] {
            return dense(x, 1)
        }
        train Net {
            data      = inline(x: [[1e18], [2e18]], y: [[1], [2]])
            loss      = mse
            optimizer = sgd(lr: 1e10)
            epochs    = 5
            batch     = 2
        }
        """.write(to: file, atomically: true, encoding: .utf8)
        let weights = directory.appendingPathComponent("w.safetensors").path
        let result = try dlmc(["train", file.path, "--output", weights])
        #expect(result.status == 1)
        #expect(result.stderr.contains("the loss became"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: weights))
    }

    @Test func badFlagsAreUsageErrors() throws {
        let result = try dlmc(["train", "examples/xor.dlm", "--output", "w.bin"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--output must end in .safetensors"))
        let resume = try dlmc(["train", "examples/xor.dlm", "--output", "/tmp/never.safetensors", "--resume", "/nonexistent-dir"])
        #expect(resume.status == 1)
        #expect(resume.stderr.contains("no checkpoint in '/nonexistent-dir'"))
    }
}

/// The recurrent examples' bundled data trains: a small GRU language model's
/// loss falls on the corpus, and the SimpleRNN learns its running-sum task.
@Suite struct RecurrentTrainingTests {
    func epochLosses(_ history: String) throws -> [Double] {
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: history))) as? [String: Any])
        return try #require(json["loss"] as? [Double])
    }

    @Test func languageModelLossFallsOnTheBundledCorpus() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dlmc-lm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let data = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/data").path
        let file = directory.appendingPathComponent("lm.dlm")
        // The example's architecture at a tenth of its width (the corpus has 1,046 distinct tokens).
        try """
        model SmallLM(tokens: i32[B, T]) -> f32[B, T, 1100] {
            return tokens |> embedding(1100, 16) |> gru(32, return_sequences: true) |> dense(1100, activation: softmax)
        }
        train SmallLM {
            data      = npy(x: "\(data)/corpus_ids.npy", y: "\(data)/corpus_next_ids.npy")
            loss      = sparse_categorical_crossentropy
            optimizer = adam(lr: 0.01)
            epochs    = 4
            batch     = 32
        }
        """.write(to: file, atomically: true, encoding: .utf8)
        let history = directory.appendingPathComponent("history.json").path
        let result = try dlmc(["train", file.path, "--output", directory.appendingPathComponent("w.safetensors").path,
                               "--history", history, "--quiet"], timeout: 300)
        #expect(result.status == 0, "\(result.stderr)")
        let losses = try epochLosses(history)
        #expect(losses.count == 4)
        // From ln(1100) ≈ 7.0 at the start; frequent words alone bring it well down.
        #expect(losses[3] < 0.85 * losses[0], "losses per epoch: \(losses)")
    }

    @Test func simpleRNNLearnsTheRunningSum() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dlmc-rnn-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let weights = directory.appendingPathComponent("rnn.safetensors").path
        let history = directory.appendingPathComponent("history.json").path
        let result = try dlmc(["train", "examples/simple_rnn.dlm", "--output", weights, "--history", history, "--epochs", "4", "--quiet"],
                              timeout: 300)
        #expect(result.status == 0, "\(result.stderr)")
        let losses = try epochLosses(history)
        // Chance is ln 2 ≈ 0.69; the running sum is learnable only through the recurrence.
        #expect(losses[3] < 0.4, "losses per epoch: \(losses)")
    }
}

/// Early stopping and a run killed mid-training.
@Suite struct TrainCallbackTests {
    func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("dlmc-callbacks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func earlyStoppingKeepsTheBestEpoch() throws {
        let directory = try scratch()
        let file = directory.appendingPathComponent("net.dlm")
        // A learning rate high enough that the validation loss soon stops improving.
        try TrainCommandTests.resumable
            .replacingOccurrences(of: "epochs    = 6", with: "epochs    = 200\n    callbacks = [early_stopping(monitor: val_loss, patience: 2, restore_best: true)]")
            .replacingOccurrences(of: "adam(lr: 0.02)", with: "adam(lr: 0.3)")
            .write(to: file, atomically: true, encoding: .utf8)
        let weights = directory.appendingPathComponent("w.safetensors").path
        let history = directory.appendingPathComponent("h.json").path
        let result = try dlmc(["train", file.path, "--output", weights, "--history", history])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: history))) as? [String: Any])
        let losses = try #require(json["val_loss"] as? [Double])
        #expect(losses.count < 200, "never stopped")
        #expect(result.stdout.contains("stopped early after epoch \(losses.count)"), "\(result.stdout)")
        // Stopped after `patience` epochs without a new best, and kept the best epoch's weights.
        let best = try #require(losses.indices.min { losses[$0] < losses[$1] })
        #expect(best == losses.count - 3, "best epoch \(best + 1) of \(losses.count): \(losses)")
        let evaluate = try dlmc(["evaluate", file.path, "--weights", weights])
        let reported = try #require(evaluate.stdout.range(of: "loss: ").map { Double(evaluate.stdout[$0.upperBound...].prefix(6)) } ?? nil)
        #expect(abs(reported - losses[best]) < 1e-4, "evaluated \(reported), best epoch's \(losses[best])")
    }

    @Test func resumingAfterAKillGivesTheUninterruptedWeights() throws {
        let directory = try scratch()
        let arguments = ["train", "examples/simple_rnn.dlm", "--epochs", "4", "--batch", "4", "--quiet"]
        let whole = directory.appendingPathComponent("whole.safetensors").path
        #expect(try dlmc(arguments + ["--output", whole], timeout: 300).status == 0)
        // Start again with checkpoints, and kill the process once the first one is written.
        let checkpoints = directory.appendingPathComponent("checkpoints")
        let output = directory.appendingPathComponent("killed.safetensors").path
        let process = Process()
        process.executableURL = try dlmcExecutableURL()
        process.arguments = arguments + ["--output", output, "--checkpoint", checkpoints.path]
        process.currentDirectoryURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let checkpoint = checkpoints.appendingPathComponent("checkpoint.safetensors").path
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning && !FileManager.default.fileExists(atPath: checkpoint) && Date() < deadline { usleep(5_000) }
        let killed = process.isRunning
        if killed { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        if killed { #expect(!FileManager.default.fileExists(atPath: output), "a killed run must not leave weights") }
        let resumed = directory.appendingPathComponent("resumed.safetensors").path
        let result = try dlmc(arguments + ["--output", resumed, "--resume", checkpoints.path], timeout: 300)
        #expect(result.status == 0, "\(result.stderr)")
        let a = try SafeTensors.read(whole).tensors, b = try SafeTensors.read(resumed).tensors
        for (name, tensor) in a {
            #expect(tensor.withUnsafeBytes { Array($0) } == b[name]?.withUnsafeBytes { Array($0) }, "\(name) differs after resuming")
        }
    }
}
