import Foundation

/// The figures of every epoch of a run, in the shape of Keras's
/// `history.history` plus the epoch numbers:
/// `{"accuracy": [0.91, 0.95], "epoch": [1, 2], "loss": [0.3, 0.2], "val_loss": [0.25, 0.21]}`.
///
/// In JSON, a figure an epoch lacks, and a NaN or infinite one, is `null`
/// (JSON has no NaN); decoding gives nil for it.
public struct TrainingHistory: Codable, Sendable, Equatable {
    /// One epoch's figures by name (`loss`, `accuracy`, `val_loss`, …).
    public struct Epoch: Sendable, Equatable {
        /// The epoch number, from 1.
        public var epoch: Int
        /// The figures by name.
        public var figures: [String: Double]

        /// An epoch's record.
        public init(epoch: Int, figures: [String: Double]) {
            self.epoch = epoch
            self.figures = figures
        }
    }

    /// The epochs recorded, in order.
    public private(set) var epochs: [Epoch]

    /// An empty history.
    public init() { epochs = [] }

    /// Records epoch `epoch` (from 1) with its training figures and, if any,
    /// validation figures (named without `val_`; stored as `val_loss`, …).
    public mutating func record(epoch: Int, training: [(name: String, value: Double)], validation: [(name: String, value: Double)] = []) {
        var figures: [String: Double] = [:]
        for figure in training { figures[figure.name] = figure.value }
        for figure in validation { figures["val_" + figure.name] = figure.value }
        epochs.append(Epoch(epoch: epoch, figures: figures))
    }

    /// Every figure name, sorted (Keras's CSV column order: `accuracy, loss, val_accuracy, val_loss`).
    public var names: [String] {
        Set(epochs.flatMap(\.figures.keys)).sorted()
    }

    /// One figure over the epochs (nil where an epoch lacks it).
    public func values(of name: String) -> [Double?] {
        epochs.map { $0.figures[name] }
    }

    // MARK: Codable

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Encodes `{"epoch": [1, 2, …], "<name>": [value or null, …], …}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(epochs.map(\.epoch), forKey: Key("epoch"))
        for name in names {
            try container.encode(values(of: name).map { $0.flatMap { $0.isFinite ? $0 : nil } }, forKey: Key(name))
        }
    }

    /// Decodes the form `encode(to:)` writes; every list must have one entry per epoch.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        let numbers = try container.decode([Int].self, forKey: Key("epoch"))
        var epochs = numbers.map { Epoch(epoch: $0, figures: [:]) }
        for key in container.allKeys where key.stringValue != "epoch" {
            let values = try container.decode([Double?].self, forKey: key)
            guard values.count == numbers.count else {
                throw DecodingError.dataCorruptedError(forKey: key, in: container,
                                                       debugDescription: "'\(key.stringValue)' has \(values.count) values for \(numbers.count) epochs")
            }
            for (i, value) in values.enumerated() {
                if let value { epochs[i].figures[key.stringValue] = value }
            }
        }
        self.epochs = epochs
    }
}
