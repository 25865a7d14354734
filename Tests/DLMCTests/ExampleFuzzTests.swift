import DLMGraph
import DLMSyntax
import Foundation
import Testing

private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// SplitMix64, so the corpus is the same on every run and machine.
private struct Mutator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }

    static let fragments = ["(", ")", "[", "]", "{", "}", ",", ":", "=", "->", "|>", "@", "+", "-", "*", "/", "==",
                            "model", "layer", "train", "param", "return", "x", "B", "f32", "i32[B, T]", "dense", "conv2d",
                            "relu", "scan", "0", "3.5e2", "\"s\"", "##", "#", "\n", " ", "-1", "999999999999999999999"]

    /// One random edit: delete, duplicate or move a range, flip bytes, truncate, or insert a token.
    mutating func mutate(_ bytes: [UInt8]) -> [UInt8] {
        var b = bytes
        guard !b.isEmpty else { return Array(Self.fragments[below(Self.fragments.count)].utf8) }
        let i = below(b.count), j = min(b.count, i + 1 + below(40))
        switch below(7) {
        case 0: b.removeSubrange(i..<j)
        case 1: b.insert(contentsOf: b[i..<j], at: below(b.count))
        case 2: for _ in 0...below(4) { b[below(b.count)] = UInt8(truncatingIfNeeded: next()) }
        case 3: b = Array(b.prefix(i))
        case 4:
            let lines = b.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            var shuffled = lines
            if lines.count > 1 { shuffled.swapAt(below(lines.count), below(lines.count)) }
            b = Array(shuffled.joined(separator: [UInt8(ascii: "\n")]))
        case 5: b.insert(contentsOf: Array(Self.fragments[below(Self.fragments.count)].utf8), at: i)
        default: b.replaceSubrange(i..<j, with: Array(Self.fragments[below(Self.fragments.count)].utf8))
        }
        return b
    }
}

/// Thousands of seeded mutations of the examples, compiled in-process: each
/// must end in success or in diagnostics located inside the file — a trap
/// would kill the test process. Whatever lowers must verify and print IR
/// that reads back.
@Suite struct ExampleFuzzTests {
    @Test func mutatedExamplesNeverCrash() throws {
        let directory = packageRoot.appendingPathComponent("examples")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".dlm") }.sorted()
        let sources = try files.map { [UInt8](try Data(contentsOf: directory.appendingPathComponent($0))) }
        var mutator = Mutator(state: 0xD1C)
        var lowered = 0, rejected = 0
        for case_ in 0..<3000 {
            var bytes = sources[case_ % sources.count]
            for _ in 0...mutator.below(3) { bytes = mutator.mutate(bytes) }
            let file = SourceFile(path: "fuzz\(case_).dlm", bytes: bytes)
            let diagnostics = DiagnosticEngine()
            let unit = Parser.parse(file, diagnostics: diagnostics)
            let module = Lowering.lower(unit, diagnostics: diagnostics)
            for diagnostic in diagnostics.diagnostics {
                if let range = diagnostic.range, range.file === file {
                    #expect(range.start >= 0 && range.end <= bytes.count, "case \(case_): \(diagnostic.message.text)")
                }
                _ = DiagnosticRenderer().render(diagnostic)
            }
            if diagnostics.hasErrors { rejected += 1 }
            for model in module.models where !diagnostics.hasErrors {
                lowered += 1
                let errors = verify(model.graph)
                #expect(errors.isEmpty, "case \(case_): \(errors.first.map { "\($0)" } ?? "")")
                let text = GraphPrinter().print(model.graph)
                #expect(throws: Never.self, "case \(case_)") { _ = try parseGraph(text) }
            }
        }
        // Both outcomes must be common, or the mutations are too weak or too strong to test anything.
        #expect(lowered > 100 && rejected > 1000, "lowered \(lowered), rejected \(rejected)")
    }
}
