// Front-end throughput: parse + lower (which infers and checks every shape)
// + verify a generated model of N layers, for growing N. Prints time per
// layer at each size so linear growth is visible as a flat column.
//
//   swift run -c release frontend-bench [max-layers]

import DLMGraph
import DLMSyntax
import Foundation

/// A model of `layers` dense layers alternating widths, plus elementwise
/// math every few layers, the way real files mix layers and primitives.
func generateModel(layers: Int) -> String {
    var lines = ["model Deep(x: f32[B, 64]) -> f32[B, 64] {", "    h0 = x"]
    for i in 1...layers {
        let width = i % 2 == 0 ? 64 : 32
        if i % 4 == 0 {
            lines.append("    h\(i) = relu(h\(i - 1) * 0.5 + 1.0) |> dense(\(width), activation: relu)")
        } else {
            lines.append("    h\(i) = h\(i - 1) |> dense(\(width), activation: tanh)")
        }
    }
    lines.append("    return dense(h\(layers), 64)")
    lines.append("}")
    return lines.joined(separator: "\n") + "\n"
}

func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

let maximum = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 5000 : 5000
var sizes: [Int] = []
var n = max(1, maximum / 8)
while n <= maximum { sizes.append(n); n *= 2 }
if sizes.last != maximum { sizes.append(maximum) }

print("layers    bytes      parse ms   lower ms  verify ms   total ms   µs/layer")
for layers in sizes {
    let text = generateModel(layers: layers)
    let file = SourceFile(path: "deep.dlm", text: text)
    var parse = Double.infinity, lower = Double.infinity, check = Double.infinity
    // Best of three runs: the machines are shared and noisy.
    for _ in 0..<3 {
        let diagnostics = DiagnosticEngine()
        var unit: SourceUnit?
        parse = min(parse, seconds { unit = Parser.parse(file, diagnostics: diagnostics) })
        var module: LoweredModule?
        lower = min(lower, seconds { module = Lowering.lower(unit!, diagnostics: diagnostics) })
        guard !diagnostics.hasErrors, let graph = module?.models.first?.graph else {
            print("generated model failed to check:")
            print(DiagnosticRenderer().render(diagnostics.diagnostics))
            exit(1)
        }
        check = min(check, seconds { _ = verify(graph) })
    }
    let total = parse + lower + check
    print(String(format: "%6ld %8ld %10.1f %10.1f %10.1f %10.1f %10.2f", layers, text.utf8.count,
                 parse * 1e3, lower * 1e3, check * 1e3, total * 1e3, total * 1e6 / Double(layers)))
}
