import DLMGraph
import DLMRuntime
import Foundation

/// A data source read into tensors, before it is fitted to the model.
struct RawData {
    /// Features as stored, `[examples, …]` (CSV: `[rows, columns]`).
    var features: Tensor
    /// Labels as stored, `[examples, …]`.
    var targets: Tensor
    /// How messages name where the features came from: `'train.csv'`, `the inline x`.
    var featureOrigin: String
    /// How messages name where the targets came from.
    var targetOrigin: String
    /// How the features are laid out, for messages.
    var layout: Layout

    /// Where the data came from, as messages describe it.
    enum Layout {
        /// The columns of a CSV table.
        case table
        /// Rows written in the `.dlm` file.
        case inline
        /// Arrays of examples (IDX, .npy).
        case arrays
    }
}

/// Finding and reading the files a `DataSource` names, with errors in the user's terms.
enum DataFiles {
    /// `path` resolved against the `.dlm` file's folder; absolute paths (and `~/…`) stay as they are.
    static func resolve(_ path: String, relativeTo directory: String) -> String {
        if path.hasPrefix("/") { return path }
        if path.hasPrefix("~") { return NSString(string: path).expandingTildeInPath }
        let base = URL(fileURLWithPath: directory.isEmpty ? "." : directory, isDirectory: true)
        return URL(fileURLWithPath: path, relativeTo: base).standardizedFileURL.path
    }

    /// Reads the features and labels of `source`.
    static func read(_ source: DataSource, relativeTo directory: String) throws -> RawData {
        func load<T>(_ path: String, _ reader: (String) throws -> T) throws -> T {
            let resolved = resolve(path, relativeTo: directory)
            do {
                return try reader(resolved)
            } catch let error as FormatError {
                throw TrainingError(message(for: error, path: path, resolved: resolved), at: source.range)
            } catch {
                throw TrainingError("'\(path)': \(error)", at: source.range)
            }
        }
        switch source.kind {
        case .idx(let images, let labels):
            return RawData(features: try load(images, IDX.read), targets: try load(labels, IDX.read),
                           featureOrigin: "'\(images)'", targetOrigin: "'\(labels)'", layout: .arrays)
        case .npy(let x, let y):
            return RawData(features: try load(x, NPY.read), targets: try load(y, NPY.read),
                           featureOrigin: "'\(x)'", targetOrigin: "'\(y)'", layout: .arrays)
        case .csv(let path, let label, let header):
            let column: CSV.LabelColumn = Int(label).map { .index($0) } ?? .name(label)
            let table = try load(path) { try CSV.read($0, label: column, header: header) }
            return RawData(features: table.features, targets: table.labels,
                           featureOrigin: "'\(path)'", targetOrigin: "'\(path)'", layout: .table)
        case .inline(let x, let y):
            do {
                return RawData(features: try rowsTensor(x), targets: try rowsTensor(y),
                               featureOrigin: "the inline x", targetOrigin: "the inline y", layout: .inline)
            } catch {
                throw TrainingError("inline data: \(error)", at: source.range)
            }
        }
    }

    /// Inline rows as f64 `[rows, width]`.
    private static func rowsTensor(_ rows: [[Double]]) throws -> Tensor {
        try Tensor(dtype: .f64, shape: [rows.count, rows.first?.count ?? 0], values: rows.flatMap { $0 })
    }

    /// A reader's error with the path as the user wrote it.
    private static func message(for error: FormatError, path: String, resolved: String) -> String {
        if error.problem == "no such file" {
            return "data file '\(path)' does not exist" + (resolved == path ? "" : " (looked for \(resolved))")
        }
        return "'\(path)': \(error.problem)"
    }
}
