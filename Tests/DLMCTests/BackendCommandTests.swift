import DLMRuntime
import Foundation
import Testing

/// `dlmc run --backend`, `dlmc ir --llvm/--asm` and `dlmc doctor`'s LLVM lines, end to end.
@Suite struct BackendCommandTests {
    /// A little-endian f32 `.npy` file of `shape` with values from a fixed pattern.
    private func npy(_ shape: [Int], in directory: URL, name: String) throws -> String {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(shape.map(String.init).joined(separator: ", "))\(shape.count == 1 ? "," : "")), }"
        header += String(repeating: " ", count: 64 - (10 + header.utf8.count + 1) % 64) + "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)] + Array(header.utf8)
        for i in 0..<shape.reduce(1, *) {
            let value = Float((i * 37) % 101) / 101
            withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 }
        }
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    @Test func everyBackendPrintsTheSameOutputs() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dlmc-backends-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let cases: [([String], [Int])] = [
            (["examples/mnist_cnn_a.dlm"], [3, 28, 28, 1]),
            (["examples/lstm.dlm", "--model", "HandwrittenLSTM"], [2, 9, 32]),
            (["examples/simple_rnn.dlm"], [2, 7, 10]),
        ]
        for (model, shape) in cases {
            let input = try npy(shape, in: directory, name: "x\(shape.count).npy")
            var outputs: [Tensor] = []
            for backend in ["interp", "jit", "auto"] {
                let path = directory.appendingPathComponent("\(backend).npy").path
                let result = try dlmc(["run"] + model + ["--input", "x=\(input)", "--backend", backend, "--verbose", "--output", path])
                #expect(result.status == 0, "\(model) \(backend): \(result.stderr)")
                outputs.append(try NPY.read(path))
                if backend == "jit" { #expect(result.stderr.contains("jit: @"), "\(result.stderr)") }
            }
            // The JIT may sum in another order than the interpreter: equal to float32 rounding.
            for other in outputs.dropFirst() {
                #expect(other.mismatch(against: outputs[0], rtol: 1e-5, atol: 1e-6) == nil, "\(model)")
            }
        }
    }

    @Test func irShowsVectorisedLLVMAndAssembly() throws {
        let llvm = try dlmc(["ir", "examples/mlp.dlm", "-O2", "--llvm", "--size", "B=64"])
        #expect(llvm.status == 0, "\(llvm.stderr)")
        #expect(llvm.stdout.contains("define i32 @dlmc_plan"))
        #expect(llvm.stdout.contains(" x float>"), "the bias+relu epilogue should be vectorised")
        // The dense layers run on dlmc's tiled micro-kernel (vector FMAs), not OpenBLAS.
        #expect(llvm.stdout.contains("@llvm.fmuladd.v"))
        #expect(!llvm.stdout.contains("cblas_sgemm"))
        // The language model's 128→10000 output layer has a B too large for it: OpenBLAS.
        let large = try dlmc(["ir", "examples/gru_lm.dlm", "-O2", "--llvm", "--size", "B=2", "--size", "T=4"])
        #expect(large.status == 0 && large.stdout.contains("call void @cblas_sgemm"), "\(large.stderr)")
        // Every convolution of MNIST CNN A compiles (direct loops or the implicit GEMM).
        let cnn = try dlmc(["ir", "examples/mnist_cnn_a.dlm", "-O2", "--llvm", "--size", "B=2"])
        #expect(cnn.status == 0 && !cnn.stdout.contains("calls the interpreter"), "\(cnn.stdout.prefix(400))")
        let unoptimized = try dlmc(["ir", "examples/mlp.dlm", "-O2", "--llvm-unoptimized"])
        #expect(unoptimized.status == 0 && unoptimized.stdout.contains("kernel_n0_fused"))
        let assembly = try dlmc(["ir", "examples/mlp.dlm", "-O2", "--asm", "--size", "B=8"])
        #expect(assembly.status == 0 && assembly.stdout.contains("dlmc_plan:"), "\(assembly.stderr)")
        let bad = try dlmc(["ir", "examples/mlp.dlm", "--llvm", "--size", "B=x"])
        #expect(bad.status == 2 && bad.stderr.contains("--size takes NAME=N"))
        let both = try dlmc(["ir", "examples/mlp.dlm", "--llvm", "--asm"])
        #expect(both.status == 2)
    }

    @Test func badBackendIsAUsageError() throws {
        let result = try dlmc(["run", "examples/xor.dlm", "--backend", "gpu"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("gpu"))
    }

    @Test func doctorReportsLLVM() throws {
        let result = try dlmc(["doctor"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("LLVM:") && result.stdout.contains("LLVM target:"), "\(result.stdout)")
    }
}
