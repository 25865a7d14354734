import Testing
@testable import DLMGraph

/// Random mutations of printed graphs must never crash the parser, the
/// verifier or the printer.
@Suite struct ParserFuzzTests {
    /// A small deterministic generator (SplitMix64).
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let fragments = ["%", "@", "(", ")", "[", "]", "{", "}", ",", ":", "=", "->", "-", "*", "/", "+", "0", "1",
                            "999999999999999999999", "B", "T", "f32", "i64", "bool", "scan", "body", "return", "param",
                            "frozen", "\"", "1.5e-3", "loc(\"f\":1:1)", "\n", " ", "relu", "%0", "%x", "@w", "inf", "nan"]

    func mutate(_ text: String, _ random: inout SplitMix) -> String {
        var scalars = Array(text.unicodeScalars)
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            let position = scalars.isEmpty ? 0 : Int.random(in: 0..<scalars.count, using: &random)
            switch Int.random(in: 0..<4, using: &random) {
            case 0 where !scalars.isEmpty:
                scalars.remove(at: position)
            case 1:
                let fragment = Self.fragments.randomElement(using: &random) ?? ""
                scalars.insert(contentsOf: fragment.unicodeScalars, at: position)
            case 2 where !scalars.isEmpty:
                let end = Swift.min(scalars.count, position + Int.random(in: 1...12, using: &random))
                scalars.removeSubrange(position..<end)
            default:
                if !scalars.isEmpty, let other = scalars.indices.randomElement(using: &random) {
                    scalars.swapAt(position, other)
                }
            }
        }
        var result = ""
        result.unicodeScalars.append(contentsOf: scalars)
        return result
    }

    @Test func mutatedGraphsNeverCrash() throws {
        let seeds = [try Fixtures.mlp().description, try Fixtures.rnn().description]
        var random = SplitMix(state: 0xD1_3C)
        var parsed = 0
        var valid = 0
        for round in 0..<600 {
            let text = mutate(seeds[round % seeds.count], &random)
            guard let graph = try? parseGraph(text) else { continue }
            parsed += 1
            let errors = verify(graph)
            if errors.isEmpty { valid += 1 }
            let printed = graph.description
            #expect(try parseGraph(printed).description == printed, "\(text)")
            _ = GraphPrinter(printsLocations: true).print(graph)
        }
        #expect(parsed > 0)
        #expect(valid > 0)
    }

    @Test func randomBytesNeverCrash() {
        var random = SplitMix(state: 7)
        for _ in 0..<300 {
            let length = Int.random(in: 0..<80, using: &random)
            var text = ""
            for _ in 0..<length {
                text += Self.fragments.randomElement(using: &random) ?? ""
            }
            if let graph = try? parseGraph(text) { _ = verify(graph) }
        }
    }
}
