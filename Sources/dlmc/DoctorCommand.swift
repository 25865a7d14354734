import ArgumentParser
import DLMCodegen
import DLMRuntime
import Foundation

extension DLMC {
    /// `dlmc doctor`: what dlmc will run on.
    struct Doctor: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Report the CPU, the BLAS library and its kernels, LLVM and its target, and the thread settings.",
            discussion: "Warns when OpenBLAS runs generic kernels on a CPU with AVX2 or AVX-512."
        )

        @Option(name: .long, help: "Threads to configure (default: DLMC_THREADS or the machine's cores).")
        var threads: Int?

        @Flag(name: .long, help: "Also measure the float32 peak (a compiled loop of vector fused multiply-adds, about a second).")
        var peak = false

        mutating func run() throws {
            let cpu = CPUFeatures.host()
            let pool = threads.map(ThreadPool.init) ?? .default
            BLAS.useSingleThreadedCalls()
            let environment = ProcessInfo.processInfo.environment
            print("CPU:            \(cpu.modelName)")
            print("cores:          \(cpu.cores)")
            print("features:       \(cpu.flags.joined(separator: " "))")
            print("BLAS:           \(BLAS.configuration)")
            print("BLAS kernels:   \(BLAS.coreName)\(environment["OPENBLAS_CORETYPE"].map { " (OPENBLAS_CORETYPE=\($0))" } ?? " (detected)")")
            print("BLAS threads:   \(BLAS.threads) per call; dlmc's \(pool.threads) threads share out tiles of each product (bands of \(BLASBlocks.rows) rows or strips of \(BLASBlocks.columns) columns)")
            print("dlmc threads:   \(pool.threads)\(environment["DLMC_THREADS"].map { " (DLMC_THREADS=\($0))" } ?? "")")
            do {
                let host = try HostTarget.current()
                print("LLVM:           \(host.llvmVersion)")
                print("LLVM target:    \(host.triple), cpu \(host.cpu)")
                print("LLVM features:  \(host.vectorFeatures.joined(separator: " "))")
                if peak {
                    let measured = try MachinePeak.measure(threads: pool.threads)
                    print(String(format: "f32 peak:       %.0f GFLOPS on 1 thread, %.0f on %ld (%ld-lane FMA, measured)",
                                 measured.singleThread, measured.allThreads, measured.threads, measured.vectorLanes))
                }
            } catch {
                print("LLVM:           unavailable (\(error)); models run on the interpreter")
            }
            if let warning = BLAS.kernelWarning(cpu: cpu) {
                FileHandle.standardError.write(Data("warning: \(warning)\n".utf8))
            }
        }
    }
}
