import Foundation

/// A small, fast, reproducible generator (SplitMix64) with uniform and
/// normal draws. Every parameter gets its own stream, seeded from the run's
/// seed and the parameter's name, so a value never depends on the order in
/// which parameters are created.
public struct RandomSource: Sendable {
    private var state: UInt64

    /// A stream seeded directly.
    public init(seed: UInt64) {
        state = seed
    }

    /// The stream for a named parameter under a run seed.
    public init(seed: UInt64, name: String) {
        state = seed ^ Self.fnv1a(name)
    }

    /// FNV-1a, 64-bit, over UTF-8 bytes.
    public static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state = state &+ 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func unit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform in [low, high).
    public mutating func uniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * unit()
    }

    /// Standard normal (Box–Muller; one draw per call, for simplicity over speed).
    public mutating func normal() -> Double {
        var u = unit()
        while u <= .leastNormalMagnitude { u = unit() }
        let v = unit()
        return (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * .pi * v)
    }
}
