import DLMGraph
import DLMRuntime
import Foundation

/// Keras's `EarlyStopping` rule over the history: the best value of the
/// monitored figure so far, and how many epochs have passed without beating
/// it by more than `minDelta`; training stops when that count reaches
/// `patience`. Keeps the best epoch's parameters for `restore_best`.
struct EarlyStopper {
    let settings: EarlyStopping
    private(set) var best: Double?
    private(set) var wait = 0
    private(set) var bestParameters: [String: Tensor]?

    init(_ settings: EarlyStopping) { self.settings = settings }

    /// Where the best epoch's parameters are kept next to a checkpoint.
    static func bestPath(in directory: String) -> String {
        URL(fileURLWithPath: directory).appendingPathComponent("best.safetensors").path
    }

    private func improves(_ value: Double) -> Bool {
        guard let best else { return true }
        return settings.maximizes ? value - settings.minDelta > best : value + settings.minDelta < best
    }

    /// Records the last epoch of `history`; says whether it improved and whether to stop.
    mutating func observe(_ history: TrainingHistory, parameters: [String: Tensor]?) -> (improved: Bool, stop: Bool) {
        guard let value = history.values(of: settings.monitor).last ?? nil else { return (false, false) }
        if improves(value) {
            best = value
            wait = 0
            if settings.restoreBest { bestParameters = parameters }
            return (true, false)
        }
        wait += 1
        return (false, wait >= max(1, settings.patience))
    }

    /// Rebuilds the state from a resumed run's history (and its saved best parameters).
    mutating func replay(_ history: TrainingHistory, best parameters: [String: Tensor]?) {
        var partial = TrainingHistory()
        for epoch in history.epochs {
            partial.record(epoch: epoch.epoch, training: epoch.figures.map { ($0.key, $0.value) })
            _ = observe(partial, parameters: nil)
        }
        bestParameters = parameters
    }
}
