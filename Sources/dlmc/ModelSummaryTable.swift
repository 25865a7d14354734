import Foundation
import DLMGraph

/// The Keras-style table `dlmc check` prints for a model.
struct ModelSummaryTable {
    let model: LoweredModel
    let path: String

    func render() -> String {
        let graph = model.graph
        var rows: [(String, String, String)] = graph.inputs.map { id in
            ("\(graph.name(of: id) ?? "input") (input)", graph.type(of: id).description, "0")
        }
        rows += model.summary.map { row in
            ("\(row.name) (\(row.kind))", row.outputType, Self.grouped(row.parameterCount))
        }
        let headers = ("Layer (type)", "Output type", "Params")
        let w0 = max(headers.0.count, rows.map(\.0.count).max() ?? 0)
        let w1 = max(headers.1.count, rows.map(\.1.count).max() ?? 0)
        let w2 = max(headers.2.count, rows.map(\.2.count).max() ?? 0)
        func line(_ a: String, _ b: String, _ c: String) -> String {
            a.padding(w0) + "  " + b.padding(w1) + "  " + String(repeating: " ", count: w2 - c.count) + c + "\n"
        }
        let rule = String(repeating: "─", count: w0 + w1 + w2 + 4) + "\n"
        let total = graph.parameters.reduce(0) { $0 + ($1.type.shape.elementCount.constantValue ?? 0) }
        let frozen = graph.parameters.filter { !$0.isTrainable }.reduce(0) { $0 + ($1.type.shape.elementCount.constantValue ?? 0) }
        var out = "Model \"\(model.name)\" (\(path))\n"
        out += rule + line(headers.0, headers.1, headers.2) + rule
        for row in rows { out += line(row.0, row.1, row.2) }
        out += rule
        let outputs = graph.outputs.map { graph.type(of: $0).description }.joined(separator: ", ")
        out += "Output: \(outputs)\n"
        out += "Total params: \(Self.grouped(total)) (\(Self.bytes(total * 4)))\n"
        out += "Trainable params: \(Self.grouped(total - frozen))\n"
        out += "Non-trainable params: \(Self.grouped(frozen))\n"
        out += "Graph: \(graph.nodes.count) ops\n"
        return out
    }

    /// 93322 → "93,322".
    static func grouped(_ n: Int) -> String {
        let digits = Array(String(n))
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(d)
        }
        return out
    }

    static func bytes(_ n: Int) -> String {
        if n < 1024 { return "\(n) B" }
        if n < 1024 * 1024 { return String(format: "%.2f KB", Double(n) / 1024) }
        return String(format: "%.2f MB", Double(n) / 1024 / 1024)
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
