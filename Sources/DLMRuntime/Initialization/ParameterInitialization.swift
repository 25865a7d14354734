import DLMGraph
import Foundation

/// Draws initial parameter values, seeded and reproducible.
public enum ParameterInitialization {
    /// The initial values of a parameter with a concrete shape, in row-major order.
    public static func values(_ initializer: Initializer, shape: [Int], random: inout RandomSource) -> [Double] {
        let count = shape.reduce(1, *)
        let (fanIn, fanOut) = Initializer.fans(of: shape)
        func scaled(_ variance: Double, uniform: Bool) -> [Double] {
            if uniform {
                let limit = (3 * variance).squareRoot()
                return (0..<count).map { _ in random.uniform(-limit, limit) }
            }
            // Keras' truncated normal: std corrected for the truncation at two deviations.
            let std = variance.squareRoot() / 0.879_625_661_034_239_8
            return (0..<count).map { _ in truncatedNormal(&random) * std }
        }
        switch initializer {
        case .zeros: return [Double](repeating: 0, count: count)
        case .ones: return [Double](repeating: 1, count: count)
        case .constant(let value): return [Double](repeating: value, count: count)
        case .uniform(let low, let high): return (0..<count).map { _ in random.uniform(low, high) }
        case .normal(let mean, let std): return (0..<count).map { _ in mean + std * random.normal() }
        case .truncatedNormal(let mean, let std): return (0..<count).map { _ in mean + std * truncatedNormal(&random) }
        case .glorotUniform: return scaled(2 / Double(max(1, fanIn + fanOut)), uniform: true)
        case .glorotNormal: return scaled(2 / Double(max(1, fanIn + fanOut)), uniform: false)
        case .heUniform: return scaled(2 / Double(max(1, fanIn)), uniform: true)
        case .heNormal: return scaled(2 / Double(max(1, fanIn)), uniform: false)
        case .lecunUniform: return scaled(1 / Double(max(1, fanIn)), uniform: true)
        case .lecunNormal: return scaled(1 / Double(max(1, fanIn)), uniform: false)
        case .orthogonal(let gain): return orthogonal(shape: shape, gain: gain, random: &random)
        }
    }

    /// A standard normal draw redrawn until it lies within two deviations.
    private static func truncatedNormal(_ random: inout RandomSource) -> Double {
        while true {
            let z = random.normal()
            if abs(z) <= 2 { return z }
        }
    }

    /// Keras' orthogonal initializer: the Q of a QR factorisation of a normal
    /// matrix [prod(shape[..<last]), shape[last]] (transposed when wide), signs fixed by R's diagonal.
    private static func orthogonal(shape: [Int], gain: Double, random: inout RandomSource) -> [Double] {
        let count = shape.reduce(1, *)
        guard shape.count >= 2, count > 0 else { return (0..<count).map { _ in random.normal() * gain } }
        let columns = shape[shape.count - 1]
        let rows = count / columns
        let (tall, short) = (max(rows, columns), min(rows, columns))
        // Orthonormalise `short` vectors of length `tall` (modified Gram–Schmidt).
        var vectors = (0..<short).map { _ in (0..<tall).map { _ in random.normal() } }
        for i in 0..<short {
            for j in 0..<i {
                let dot = zip(vectors[i], vectors[j]).reduce(0) { $0 + $1.0 * $1.1 }
                for k in 0..<tall { vectors[i][k] -= dot * vectors[j][k] }
            }
            let norm = vectors[i].reduce(0) { $0 + $1 * $1 }.squareRoot()
            let scale = norm > 0 ? gain / norm : 0
            for k in 0..<tall { vectors[i][k] *= scale }
        }
        var out = [Double](repeating: 0, count: count)
        for r in 0..<rows {
            for c in 0..<columns {
                // Tall: vectors are the columns; wide: vectors are the rows.
                out[r * columns + c] = rows >= columns ? vectors[c][r] : vectors[r][c]
            }
        }
        return out
    }
}
