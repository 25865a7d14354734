import Foundation
import Testing

private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The built `dlmc`, for tests that start it themselves.
func dlmcExecutableURL() throws -> URL { try dlmcExecutable() }

/// The built `dlmc`, next to the test bundle.
private func dlmcExecutable() throws -> URL {
    var candidates: [URL] = []
    let argument0 = URL(fileURLWithPath: CommandLine.arguments[0])
    candidates.append(argument0.deletingLastPathComponent().appendingPathComponent("dlmc"))
    candidates.append(Bundle.main.bundleURL.appendingPathComponent("dlmc"))
    candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("dlmc"))
    candidates.append(packageRoot.appendingPathComponent(".build/debug/dlmc"))
    guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
        throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "dlmc not built; tried \(candidates.map(\.path))"])
    }
    return found
}

struct Result {
    let status: Int32
    let stdout: String
    let stderr: String
    let signaled: Bool
}

/// Runs dlmc with a time limit, in the package root.
func dlmc(_ arguments: [String], timeout: TimeInterval = 60) throws -> Result {
    let process = Process()
    process.executableURL = try dlmcExecutable()
    process.arguments = arguments
    process.currentDirectoryURL = packageRoot
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // Read while running so a full pipe cannot block the child.
    nonisolated(unsafe) var outData = Data(), errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async { outData = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    group.enter()
    DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning {
        process.terminate()
        Issue.record("dlmc \(arguments.joined(separator: " ")) timed out after \(timeout) s")
    }
    process.waitUntilExit()
    group.wait()
    return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                  stderr: String(decoding: errData, as: UTF8.self), signaled: process.terminationReason == .uncaughtSignal)
}

@Suite struct CommandLineTests {
    static let totals: [(String, String)] = [
        ("examples/mnist_cnn_a.dlm", "Total params: 93,322"), ("examples/mnist_cnn_b.dlm", "Total params: 121,930"),
        ("examples/mnist_cnn_c.dlm", "Total params: 225,034"), ("examples/mlp.dlm", "Total params: 101,770"),
        ("examples/xor.dlm", "Total params: 9 "), ("examples/linear_regression.dlm", "Total params: 3 "),
        ("examples/simple_rnn.dlm", "Total params: 34,562"), ("examples/gru_lm.dlm", "Total params: 2,669,072"),
        ("examples/lstm.dlm", "Total params: 82,432"),
    ]

    @Test func checkPrintsKerasParameterCounts() throws {
        for (file, total) in Self.totals {
            let result = try dlmc(["check", file])
            #expect(result.status == 0, "\(file): \(result.stderr)")
            #expect(result.stdout.contains(total), "\(file)")
        }
    }

