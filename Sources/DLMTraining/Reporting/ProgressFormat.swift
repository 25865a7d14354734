import Foundation

/// The number and time formats of Keras 3's progress bar
/// (`keras/src/utils/progbar.py`), reproduced exactly.
public enum ProgressFormat {
    /// A metric value: 4 decimals (`0.9862`), or 4 significant decimals in
    /// exponent form when its magnitude is at most 0.001 (`1.2340e-04`, `0.0000e+00`).
    public static func value(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        return String(format: abs(value) > 1e-3 ? "%.4f" : "%.4e", value)
    }

    /// The estimated time left while an epoch runs: `8s`, `1:05`, `1:02:03`
    /// (whole seconds, truncated, as Python's `%d` does).
    public static func eta(_ seconds: Double) -> String {
        let s = max(0, seconds)
        if s > 3600 {
            return String(format: "%d:%02d:%02d", Int(s / 3600), Int(s.truncatingRemainder(dividingBy: 3600) / 60), Int(s.truncatingRemainder(dividingBy: 60)))
        }
        if s > 60 { return String(format: "%d:%02d", Int(s / 60), Int(s.truncatingRemainder(dividingBy: 60))) }
        return "\(Int(s))s"
    }

    /// The time an epoch took: whole seconds, rounded (`12s`).
    public static func elapsed(_ seconds: Double) -> String {
        String(format: "%.0fs", seconds)
    }

    /// The time per step: `6ms/step`, `2s/step`, `850us/step` (`0s/step` before any step).
    public static func stepTime(_ seconds: Double) -> String {
        if seconds >= 1 || seconds == 0 { return String(format: "%.0fs/step", seconds) }
        if seconds >= 1e-3 { return String(format: "%.0fms/step", seconds * 1000) }
        return String(format: "%.0fus/step", seconds * 1_000_000)
    }

    /// Keras's step-time estimate: after the first step, the time since the
    /// first step ended divided by the steps since (the first step, which
    /// includes warm-up, is left out); at the first step, the time so far.
    public static func secondsPerStep(step: Int, elapsed: Double, elapsedAfterFirstStep: Double?) -> Double {
        guard step > 0 else { return 0 }
        if let first = elapsedAfterFirstStep, step > 1 { return (elapsed - first) / Double(step - 1) }
        return elapsed / Double(step)
    }
}
