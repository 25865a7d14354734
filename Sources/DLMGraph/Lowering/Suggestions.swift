import DLMSyntax

/// "Did you mean …?" notes and name spelling helpers.
enum Suggestions {
    /// A note naming the closest candidate, if one is close enough to be a likely typo.
    static func note(for name: String, among candidates: [String]) -> [DiagnosticNote] {
        guard let best = closest(to: name, among: candidates) else { return [] }
        return [DiagnosticNote("did you mean '\(best)'?")]
    }

    /// The candidate with the smallest edit distance, within a third of the name's length.
    /// A candidate sharing no letter with the name (`z` and `B`) is no typo.
    static func closest(to name: String, among candidates: [String]) -> String? {
        let limit = max(1, name.count / 3)
        var best: (String, Int)?
        for candidate in Set(candidates) where candidate != name && abs(candidate.count - name.count) <= limit {
            let d = distance(Array(name.lowercased()), Array(candidate.lowercased()))
            if d <= limit, d < max(name.count, candidate.count), isBetter(candidate, d, than: best) {
                best = (candidate, d)
            }
        }
        return best?.0
    }

    private static func isBetter(_ candidate: String, _ d: Int, than best: (String, Int)?) -> Bool {
        guard let best else { return true }
        return d < best.1 || (d == best.1 && candidate < best.0)
    }

    /// Edit distance counting a swap of two neighbouring characters as one
    /// edit (`Nte` → `Net`, `f23` → `f32`): optimal string alignment.
    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var beforePrevious = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], beforePrevious[j - 2] + 1)
                }
            }
            (beforePrevious, previous, current) = (previous, current, beforePrevious)
        }
        return previous[b.count]
    }

    /// `LSTMCell` → `lstm_cell`, `ResidualBlock` → `residual_block`.
    static func snakeCase(_ name: String) -> String {
        let characters = Array(name)
        var out = ""
        for (i, c) in characters.enumerated() {
            if c.isUppercase, i > 0 {
                let previousIsLower = characters[i - 1].isLowercase || characters[i - 1].isNumber
                let nextIsLower = i + 1 < characters.count && characters[i + 1].isLowercase
                if previousIsLower || (characters[i - 1].isUppercase && nextIsLower) { out += "_" }
            }
            out += c.lowercased()
        }
        return out
    }
}
