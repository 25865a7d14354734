/// Formats diagnostics like a compiler: `file:line:col: error: message`, the
/// source line, and a caret/underline under the exact range, then notes.
public struct DiagnosticRenderer: Sendable {
    /// Whether to append `[id]` to each headline (`--debug-diagnostic-names`).
    public var showsIdentifiers: Bool
    /// Whether to colour the output with ANSI escapes.
    public var usesColor: Bool

    /// Creates a renderer.
    public init(showsIdentifiers: Bool = false, usesColor: Bool = false) {
        self.showsIdentifiers = showsIdentifiers
        self.usesColor = usesColor
    }

    /// Renders one diagnostic with its notes, ending in a newline.
    public func render(_ diagnostic: Diagnostic) -> String {
        var text = diagnostic.message.text
        if showsIdentifiers { text += " [\(diagnostic.message.id)]" }
        var out = block(severity: diagnostic.severity, text: text, range: diagnostic.range)
        for note in diagnostic.notes {
            out += block(severity: .note, text: note.text, range: note.range)
        }
        return out
    }

    /// Renders a list of diagnostics followed by an error count summary line.
    public func render(_ diagnostics: [Diagnostic]) -> String {
        var out = diagnostics.map(render).joined()
        let errors = diagnostics.filter { $0.severity == .error }.count
        if errors > 0 {
            out += "\(errors) error\(errors == 1 ? "" : "s") generated.\n"
        }
        return out
    }

    private func block(severity: Severity, text: String, range: SourceRange?) -> String {
        let label = paint(severity.rawValue + ":", severity)
        guard let range else { return "\(label) \(text)\n" }
        let file = range.file
        let (line, column) = file.lineAndColumn(of: range.start)
        var out = "\(range.description): \(label) \(text)\n"
        let sourceLine = file.lineText(line)
        guard !sourceLine.isEmpty || range.start < file.bytes.count else { return out }
        let shown = Self.printable(sourceLine)
        out += "  \(shown)\n"
        // Underline to the end of the range or of the line, whichever is first.
        let (endLine, endColumn) = file.lineAndColumn(of: range.end)
        let lineLength = shown.count
        let lastColumn = endLine == line ? max(column + 1, endColumn) : lineLength + 1
        let width = max(1, min(lastColumn, lineLength + 1) - column)
        let marker = "^" + String(repeating: "~", count: max(0, width - 1))
        out += "  " + String(repeating: " ", count: column - 1) + paint(marker, .note) + "\n"
        return out
    }

    /// Tabs become single spaces (so the caret lines up) and control characters `?`.
    static func printable(_ line: String) -> String {
        String(line.unicodeScalars.map { scalar -> Character in
            if scalar == "\t" { return " " }
            if scalar.value < 0x20 || scalar.value == 0x7F { return "?" }
            return Character(scalar)
        })
    }

    private func paint(_ text: String, _ severity: Severity) -> String {
        guard usesColor else { return text }
        let code = switch severity {
        case .error: "\u{1B}[1;31m"
        case .warning: "\u{1B}[1;35m"
        case .note: "\u{1B}[1;32m"
        }
        return code + text + "\u{1B}[0m"
    }
}
