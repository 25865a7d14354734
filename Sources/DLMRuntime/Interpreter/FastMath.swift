/// Branch-free float32 exp and tanh over arrays, so the loops vectorise
/// (libm's scalar calls made sigmoid/tanh dominate recurrent layers).
/// Accuracy is within a few ulp of libm (Cephes' polynomial for exp, a rational
/// fit for tanh); NaN, ±inf, overflow and underflow behave as libm's do.
enum FastMath {
    static func exp(_ a: UnsafeMutablePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { out[i] = exp(a[i]) }
    }

    static func tanh(_ a: UnsafeMutablePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { out[i] = tanh(a[i]) }
    }

    @inline(__always)
    static func exp(_ value: Float) -> Float {
        // exp(x) = 2^k · e^r with k = round(x / ln 2) and |r| ≤ ln2 / 2.
        let x = value.isNaN ? 0 : Swift.min(Swift.max(value, -103.972_08), 88.722_84)
        // Round x / ln 2 to an integer with the 1.5·2²³ trick: no conversions that could trap, so the loop vectorises.
        let magic: Float = 12_582_912
        let shifted = x * 1.442_695_04 + magic
        let k = shifted - magic
        let ki = Int32(bitPattern: shifted.bitPattern &- magic.bitPattern)
        let r = x - k * 0.693_359_375 + k * 2.121_944_4e-4
        var p: Float = 1.987_569_15e-4
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        let e = p * r * r + r + 1
        // 2^k in two factors, so k down to -150 (subnormal results) and up to 128 stay exact.
        let k1 = ki >> 1, k2 = ki &- (ki >> 1)
        let s1 = Float(bitPattern: UInt32(bitPattern: (k1 &+ 127) &<< 23)), s2 = Float(bitPattern: UInt32(bitPattern: (k2 &+ 127) &<< 23))
        let result = e * s1 * s2
        return value.isNaN ? value : (value > 88.722_84 ? .infinity : (value < -103.972_08 ? 0 : result))
    }

    /// tanh(x) = x·P(x²)/Q(x²) for |x| ≤ 9 and ±1 beyond: a rational fit (degree 4 over 4 in x²,
    /// relative error 2e-8; 3.0e-7 at worst once evaluated in float32), one division and no exp,
    /// half the work of `1 - 2/(e^{2|x|} + 1)`, which dominated recurrent cells' gates. The
    /// coefficients were fitted by `scripts/fit_tanh.py`.
    @inline(__always)
    static func tanh(_ value: Float) -> Float {
        let x = Swift.min(Swift.max(value, -9), 9)
        let z = x * x
        var p: Float = 1.335_519_6e-8
        p = p * z + 2.060_942_5e-5
        p = p * z + 3.495_607_3e-3
        p = p * z + 1.338_104_2e-1
        p = p * z + 1
        var q: Float = 7.776_763_5e-7
        q = q * z + 3.285_667_3e-4
        q = q * z + 2.587_705_3e-2
        q = q * z + 4.671_435_7e-1
        q = q * z + 1
        // Near ±9 the quotient can round one ulp past ±1.
        let t = Swift.min(Swift.max(x * p / q, -1), 1)
        return value.isNaN ? value : t
    }
}
