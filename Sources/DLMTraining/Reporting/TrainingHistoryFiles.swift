import DLMRuntime
import Foundation

/// Writing a `TrainingHistory` as JSON or CSV, and reading it back from JSON.
extension TrainingHistory {
    /// The history as JSON with sorted keys (compact, for safetensors metadata, or pretty-printed).
    public func jsonString(pretty: Bool = false) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted] : [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// A history from the JSON `jsonString` writes (as stored in a checkpoint's metadata).
    public init(json: String) throws {
        do {
            self = try JSONDecoder().decode(TrainingHistory.self, from: Data(json.utf8))
        } catch {
            throw TrainingError("the stored training history is not valid: \(error)")
        }
    }

    /// The history as CSV, one row per epoch: `epoch,accuracy,loss,val_accuracy,val_loss`
    /// (the figures sorted by name, as Keras's `CSVLogger` writes them, but
    /// with epochs numbered from 1). A missing figure is an empty cell; NaN
    /// and infinities are written `nan`, `inf`, `-inf`.
    public var csvText: String {
        let columns = names
        var lines = [(["epoch"] + columns).joined(separator: ",")]
        for record in epochs {
            let cells = columns.map { name -> String in
                guard let value = record.figures[name] else { return "" }
                if value.isNaN { return "nan" }
                if value.isInfinite { return value > 0 ? "inf" : "-inf" }
                return "\(value)"
            }
            lines.append(([String(record.epoch)] + cells).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes the history atomically as JSON (`.json`) or CSV (`.csv`), chosen by the extension.
    public func write(to path: String) throws {
        let text: String
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "json": text = try jsonString(pretty: true) + "\n"
        case "csv": text = csvText
        default:
            throw TrainingError("cannot write the training history to '\(path)': use a .json or .csv file name")
        }
        do {
            try FileIO.writeAtomically(Array(text.utf8), to: path)
        } catch let error as FormatError {
            throw TrainingError("cannot write the training history: \(error)")
        }
    }
}