    @Test func everyExampleChecksInOneRun() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("examples").path)
            .filter { $0.hasSuffix(".dlm") }.sorted().map { "examples/\($0)" }
        let result = try dlmc(["check", "--quiet"] + files)
        #expect(result.status == 0 && result.stderr.isEmpty, "\(result.stderr)")
    }

    @Test func programErrorsExitOneWithLocatedDiagnostics() throws {
        let result = try dlmc(["check", "Tests/DLMGraphTests/Diagnostics/dense_on_image.dlm"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("dense_on_image.dlm:4:10: error: dense expects a rank-2 input"))
        #expect(result.stderr.contains("note: add flatten before dense"))
    }

    @Test(arguments: [["check"], ["frobnicate"], ["check", "--nope", "examples/xor.dlm"], ["ir", "-O7", "examples/xor.dlm"],
                      ["run", "examples/xor.dlm", "--input", "x"]])
    func badUsageExitsTwo(arguments: [String]) throws {
        let result = try dlmc(arguments)
        #expect(result.status == 2, "\(arguments): \(result.stderr)")
        #expect(!result.stderr.isEmpty)
    }

    @Test func badFilesExitOneWithoutCrashing() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dlmc-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var random = SystemRandomNumberGenerator()
        let cases: [(String, [UInt8])] = [
            ("empty", []),
            ("binary", (0..<20_000).map { _ in UInt8.random(in: 0...255, using: &random) }),
            ("utf8", Array("model M(x: f32[B, 2]) -> f32[B, 2] {\n  return x ".utf8) + [0xFF, 0xFE] + Array("\n}\n".utf8)),
            ("parens", Array(("model M(x: f32[B, 2]) -> f32[B, 2] {\n  return " + String(repeating: "(", count: 100_000) + "x" + String(repeating: ")", count: 100_000) + "\n}\n").utf8)),
            ("string", Array("model M(x: f32[B, 2]) -> f32[B, 2] {\n  return dense(x, 2, name: \"abc\n}\n".utf8)),
            ("comment", Array("## only a doc comment".utf8)),
        ]
        var paths = cases.map { name, bytes -> String in
            let url = directory.appendingPathComponent("\(name).dlm")
            _ = FileManager.default.createFile(atPath: url.path, contents: Data(bytes))
            return url.path
        }
        paths += [directory.appendingPathComponent("missing.dlm").path, directory.path]
        for path in paths {
            let result = try dlmc(["check", path])
            #expect(result.status == 1 && !result.signaled, "\(path): \(result.status)")
            #expect(result.stderr.contains("error:"), "\(path)")
            for crash in ["Fatal error", "Stack dump", "backtrace", "Segmentation"] {
                #expect(!result.stderr.contains(crash), "\(path)")
            }
        }
    }

    @Test func hugeModelsCheckWithoutOverflowingTheStack() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dlmc-huge-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // 200,000 piped layers: the syntax tree nests one call per layer.
        let layers = 200_000
        let piped = "model Deep(x: f32[B, 4]) -> f32[B, 4] {\n  h = x\n" + String(repeating: "    |> relu\n", count: layers) + "  return h\n}\n"
        let deep = directory.appendingPathComponent("deep.dlm")
        try Data(piped.utf8).write(to: deep)
        let result = try dlmc(["check", deep.path], timeout: 120)
        #expect(result.status == 0 && !result.signaled, "\(result.stderr.prefix(2000))")
        #expect(result.stdout.contains("Total params: 0"))

        // Ten megabytes of text that is not a model: errors, collected and bounded.
        let big = directory.appendingPathComponent("big.dlm")
        try Data(String(repeating: "model ;; 123 @@ \n", count: 10 << 20 / 18).utf8).write(to: big)
        let bigResult = try dlmc(["check", big.path], timeout: 120)
        #expect(bigResult.status == 1 && !bigResult.signaled)
        #expect(bigResult.stderr.contains("error:"))
        #expect(bigResult.stderr.utf8.count < 1 << 20, "diagnostics should stop after a limit, got \(bigResult.stderr.utf8.count) bytes")
    }

    @Test func initThenRunRoundTripsThroughFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dlmc-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let weights = directory.appendingPathComponent("w.safetensors").path
        let initialised = try dlmc(["init", "examples/xor.dlm", "--output", weights, "--seed", "5"])
        #expect(initialised.status == 0, "\(initialised.stderr)")
        // A .npy input written by hand: f32 [4, 2].
        var npy: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 2), }"
        header += String(repeating: " ", count: 64 - (10 + header.utf8.count + 1) % 64) + "\n"
        npy += [UInt8(header.utf8.count), 0] + Array(header.utf8)
        for value: Float in [0, 0, 0, 1, 1, 0, 1, 1] { withUnsafeBytes(of: value.bitPattern.littleEndian) { npy += $0 } }
        let input = directory.appendingPathComponent("x.npy").path
        _ = FileManager.default.createFile(atPath: input, contents: Data(npy))
        let output = directory.appendingPathComponent("out.npy").path
        let run = try dlmc(["run", "examples/xor.dlm", "--weights", weights, "--input", "x=\(input)", "--output", output])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(FileManager.default.fileExists(atPath: output))
        let printed = try dlmc(["run", "examples/xor.dlm", "--weights", weights, "--input", "x=\(input)"])
        #expect(printed.stdout.hasPrefix("output: f32[4, 1]"), "\(printed.stdout)")
        // A wrong input shape names the input and the size.
        let wrong = try dlmc(["run", "examples/mlp.dlm", "--input", "x=\(input)"])
        #expect(wrong.status == 1 && wrong.stderr.contains("input 'x'"), "\(wrong.stderr)")
    }

    @Test func irPrintsOptimisedGroupsAndStatistics() throws {
        let result = try dlmc(["ir", "examples/mlp.dlm", "-O2", "--stats"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("fused(%x, @dense1.weight, @dense1.bias) {kind = \"gemm\"}"))
        #expect(result.stderr.contains("fuse"))
    }

    @Test func helpReadsAtEveryLevel() throws {
        for command in [[], ["check"], ["ir"], ["run"], ["init"], ["doctor"]] {
            let result = try dlmc(command + ["--help"])
            #expect(result.status == 0)
            #expect(result.stdout.contains("OVERVIEW:") && result.stdout.contains("USAGE: dlmc"), "\(command)")
        }
    }
}
