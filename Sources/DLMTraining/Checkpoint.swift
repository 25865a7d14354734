import DLMRuntime
import Foundation

/// Everything needed to continue training exactly where it stopped: the
/// parameters and optimiser slots, how many epochs and steps are done, the
/// seed, and the history so far. Stored as one safetensors file whose
/// `__metadata__` holds the counts, the seed and the history (as JSON),
/// written atomically at the end of each epoch.
public struct Checkpoint: Sendable {
    /// The file name inside a checkpoint directory.
    public static let fileName = "checkpoint.safetensors"
    /// The format written in the metadata, checked on reading.
    public static let format = "dlmc-checkpoint-1"

    /// Parameters and optimiser slots by state name.
    public var state: [String: Tensor]
    /// Epochs completed.
    public var epoch: Int
    /// Optimiser steps completed.
    public var iterations: Int
    /// The run's seed (shuffling, initialisation).
    public var seed: UInt64
    /// The model trained.
    public var model: String
    /// Per-epoch figures so far.
    public var history: TrainingHistory

    /// Creates a checkpoint record.
    public init(state: [String: Tensor], epoch: Int, iterations: Int, seed: UInt64, model: String, history: TrainingHistory) {
        self.state = state
        self.epoch = epoch
        self.iterations = iterations
        self.seed = seed
        self.model = model
        self.history = history
    }

    /// The checkpoint file of a directory.
    public static func path(in directory: String) -> String {
        URL(fileURLWithPath: directory).appendingPathComponent(fileName).path
    }

    /// Writes the checkpoint into `directory` (created if needed), atomically.
    public func write(to directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw TrainingError("cannot create the checkpoint directory '\(directory)': \(error.localizedDescription)")
        }
        let metadata = [
            "format": Self.format, "model": model, "epoch": String(epoch), "iterations": String(iterations),
            "seed": String(seed), "history": try history.jsonString(),
        ]
        try SafeTensors.write(SafeTensors.Contents(tensors: state, metadata: metadata), to: Self.path(in: directory))
    }

    /// Reads the checkpoint of `directory`; a missing, corrupt or foreign file is a `TrainingError`.
    public static func read(from directory: String) throws -> Checkpoint {
        let path = Self.path(in: directory)
        guard FileManager.default.fileExists(atPath: path) else {
            throw TrainingError("no checkpoint in '\(directory)' (expected \(fileName), written by dlmc train --checkpoint)")
        }
        let contents: SafeTensors.Contents
        do { contents = try SafeTensors.read(path) } catch { throw TrainingError("cannot resume: \(error)") }
        let metadata = contents.metadata
        guard metadata["format"] == format, let epoch = metadata["epoch"].flatMap(Int.init), let iterations = metadata["iterations"].flatMap(Int.init),
              let seed = metadata["seed"].flatMap(UInt64.init), let model = metadata["model"], let historyText = metadata["history"] else {
            throw TrainingError("cannot resume: '\(path)' is not a dlmc checkpoint (its metadata lacks the format, counts or history)")
        }
        let history: TrainingHistory
        do { history = try TrainingHistory(json: historyText) } catch { throw TrainingError("cannot resume: the history in '\(path)' is corrupt") }
        return Checkpoint(state: contents.tensors, epoch: epoch, iterations: iterations, seed: seed, model: model, history: history)
    }
}
