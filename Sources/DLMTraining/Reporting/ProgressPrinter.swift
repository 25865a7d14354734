import Dispatch
import Foundation

/// Writes training progress the way Keras 3 does: on a terminal, an
/// `Epoch 1/5` header (for runs of more than one epoch) and a progress line
/// redrawn at most every 0.05 s, finished with the epoch's figures and the
/// validation ones; otherwise one line per epoch, such as
/// `Epoch 1/5 - 1875/1875 - 12s - 6ms/step - accuracy: 0.9862 - loss: 0.0452 - val_accuracy: 0.9900 - val_loss: 0.0300`
/// (the `Epoch` prefix only for runs of more than one epoch); in quiet mode nothing.
///
/// Use it from one thread.
public final class ProgressPrinter {
    /// How progress is shown.
    public enum Mode: Sendable, Hashable {
        /// Redrawn progress lines with ANSI styling.
        case terminal
        /// One line per epoch, for logs and pipes.
        case plain
        /// Nothing.
        case quiet
    }

    /// The minimum time between two redraws of the terminal line, as in Keras.
    public static let interval = 0.05

    /// How this printer shows progress.
    public let mode: Mode
    private let output: FileHandle
    private let clock: @Sendable () -> Double
    private var epoch = 0
    private var epochs = 0
    private var steps = 0
    private var start = 0.0
    private var afterFirstStep: Double?
    private var lastDraw: Double?
    private var previousWidth = 0

    /// A printer writing to `output`; `mode` nil chooses `.terminal` when
    /// `output` is a terminal and `.plain` otherwise. `clock` gives seconds
    /// (monotonic by default; tests pass their own).
    public init(output: FileHandle = .standardOutput, mode: Mode? = nil, clock: @escaping @Sendable () -> Double = ProgressPrinter.monotonicSeconds) {
        self.output = output
        self.mode = mode ?? (Self.isTerminal(output) ? .terminal : .plain)
        self.clock = clock
    }

    /// Whether `handle` is a terminal (`isatty`).
    public static func isTerminal(_ handle: FileHandle) -> Bool {
        isatty(handle.fileDescriptor) == 1
    }

    /// Seconds from a monotonic clock.
    @Sendable public static func monotonicSeconds() -> Double {
        Double(DispatchTime.now().uptimeNanoseconds) / 1e9
    }

    /// Starts epoch `epoch` (1-based) of `epochs`, which has `steps` steps.
    public func beginEpoch(_ epoch: Int, of epochs: Int, steps: Int) {
        self.epoch = epoch
        self.epochs = epochs
        self.steps = steps
        start = clock()
        afterFirstStep = nil
        lastDraw = nil
        previousWidth = 0
        if mode == .terminal && epochs > 1 { write(ProgressLine.epochHeader(epoch, of: epochs) + "\n") }
    }

    /// Reports that `step` (1-based) steps are done, with the epoch's figures so far.
    public func update(step: Int, metrics: [(name: String, value: Double)]) {
        let now = clock()
        let perStep = estimate(step: step, now: now)
        guard mode == .terminal else { return }
        if let lastDraw, now - lastDraw < Self.interval { return }
        draw(ProgressLine(step: step, total: steps, elapsed: now - start, secondsPerStep: perStep, metrics: metrics, finished: false), final: false)
        lastDraw = now
    }

    /// Ends the epoch with its training figures and, if any, validation figures (named without `val_`).
    public func endEpoch(metrics: [(name: String, value: Double)], validation: [(name: String, value: Double)] = []) {
        let now = clock()
        let perStep = estimate(step: steps, now: now)
        let line = ProgressLine(step: steps, total: steps, elapsed: now - start, secondsPerStep: perStep,
                                metrics: ProgressLine.figures(training: metrics, validation: validation))
        switch mode {
        case .terminal: draw(line, final: true)
        case .plain: write((epochs > 1 ? ProgressLine.epochHeader(epoch, of: epochs) + " - " : "") + line.plainText + "\n")
        case .quiet: break
        }
    }

    /// Keras's estimate, remembering when the first step ended.
    private func estimate(step: Int, now: Double) -> Double {
        let perStep = ProgressFormat.secondsPerStep(step: step, elapsed: now - start, elapsedAfterFirstStep: afterFirstStep)
        if step == 1 { afterFirstStep = now - start }
        return perStep
    }

    /// Redraws the terminal line over the previous one, padding with spaces where it was longer.
    private func draw(_ line: ProgressLine, final: Bool) {
        let width = line.visibleWidth
        var text = String(repeating: "\u{8}", count: previousWidth) + "\r" + line.terminalText
        if previousWidth > width { text += String(repeating: " ", count: previousWidth - width) }
        if final { text += "\n" }
        write(text)
        previousWidth = width
    }

    private func write(_ text: String) {
        try? output.write(contentsOf: Data(text.utf8))
    }
}
