import DLMGraph
import DLMSyntax
import Foundation

/// Reads, parses and lowers source files, printing diagnostics to stderr.
struct Frontend {
    /// Largest source file dlmc reads (a guard against mistakes like passing a data set).
    static let maximumFileSize = 64 << 20

    var showsDiagnosticNames = false
    let diagnostics = DiagnosticEngine()

    /// Reads a file, reporting a missing file, a directory or an oversized file as an error.
    func load(_ path: String) -> SourceFile? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            diagnostics.error(.fileNotFound(path), at: nil)
            return nil
        }
        if isDirectory.boolValue {
            diagnostics.error(.fileIsDirectory(path), at: nil)
            return nil
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            diagnostics.error(.fileUnreadable(path, "permission denied"), at: nil)
            return nil
        }
        defer { try? handle.close() }
        do {
            let data = try handle.read(upToCount: Self.maximumFileSize + 1) ?? Data()
            guard data.count <= Self.maximumFileSize else {
                diagnostics.error(.fileTooLarge(path, Self.maximumFileSize >> 20), at: nil)
                return nil
            }
            return SourceFile(path: path, bytes: [UInt8](data))
        } catch {
            diagnostics.error(.fileUnreadable(path, error.localizedDescription), at: nil)
            return nil
        }
    }

    /// Parses and lowers one file.
    func compile(_ path: String) -> LoweredModule? {
        guard let file = load(path) else { return nil }
        let unit = Parser.parse(file, diagnostics: diagnostics)
        if diagnostics.hasErrors { return nil }
        if unit.declarations.isEmpty {
            diagnostics.error(.noDeclarations(path), at: nil)
            return nil
        }
        return Lowering.lower(unit, diagnostics: diagnostics)
    }

    /// Writes every diagnostic so far to stderr, sorted by location.
    func flushDiagnostics() {
        guard !diagnostics.diagnostics.isEmpty else { return }
        let colored = isatty(STDERR_FILENO) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        let renderer = DiagnosticRenderer(showsIdentifiers: showsDiagnosticNames, usesColor: colored)
        FileHandle.standardError.write(Data(renderer.render(diagnostics.sorted).utf8))
    }
}

extension DiagnosticMessage {
    static func fileNotFound(_ path: String) -> Self { .init(id: "file_not_found", text: "no such file '\(path)'") }
    static func fileIsDirectory(_ path: String) -> Self { .init(id: "file_is_directory", text: "'\(path)' is a directory, not a .dlm file") }
    static func fileUnreadable(_ path: String, _ reason: String) -> Self { .init(id: "file_unreadable", text: "cannot read '\(path)': \(reason)") }
    static func fileTooLarge(_ path: String, _ megabytes: Int) -> Self { .init(id: "file_too_large", text: "'\(path)' is larger than \(megabytes) MB; is it really a .dlm file?") }
    static func noDeclarations(_ path: String) -> Self {
        .init(id: "no_declarations", text: "'\(path)' contains no declarations (expected 'model', 'layer' or 'train')")
    }
    static func unknownModelOption(_ name: String, _ available: String) -> Self { .init(id: "unknown_model_option", text: "no model named '\(name)' (models: \(available))") }
}
