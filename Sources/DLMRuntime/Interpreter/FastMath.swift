/// Branch-free float32 exp and tanh over arrays, so the loops vectorise
/// (libm's scalar calls made sigmoid/tanh dominate recurrent layers).
/// Accuracy is within a few ulp of libm (Cephes' polynomials); NaN, ±inf,
/// overflow and underflow behave as libm's do.
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

    @inline(__always)
    static func tanh(_ value: Float) -> Float {
        let magnitude = Swift.abs(value)
        // Small |x|: odd polynomial (no cancellation); otherwise 1 - 2 / (e^{2|x|} + 1).
        let z = value * value
        var p: Float = -5.704_988_727_45e-3
        p = p * z + 2.063_908_879_54e-2
        p = p * z - 5.373_971_555_31e-2
        p = p * z + 1.333_144_220_36e-1
        p = p * z - 3.333_328_194_22e-1
        let small = value + value * z * p
        let large = 1 - 2 / (exp(2 * Swift.min(magnitude, 20)) + 1)
        let signed = value < 0 ? -large : large
        return value.isNaN ? value : (magnitude < 0.625 ? small : signed)
    }
}
