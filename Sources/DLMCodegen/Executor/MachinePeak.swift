import CLLVM
import Dispatch
import DLMRuntime

/// The machine's float32 peak, measured: a JIT-compiled loop of independent
/// fused multiply-adds on the host's widest vectors (no memory traffic),
/// timed on one thread and on all of them. What the GEMM benchmarks are
/// compared with, since nominal peaks depend on clocks the machine does not
/// report.
public enum MachinePeak {
    /// Measured GFLOPS: one thread, and `threads` threads at once.
    public struct Measurement: Sendable {
        /// GFLOPS of one thread.
        public let singleThread: Double
        /// GFLOPS of `threads` threads running the loop at once.
        public let allThreads: Double
        /// How many threads `allThreads` used.
        public let threads: Int
        /// Float32 lanes per vector in the loop (16 with AVX-512).
        public let vectorLanes: Int
    }

    private typealias Kernel = @convention(c) (Int64) -> Float

    /// Runs the measurement (about a second).
    public static func measure(threads: Int = ThreadPool.default.threads) throws -> Measurement {
        let target = try HostTarget.current()
        let machine = try target.makeTargetMachine()
        defer { LLVMDisposeTargetMachine(machine) }
        let module = CodeModule(name: "peak", target: target, machine: machine)
        let lanes = module.vectorLanes
        let chains = 16   // independent accumulators: enough to cover FMA latency on two pipes
        emitKernel(module, lanes: lanes, chains: chains)
        try module.verify()
        try module.optimize(OptimizationPipeline.current, machine: machine)
        let session = try JITSession(target: target)
        try session.addObject(try module.objectFile(machine: machine), name: "dlmc_peak")
        let kernel = unsafeBitCast(try session.address(of: "dlmc_peak"), to: Kernel.self)
        let iterations: Int64 = 20_000_000
        let flops = Double(iterations) * Double(chains * lanes * 2)
        _ = kernel(iterations / 10)
        func gflops(_ parts: Int) -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            DispatchQueue.concurrentPerform(iterations: parts) { _ in _ = kernel(iterations) }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            return flops * Double(parts) / seconds / 1e9
        }
        let single = (0..<3).map { _ in gflops(1) }.max() ?? 0
        let all = (0..<3).map { _ in gflops(threads) }.max() ?? 0
        return Measurement(singleThread: single, allThreads: all, threads: threads, vectorLanes: lanes)
    }

    /// `float dlmc_peak(i64 n)`: `chains` vector accumulators, each `acc = fma(acc, x, y)` n times.
    private static func emitKernel(_ m: CodeModule, lanes: Int, chains: Int) {
        let b = m.builder
        let vector: LLVMTypeRef = LLVMVectorType(m.f32, UInt32(lanes))
        let fmaType = m.functionType(vector, [vector, vector, vector])
        let fma = m.function("llvm.fmuladd.v\(lanes)f32", fmaType)
        let function = m.function("dlmc_peak", m.functionType(m.f32, [m.i64]))
        let entry = m.block("entry", in: function), body = m.block("body", in: function), exit = m.block("exit", in: function)
        LLVMPositionBuilderAtEnd(b, entry)
        func splat(_ value: Double) -> LLVMValueRef? {
            var elements = [LLVMValueRef?](repeating: m.real(value, m.f32), count: lanes)
            return elements.withUnsafeMutableBufferPointer { LLVMConstVector($0.baseAddress, UInt32(lanes)) }
        }
        LLVMBuildBr(b, body)
        LLVMPositionBuilderAtEnd(b, body)
        let i = LLVMBuildPhi(b, m.i64, "i")
        let accumulators = (0..<chains).map { _ in LLVMBuildPhi(b, vector, "acc") }
        let next = accumulators.map { m.call(fma, fmaType, [$0, splat(0.999_999), splat(1e-7)]) }
        let iNext = LLVMBuildAdd(b, i, m.int64(1), "")
        LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntSLT, iNext, LLVMGetParam(function, 0), ""), body, exit)
        var iValues: [LLVMValueRef?] = [m.int64(0), iNext]
        var blocks: [LLVMBasicBlockRef?] = [entry, body]
        LLVMAddIncoming(i, &iValues, &blocks, 2)
        for (phi, value) in zip(accumulators, next) {
            var values: [LLVMValueRef?] = [splat(1), value]
            LLVMAddIncoming(phi, &values, &blocks, 2)
        }
        LLVMPositionBuilderAtEnd(b, exit)
        // Sum everything so nothing is dead.
        var total = next[0]
        for value in next.dropFirst() { total = LLVMBuildFAdd(b, total, value, "") }
        LLVMBuildRet(b, LLVMBuildExtractElement(b, total, m.int32(0), ""))
    }
}
