import DLMTraining
import Foundation
import Testing

@Suite struct ReportingHistoryTests {
    static func twoEpochs() -> TrainingHistory {
        var history = TrainingHistory()
        history.record(epoch: 1, training: [("accuracy", 0.9), ("loss", 0.3)], validation: [("accuracy", 0.85), ("loss", 0.35)])
        history.record(epoch: 2, training: [("accuracy", 0.95), ("loss", 0.2)], validation: [("accuracy", 0.9), ("loss", 0.25)])
        return history
    }

    @Test func jsonHasKerasHistoryShapePlusEpochs() throws {
        let json = try Self.twoEpochs().jsonString()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"])
        #expect(object["epoch"] as? [Int] == [1, 2])
        #expect(object["loss"] as? [Double] == [0.3, 0.2])
        #expect(object["accuracy"] as? [Double] == [0.9, 0.95])
        #expect(object["val_loss"] as? [Double] == [0.35, 0.25])
        #expect(object["val_accuracy"] as? [Double] == [0.85, 0.9])
    }

    @Test func decodesWhatItWrites() throws {
        let history = Self.twoEpochs()
        let decoded = try TrainingHistory(json: try history.jsonString())
        #expect(decoded == history)
        #expect(decoded.values(of: "val_loss") == [0.35, 0.25])
        #expect(decoded.names == ["accuracy", "loss", "val_accuracy", "val_loss"])
        #expect(try TrainingHistory(json: try history.jsonString(pretty: true)) == history)
        #expect(throws: TrainingError.self) { try TrainingHistory(json: #"{"epoch": [1, 2], "loss": [0.5]}"#) }
        #expect(throws: TrainingError.self) { try TrainingHistory(json: "not json") }
    }

    @Test func nonFiniteFiguresAreNullInJSON() throws {
        var history = TrainingHistory()
        history.record(epoch: 1, training: [("loss", 0.5)])
        history.record(epoch: 2, training: [("loss", .nan)])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(try history.jsonString().utf8)) as? [String: Any])
        let losses = try #require(object["loss"] as? [Any])
        #expect(losses.count == 2 && losses[0] as? Double == 0.5 && losses[1] is NSNull)
        #expect(try TrainingHistory(json: try history.jsonString()).values(of: "loss") == [0.5, nil])
        #expect(history.csvText == "epoch,loss\n1,0.5\n2,nan\n")
    }

    @Test func writesJSONOrCSVByExtension() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dlmc-history-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let history = Self.twoEpochs()

        let json = directory.appendingPathComponent("history.json")
        try history.write(to: json.path)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        #expect(object["epoch"] as? [Int] == [1, 2] && object["val_loss"] as? [Double] == [0.35, 0.25])

        let csv = directory.appendingPathComponent("history.CSV")
        try history.write(to: csv.path)
        let lines = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.first == "epoch,accuracy,loss,val_accuracy,val_loss")
        let rows = lines.dropFirst().map { $0.split(separator: ",").map { Double($0) } }
        #expect(rows == [[1, 0.9, 0.3, 0.85, 0.35], [2, 0.95, 0.2, 0.9, 0.25]])

        let other = directory.appendingPathComponent("history.txt").path
        #expect(throws: TrainingError.self) { try history.write(to: other) }
        do {
            try history.write(to: other)
        } catch let error as TrainingError {
            #expect(error.message == "cannot write the training history to '\(other)': use a .json or .csv file name")
        }
        #expect(!FileManager.default.fileExists(atPath: other))
    }
}
