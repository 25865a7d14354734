import DLMRuntime

/// Seeded random programs in `.dlm`, so the corpus also exercises lowering:
/// chains of elementwise ops with broadcasting, matmuls, reductions kept and
/// broadcast back, softmax, identities the simplifier removes, and shared
/// values. Every program must give the same outputs at -O0 and -O2, and on
/// the interpreter and the JIT. Shared by DLMPassesTests and DLMCodegenTests.
public enum RandomProgram {
    /// The program for `seed`: one model `R(x: f32[B, width], row: f32[width], col: f32[B, 1])`
    /// returning `(f32[B, width], f32[B, 1])`, with `width` one of 3, 8 or 17.
    public static func generate(seed: UInt64) -> String {
        var random = RandomSource(seed: seed)
        func pick(_ n: Int) -> Int { Int(random.next() % UInt64(n)) }
        let width = [3, 8, 17][pick(3)]
        var lines = ["model R(x: f32[B, \(width)], row: f32[\(width)], col: f32[B, 1]) -> (f32[B, \(width)], f32[B, 1]) {"]
        var values = ["x"]
        let statements = 4 + pick(10)
        for n in 0..<statements {
            let a = values[pick(values.count)], b = values[pick(values.count)]
            let expression: String
            switch pick(12) {
            case 0: expression = ["exp", "tanh", "sigmoid", "relu", "abs", "gelu"][pick(6)] + "(\(a) * 0.5)"
            case 1: expression = "\(a) \(["+", "-", "*"][pick(3)]) \(b)"
            case 2: expression = "\(a) * row + col"
            case 3:
                lines.append("    param w\(n): f32[\(width), \(width)] = glorot_uniform")
                expression = "\(a) @ w\(n)"
            case 4: expression = "\(a) - mean(\(a), axis: 1, keepdims: true)"
            case 5: expression = "softmax(\(a))"
            case 6: expression = "transpose(transpose(\(a))) * 1 + 0"
            case 7: expression = "reshape(\(a), [B, \(width)]) / 1"
            case 8: expression = "maximum(\(a), \(b)) - minimum(\(a), 0.25)"
            case 9: expression = "where(\(a) > \(b), \(a), -\(b))"
            case 10: expression = "\(a) |> dense(\(width), activation: \(["relu", "tanh", "linear"][pick(3)]))"
            default: expression = "log_softmax(\(a) + \(b))"
            }
            lines.append("    v\(n) = \(expression)")
            values.append("v\(n)")
        }
        let last = values[values.count - 1], other = values[pick(values.count)]
        lines.append("    return (\(last) + \(other), sum(\(last), axis: 1, keepdims: true))")
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }
}
