/// One line of Keras 3's training progress output, as pure formatting.
///
/// On a terminal (`terminalText`), Keras redraws a line such as
///
///     1875/1875 ━━━━━━━━━━━━━━━━━━━━ 12s 6ms/step - accuracy: 0.9862 - loss: 0.0452
///
/// with the step count in bold, a 20-character bar of `━` whose done part is
/// green and the rest light grey, the estimated time left in bold while the
/// epoch runs (`  12/1875 ━━━━━━━━━━━━━━━━━━━━ 8s 5ms/step - …`) and the
/// elapsed time at its end. Otherwise (`plainText`) it writes one line at the
/// end of an epoch, like Keras's `verbose=2`:
/// `1875/1875 - 12s - 6ms/step - accuracy: 0.9862 - loss: 0.0452`.
public struct ProgressLine: Sendable {
    /// The width of the bar in characters.
    public static let barWidth = 20

    /// Steps done (1-based; equal to `total` at the end of the epoch).
    public var step: Int
    /// Steps in the epoch.
    public var total: Int
    /// Seconds since the epoch began.
    public var elapsed: Double
    /// The estimated seconds per step (see `ProgressFormat.secondsPerStep`).
    public var secondsPerStep: Double
    /// Figures to show, in order (training metrics sorted by name, then `val_` ones).
    public var metrics: [(name: String, value: Double)]

    /// Whether the epoch is done: the line shows the elapsed time instead of the time left.
    public var isFinished: Bool

    /// A line for `step` of `total`; `finished` defaults to `step >= total`
    /// (Keras draws the last step once unfinished, with `0s` left, before the epoch's end).
    public init(step: Int, total: Int, elapsed: Double, secondsPerStep: Double, metrics: [(name: String, value: Double)], finished: Bool? = nil) {
        self.step = step
        self.total = total
        self.elapsed = elapsed
        self.secondsPerStep = secondsPerStep
        self.metrics = metrics
        isFinished = finished ?? (step >= total)
    }

    /// `Epoch 1/5`, the header Keras prints before each epoch of a run of several.
    public static func epochHeader(_ epoch: Int, of epochs: Int) -> String {
        "Epoch \(epoch)/\(epochs)"
    }

    /// Training figures followed by the validation ones renamed `val_…`, the
    /// order Keras shows them in at the end of an epoch.
    public static func figures(training: [(name: String, value: Double)], validation: [(name: String, value: Double)]) -> [(name: String, value: Double)] {
        training + validation.map { (name: "val_" + $0.name, value: $0.value) }
    }

    /// The step count, right-aligned to the width of the total: `  12/1875`.
    public var count: String {
        let digits = String(max(total, 0)).count
        let done = String(step)
        return String(repeating: " ", count: max(0, digits - done.count)) + done + "/\(total)"
    }

    /// Characters of the bar drawn as done.
    public var doneWidth: Int {
        guard total > 0 else { return 0 }
        return min(Self.barWidth, max(0, Int(Double(Self.barWidth) * (Double(step) / Double(total)))))
    }

    /// ` - accuracy: 0.9862 - loss: 0.0452`.
    public var metricsText: String {
        metrics.map { " - \($0.name): \(ProgressFormat.value($0.value))" }.joined()
    }

    /// The terminal line, with Keras's ANSI styling (no carriage return or newline).
    public var terminalText: String {
        let bold = "\u{1B}[1m", reset = "\u{1B}[0m", green = "\u{1B}[32m", grey = "\u{1B}[37m"
        var bar = bold + count + reset + " "
        let done = doneWidth
        if done > 0 { bar += green + String(repeating: "━", count: done) + reset }
        bar += grey + String(repeating: "━", count: Self.barWidth - done) + reset
        let time = isFinished ? ProgressFormat.elapsed(elapsed) : ProgressFormat.eta(secondsPerStep * Double(total - step))
        return bar + " " + bold + time + reset + " " + ProgressFormat.stepTime(secondsPerStep) + metricsText
    }

    /// The number of characters `terminalText` shows (without its escape sequences).
    public var visibleWidth: Int {
        var width = 0
        var inEscape = false
        for character in terminalText {
            if inEscape {
                if character == "m" { inEscape = false }
            } else if character == "\u{1B}" {
                inEscape = true
            } else {
                width += 1
            }
        }
        return width
    }

    /// The line written at the end of an epoch when the output is not a terminal.
    public var plainText: String {
        "\(count) - \(ProgressFormat.elapsed(elapsed)) - \(ProgressFormat.stepTime(secondsPerStep))\(metricsText)"
    }
}
