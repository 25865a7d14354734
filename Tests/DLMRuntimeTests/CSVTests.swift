import DLMGraph
import DLMRuntime
import Foundation
import Testing

private let tabular = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("shared/data/tabular")

@Suite(.enabled(if: FileManager.default.fileExists(atPath: tabular.path)))
struct SharedTableTests {
    @Test func iris() throws {
        let table = try CSV.read(tabular.appendingPathComponent("iris.csv").path)
        #expect(table.features.shape == [150, 4] && table.labels.shape == [150])
        #expect(Array(table.features.scalars.prefix(4)).map { ($0 * 10).rounded() / 10 } == [5.1, 3.5, 1.4, 0.2])
        #expect(Set(table.labels.scalars) == [0, 1, 2])
    }

    @Test func breastCancer() throws {
        let table = try CSV.read(tabular.appendingPathComponent("breast_cancer.csv").path)
        #expect(table.features.shape == [569, 30])
        #expect(table.labels.scalars.filter { $0 == 1 }.count == 357)   // benign, per breast_cancer.rst
    }

    @Test func digitsGzipNoHeader() throws {
        let table = try CSV.read(tabular.appendingPathComponent("digits.csv.gz").path, header: false)
        #expect(table.features.shape == [1797, 64] && table.labels.shape == [1797])
        #expect(table.features.scalars.max() == 16)
    }

    @Test func diabetesWhitespaceSeparated() throws {
        let table = try CSV.read(tabular.appendingPathComponent("diabetes_data_raw.csv.gz").path, label: .none)
        #expect(table.features.shape == [442, 10])
        #expect(Array(table.features.scalars.prefix(2)) == [59, 2])
    }
}

@Suite struct CSVTests {
    @Test func namedHeaderAndLabelByName() throws {
        let table = try CSV.decode("a, b, y\n1, 2, 0\n3, 4, 1\n", path: "t.csv", label: .name("y"))
        #expect(table.columnNames == ["a", "b"])
        #expect(table.features.scalars == [1, 2, 3, 4])
        #expect(table.labels.scalars == [0, 1])
    }

    @Test func errorsNameLineAndColumn() {
        #expect(throws: FormatError.self) { try CSV.decode("1,2\n3,x\n", path: "bad.csv") }
        #expect(throws: FormatError.self) { try CSV.decode("1,2\n3,4,5\n", path: "ragged.csv") }
        #expect(throws: FormatError.self) { try CSV.decode("", path: "empty.csv") }
        #expect(throws: FormatError.self) { try CSV.decode("a,b\n1,2\n", path: "t.csv", label: .name("c")) }
        do {
            _ = try CSV.decode("1,2\n3,x\n", path: "bad.csv")
        } catch let error as FormatError {
            #expect(error.description == "bad.csv: line 2, column 2: 'x' is not a number")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
