import COpenBLAS
import Foundation

/// The BLAS library in use: OpenBLAS's build and run-time choices, and the
/// thread count, which dlmc sets deliberately instead of leaving it to chance.
public enum BLAS {
    /// OpenBLAS's build configuration string (version, threading, target).
    public static var configuration: String {
        openblas_get_config().map { String(cString: $0) } ?? "unknown"
    }

    /// The kernel set OpenBLAS chose at start-up (e.g. "Cooperlake", "SkylakeX", "Haswell", "Prescott").
    public static var coreName: String {
        openblas_get_corename().map { String(cString: $0).trimmingCharacters(in: .whitespaces) } ?? "unknown"
    }

    /// Threads OpenBLAS will use for one call.
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// Sets OpenBLAS's thread count. dlmc's own calls keep it at 1 and split
    /// the work themselves (`BLASBlocks`), so this is for experiments only.
    public static func setThreads(_ count: Int) {
        openblas_set_num_threads(Int32(max(1, count)))
    }

    /// Makes every OpenBLAS call single-threaded (once per process): dlmc
    /// shares out fixed blocks of each product over its own threads instead,
    /// so results do not depend on the thread count.
    public static func useSingleThreadedCalls() {
        _ = singleThreaded
    }

    private static let singleThreaded: Void = openblas_set_num_threads(1)

    /// Kernel sets that use no AVX2: generic fallbacks that are many times
    /// slower on a modern CPU (about 30 GFLOPS instead of 140–250 on these machines).
    static let genericCores: Set<String> = ["prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "katmai",
                                            "coppermine", "northwood", "banias", "opteron", "barcelona", "bobcat", "athlon", "sandybridge", "bulldozer"]

    /// A warning when OpenBLAS runs generic kernels on a CPU that has
    /// AVX2/AVX-512, with the setting that fixes it; `nil` when all is well or
    /// the user chose the kernels with `OPENBLAS_CORETYPE`.
    public static func kernelWarning(cpu: CPUFeatures = .host(), environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        let core = coreName
        guard genericCores.contains(core.lowercased()), cpu.hasAVX2 else { return nil }
        if let chosen = environment["OPENBLAS_CORETYPE"], !chosen.isEmpty { return nil }
        let better = cpu.hasAVX512 ? "SkylakeX" : "Haswell"
        return "OpenBLAS is using generic '\(core)' kernels on a CPU with \(cpu.hasAVX512 ? "AVX-512" : "AVX2"); "
            + "GEMM may run several times slower. Set OPENBLAS_CORETYPE=\(better) before starting dlmc."
    }
}
