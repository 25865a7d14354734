/// How serious a diagnostic is.
public enum Severity: String, Sendable {
    case error
    case warning
    case note
}

/// A message from the catalog: a stable identifier (shown with
/// `--debug-diagnostic-names`) and its text, already formatted.
public struct DiagnosticMessage: Hashable, Sendable {
    /// A stable, snake_case identifier, e.g. `unknown_layer`.
    public let id: String
    /// A lowercase headline with no trailing period; names are quoted.
    public let text: String

    /// Creates a message. Call sites use the catalog's factory functions instead.
    public init(id: String, text: String) {
        self.id = id
        self.text = text
    }
}

/// A secondary message attached to a diagnostic: a pointer to a related
/// location (`note: 'x' declared here`) or a hint (`note: add flatten before dense`).
public struct DiagnosticNote: Hashable, Sendable {
    /// The note's text.
    public let text: String
    /// Where the note points, if anywhere.
    public let range: SourceRange?

    /// Creates a note.
    public init(_ text: String, at range: SourceRange? = nil) {
        self.text = text
        self.range = range
    }
}

/// One diagnostic: a located message with optional notes.
public struct Diagnostic: Error, Hashable, Sendable {
    /// Error, warning or note.
    public let severity: Severity
    /// The catalog message.
    public let message: DiagnosticMessage
    /// The culprit; `nil` only for problems with no source (a missing file).
    public let range: SourceRange?
    /// Related locations and fix-it hints.
    public var notes: [DiagnosticNote]

    /// Creates a diagnostic.
    public init(_ severity: Severity = .error, _ message: DiagnosticMessage, at range: SourceRange?, notes: [DiagnosticNote] = []) {
        self.severity = severity
        self.message = message
        self.range = range
        self.notes = notes
    }

    /// Returns a copy with one more note.
    public func with(note text: String, at range: SourceRange? = nil) -> Diagnostic {
        var copy = self
        copy.notes.append(DiagnosticNote(text, at: range))
        return copy
    }
}

/// Collects diagnostics from every stage so they can be reported together.
public final class DiagnosticEngine {
    /// Every diagnostic reported so far, in report order.
    public private(set) var diagnostics: [Diagnostic] = []
    /// Reports stop being collected after this many errors (a cascade from
    /// one broken file must not drown the terminal).
    public let errorLimit: Int

    /// Creates an empty engine.
    public init(errorLimit: Int = 100) {
        self.errorLimit = errorLimit
    }

    /// Whether any error has been reported.
    public var hasErrors: Bool { errorCount > 0 }

    /// The number of errors reported.
    public private(set) var errorCount = 0

    /// Whether the error limit has been reached.
    public var isFull: Bool { errorCount >= errorLimit }

    /// Message and location of everything reported, to drop exact repeats
    /// (a mistake inside a user layer is found again at each of its calls).
    private var reported: Set<ReportKey> = []

    private struct ReportKey: Hashable {
        let message: DiagnosticMessage
        let range: SourceRange?
    }

    /// Records a diagnostic (exact repeats and errors past the limit are dropped).
    public func report(_ diagnostic: Diagnostic) {
        guard reported.insert(ReportKey(message: diagnostic.message, range: diagnostic.range)).inserted else { return }
        if diagnostic.severity == .error {
            guard errorCount < errorLimit else { return }
            errorCount += 1
        }
        diagnostics.append(diagnostic)
    }

    /// Records an error with a message at a range.
    public func error(_ message: DiagnosticMessage, at range: SourceRange?, notes: [DiagnosticNote] = []) {
        report(Diagnostic(.error, message, at: range, notes: notes))
    }

    /// Diagnostics sorted by file, then position (stable for equal positions).
    public var sorted: [Diagnostic] {
        diagnostics.enumerated().sorted { lhs, rhs in
            let l = lhs.element.range, r = rhs.element.range
            let lk = (l?.file.path ?? "", l?.start ?? -1), rk = (r?.file.path ?? "", r?.start ?? -1)
            return lk != rk ? lk < rk : lhs.offset < rhs.offset
        }.map(\.element)
    }
}
