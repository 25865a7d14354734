import DLMGraph

/// Numeric tables in text: comma- or whitespace-separated, optionally
/// gzipped, with an optional header row (a row of names, or scikit-learn's
/// `n_rows,n_features,class names…` line), split into features and a label column.
public enum CSV {
    /// A table split into features and labels.
    public struct Table: Sendable {
        /// Features, f32 `[rows, columns]`.
        public let features: Tensor
        /// Labels from the label column, i64 `[rows]` (or f32 `[rows, 1]` for a non-integer column).
        public let labels: Tensor
        /// Column names from a header row, if there was one.
        public let columnNames: [String]?
    }

    /// Where the label is: a column index (negative counts from the end) or a header name.
    public enum LabelColumn: Sendable {
        case index(Int)
        case name(String)
        /// No label column: every column is a feature.
        case none
    }

    /// Reads a table. `header: nil` detects a header row.
    public static func read(_ path: String, label: LabelColumn = .index(-1), header: Bool? = nil) throws -> Table {
        var bytes = try FileIO.read(path, limit: 1 << 30)
        if Inflate.isGzip(bytes) {
            do { bytes = try Inflate.gunzip(bytes, maximumOutput: 1 << 31) } catch { throw FormatError(path, "\(error)") }
        }
        return try decode(String(decoding: bytes, as: UTF8.self), path: path, label: label, header: header)
    }

    /// Parses table text.
    public static func decode(_ text: String, path: String, label: LabelColumn = .index(-1), header: Bool? = nil) throws -> Table {
        var lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
            .enumerated().map { (number: $0.offset + 1, text: $0.element.trimmingCharacters()) }
            .filter { !$0.text.isEmpty }
        guard let first = lines.first else { throw FormatError(path, "is empty") }
        let comma = first.text.contains(",")
        func cells(_ line: String) -> [String] {
            comma ? line.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingCharacters() }
                  : line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        }
        let firstCells = cells(first.text)
        let looksLikeHeader = firstCells.contains { Double($0) == nil }
        var names: [String]?
        if header ?? looksLikeHeader {
            // scikit-learn's files start with "n_rows,n_features,names…": not column names.
            if !(firstCells.count >= 2 && Int(firstCells[0]) != nil && Int(firstCells[1]) != nil) { names = firstCells }
            lines.removeFirst()
        }
        guard !lines.isEmpty else { throw FormatError(path, "has a header but no data rows") }
        var rows: [[Double]] = []
        rows.reserveCapacity(lines.count)
        var width = 0
        for line in lines {
            let row = cells(line.text)
            if width == 0 { width = row.count }
            guard row.count == width else {
                throw FormatError(path, "line \(line.number) has \(row.count) columns but line \(lines[0].number) has \(width)")
            }
            rows.append(try row.enumerated().map { column, cell in
                guard let value = Double(cell) else {
                    throw FormatError(path, "line \(line.number), column \(column + 1): '\(cell.prefix(20))' is not a number")
                }
                return value
            })
        }
        let labelIndex: Int?
        switch label {
        case .none: labelIndex = nil
        case .index(let i):
            let resolved = i < 0 ? width + i : i
            guard resolved >= 0, resolved < width else { throw FormatError(path, "label column \(i) is out of range for \(width) columns") }
            labelIndex = resolved
        case .name(let name):
            guard let index = names?.firstIndex(of: name) else {
                throw FormatError(path, "has no column named '\(name)'\(names.map { " (columns: \($0.joined(separator: ", ")))" } ?? " (no header row)")")
            }
            labelIndex = index
        }
        let featureColumns = (0..<width).filter { $0 != labelIndex }
        let features = try Tensor(dtype: .f32, shape: [rows.count, featureColumns.count],
                                  values: rows.flatMap { row in featureColumns.map { row[$0] } })
        let labels: Tensor
        if let labelIndex {
            let values = rows.map { $0[labelIndex] }
            labels = values.allSatisfy { $0 == $0.rounded() }
                ? try Tensor(dtype: .i64, shape: [rows.count], values: values)
                : try Tensor(dtype: .f32, shape: [rows.count, 1], values: values)
        } else {
            labels = try Tensor(dtype: .i64, shape: [0], values: [])
        }
        return Table(features: features, labels: labels, columnNames: names.map { n in featureColumns.compactMap { $0 < n.count ? n[$0] : nil } })
    }
}

private extension Substring {
    func trimmingCharacters() -> String {
        String(drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }.reversed())
    }
}

private extension String {
    func trimmingCharacters() -> String { Substring(self).trimmingCharacters() }
}
