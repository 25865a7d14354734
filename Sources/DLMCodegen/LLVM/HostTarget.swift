import CLLVM
import Foundation

/// The machine dlmc runs on, as LLVM sees it: triple, CPU name and feature
/// string (so code uses AVX-512 where the host has it, whatever the CPU).
public struct HostTarget: Sendable, Hashable {
    /// The target triple, e.g. `x86_64-pc-linux-gnu`.
    public let triple: String
    /// LLVM's name for the host CPU, e.g. `znver4` or `sapphirerapids`.
    public let cpu: String
    /// The host's feature string (`+avx512f,+fma,...`).
    public let features: String
    /// LLVM's version, `major.minor.patch`.
    public let llvmVersion: String

    /// The host, after initialising LLVM's native target once; throws when
    /// LLVM has no backend for this machine.
    public static func current() throws -> HostTarget {
        try NativeTarget.initialize()
        let triple = LLVMError.take(LLVMGetDefaultTargetTriple())
        let cpu = LLVMError.take(LLVMGetHostCPUName())
        let features = LLVMError.take(LLVMGetHostCPUFeatures())
        return HostTarget(triple: triple, cpu: cpu, features: features, llvmVersion: LLVM_VERSION_STRING)
    }

    /// The vector features worth showing a person (`avx2 avx512f ...`).
    public var vectorFeatures: [String] {
        features.split(separator: ",").filter { $0.hasPrefix("+") }.map { String($0.dropFirst()) }
            .filter { $0.hasPrefix("avx") || $0 == "fma" || $0.hasPrefix("sse4") }
            .sorted()
    }

    /// A target machine for the host at the given optimisation level.
    func makeTargetMachine(optimization: LLVMCodeGenOptLevel = LLVMCodeGenLevelAggressive) throws -> LLVMTargetMachineRef {
        var target: LLVMTargetRef?
        var message: UnsafeMutablePointer<CChar>?
        guard LLVMGetTargetFromTriple(triple, &target, &message) == 0, let target else {
            throw LLVMError("no LLVM target for '\(triple)': \(LLVMError.take(message))")
        }
        guard let machine = LLVMCreateTargetMachine(target, triple, cpu, features, optimization,
                                                    LLVMRelocDefault, LLVMCodeModelJITDefault) else {
            throw LLVMError("LLVM could not create a target machine for \(triple) (\(cpu))")
        }
        return machine
    }
}

/// LLVM's optimisation pipeline for plans: `default<O2>` (measured against
/// O3 on the reference models: the same run times, a third less compile time
/// for MNIST CNN A), or `DLMC_LLVM_PIPELINE` (any new-pass-manager pipeline
/// text, e.g. `default<O3>`) to experiment.
enum OptimizationPipeline {
    static var current: String {
        ProcessInfo.processInfo.environment["DLMC_LLVM_PIPELINE"].flatMap { $0.isEmpty ? nil : $0 } ?? "default<O2>"
    }
}

/// One-time initialisation of LLVM's backend for the host.
enum NativeTarget {
    private static let status: String? = {
        if LLVMInitializeNativeTarget() != 0 { return "LLVM has no native target for this machine" }
        if LLVMInitializeNativeAsmPrinter() != 0 { return "LLVM has no assembly printer for this machine" }
        LLVMOptions.apply()
        return nil
    }()

    static func initialize() throws {
        if let status { throw LLVMError(status) }
    }
}

/// LLVM's own command-line options for the code generator, set once per
/// process before the first compile: dlmc's defaults, then any in
/// `DLMC_LLVM_OPTIONS` (space-separated, e.g. `-lsr-complexity-limit=1000`).
/// They are process-wide: an app embedding dlmc next to its own LLVM shares them.
enum LLVMOptions {
    /// Loop strength reduction off: on the GEMM micro-kernel's loops (a dozen
    /// addresses a step) it took 2.5 of 3.1 s of code generation for MNIST CNN A,
    /// and the code it made was slower. Measured in one run (`runtime-bench
    /// --sgemm`, GFLOPS with / without): 576×64×576 103–109 / 202, 64×512×128
    /// 102 / 182, 7744×64×288 95–150 / 172–184; compile of MNIST CNN A at batch
    /// 64 366–422 / 240–248 ms; the reference models' run times unchanged within noise.
    static let defaults = ["-disable-lsr"]

    /// The options in force, for the compile cache's key.
    static var current: [String] {
        defaults + (ProcessInfo.processInfo.environment["DLMC_LLVM_OPTIONS"]?.split(separator: " ").map(String.init) ?? [])
    }

    static func apply() {
        let options = ["dlmc"] + current
        guard options.count > 1 else { return }
        var arguments = options.map { strdup($0) }
        defer { arguments.forEach { free($0) } }
        arguments.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) { pointer in
                LLVMParseCommandLineOptions(Int32(buffer.count), pointer, "dlmc")
            }
        }
    }
}
