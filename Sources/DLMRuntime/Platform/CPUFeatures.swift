import Foundation

/// What the host CPU is and which vector extensions it has (from /proc/cpuinfo).
public struct CPUFeatures: Sendable {
    /// The model name, e.g. "AMD EPYC 9R14".
    public let modelName: String
    /// Flags of interest that are present, in a fixed order: sse4_2, avx, avx2, fma, avx512f, avx512bw, avx512vl, avx512dq, avx512_vnni, avx512_bf16.
    public let flags: [String]
    /// Logical processors available to this process.
    public let cores: Int

    static let interesting = ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_vnni", "avx512_bf16"]

    /// Reads the host's features.
    public static func host() -> CPUFeatures {
        let text = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        var model = "unknown"
        var flags: [String] = []
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            if parts[0] == "model name", model == "unknown" { model = parts[1] }
            if parts[0] == "flags", flags.isEmpty {
                let present = Set(parts[1].split(separator: " ").map(String.init))
                flags = interesting.filter(present.contains)
            }
        }
        return CPUFeatures(modelName: model, flags: flags, cores: ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Whether AVX-512 (foundation) is available.
    public var hasAVX512: Bool { flags.contains("avx512f") }
    /// Whether AVX2 is available.
    public var hasAVX2: Bool { flags.contains("avx2") }
}
