import DLMTraining
import Foundation
import Testing

/// Golden strings worked out by hand from Keras 3's `keras/src/utils/progbar.py` (and checked against Python's formatting).
@Suite struct ReportingProgressTests {
    static let bold = "\u{1B}[1m", reset = "\u{1B}[0m", green = "\u{1B}[32m", grey = "\u{1B}[37m"
    static func bar(_ done: Int) -> String {
        (done > 0 ? green + String(repeating: "━", count: done) + reset : "") + grey + String(repeating: "━", count: 20 - done) + reset
    }

    @Test func numberAndTimeFormats() {
        #expect(ProgressFormat.value(0.98621) == "0.9862")
        #expect(ProgressFormat.value(12.3456789) == "12.3457")
        #expect(ProgressFormat.value(0.0011) == "0.0011")
        #expect(ProgressFormat.value(0.001) == "1.0000e-03")   // not above 1e-3: exponent form
        #expect(ProgressFormat.value(0.00012345) == "1.2345e-04")
        #expect(ProgressFormat.value(0) == "0.0000e+00")
        #expect(ProgressFormat.value(.nan) == "nan")

        #expect(ProgressFormat.eta(9.315) == "9s")      // truncated, like Python's %d
        #expect(ProgressFormat.eta(60) == "60s")
        #expect(ProgressFormat.eta(65.5) == "1:05")
        #expect(ProgressFormat.eta(3723.4) == "1:02:03")

        #expect(ProgressFormat.elapsed(12.4) == "12s")
        #expect(ProgressFormat.elapsed(1.5) == "2s")    // rounded half to even, like Python's .0f
        #expect(ProgressFormat.elapsed(2.5) == "2s")

        #expect(ProgressFormat.stepTime(0.006) == "6ms/step")
        #expect(ProgressFormat.stepTime(0.0625) == "62ms/step")
        #expect(ProgressFormat.stepTime(2.4) == "2s/step")
        #expect(ProgressFormat.stepTime(0) == "0s/step")
        #expect(ProgressFormat.stepTime(0.00085) == "850us/step")
    }

    @Test func stepTimeLeavesOutTheFirstStep() {
        #expect(ProgressFormat.secondsPerStep(step: 0, elapsed: 3, elapsedAfterFirstStep: nil) == 0)
        #expect(ProgressFormat.secondsPerStep(step: 1, elapsed: 2, elapsedAfterFirstStep: nil) == 2)
        #expect(ProgressFormat.secondsPerStep(step: 5, elapsed: 3, elapsedAfterFirstStep: 1) == 0.5)   // (3 - 1) / 4
    }

    static let figures: [(name: String, value: Double)] = [("accuracy", 0.98621), ("loss", 0.04523)]

    @Test func runningTerminalLineShowsTheTimeLeft() {
        let early = ProgressLine(step: 12, total: 1875, elapsed: 1, secondsPerStep: 0.005, metrics: Self.figures)
        // int(20 × 12/1875) = 0 done; ETA 0.005 × 1863 = 9.3 s.
        #expect(early.terminalText == "\(Self.bold)  12/1875\(Self.reset) \(Self.bar(0)) \(Self.bold)9s\(Self.reset) 5ms/step - accuracy: 0.9862 - loss: 0.0452")
        #expect(early.visibleWidth == 76)

        let half = ProgressLine(step: 940, total: 1875, elapsed: 6, secondsPerStep: 0.0061, metrics: Self.figures)
        // int(20 × 940/1875) = 10 done; ETA 0.0061 × 935 = 5.7 s.
        #expect(half.terminalText == "\(Self.bold) 940/1875\(Self.reset) \(Self.bar(10)) \(Self.bold)5s\(Self.reset) 6ms/step - accuracy: 0.9862 - loss: 0.0452")
    }

    @Test func finishedLinesShowTheElapsedTimeAndValidation() {
        let figures = ProgressLine.figures(training: Self.figures, validation: [("accuracy", 0.99), ("loss", 0.03)])
        #expect(figures.map(\.name) == ["accuracy", "loss", "val_accuracy", "val_loss"])
        let done = ProgressLine(step: 1875, total: 1875, elapsed: 12.4, secondsPerStep: 0.0064, metrics: figures)
        #expect(done.isFinished)
        #expect(done.terminalText == "\(Self.bold)1875/1875\(Self.reset) \(Self.bar(20)) \(Self.bold)12s\(Self.reset) 6ms/step"
                + " - accuracy: 0.9862 - loss: 0.0452 - val_accuracy: 0.9900 - val_loss: 0.0300")
        #expect(done.plainText == "1875/1875 - 12s - 6ms/step - accuracy: 0.9862 - loss: 0.0452 - val_accuracy: 0.9900 - val_loss: 0.0300")
        #expect(ProgressLine.epochHeader(1, of: 5) == "Epoch 1/5")
        // Keras draws the last step once unfinished (0s left) before the epoch's end.
        let last = ProgressLine(step: 1875, total: 1875, elapsed: 12, secondsPerStep: 0.0064, metrics: Self.figures, finished: false)
        #expect(last.terminalText.contains("\(Self.bold)0s\(Self.reset) 6ms/step"))
    }

    /// A clock that returns the given times in turn.
    final class ScriptedClock: @unchecked Sendable {
        private let lock = NSLock()
        private var times: [Double]
        init(_ times: [Double]) { self.times = times }
        func next() -> Double {
            lock.lock()
            defer { lock.unlock() }
            return times.isEmpty ? 0 : times.removeFirst()
        }
    }

    /// Runs one 3-step epoch of 2 through a printer writing to a file and returns what it wrote.
    /// Times (s): begin 0, steps at 0.125, 0.15625 (within 0.05 s of the last redraw: skipped) and 0.25, end at 1.5.
    static func printEpoch(_ mode: ProgressPrinter.Mode, epochs: Int = 2) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("dlmc-progress-\(UUID().uuidString).txt")
        #expect(FileManager.default.createFile(atPath: url.path, contents: nil))
        defer { try? FileManager.default.removeItem(at: url) }
        let handle = try FileHandle(forWritingTo: url)
        let clock = ScriptedClock([0, 0.125, 0.15625, 0.25, 1.5])
        let printer = ProgressPrinter(output: handle, mode: mode, clock: { clock.next() })
        printer.beginEpoch(1, of: epochs, steps: 3)
        printer.update(step: 1, metrics: [("accuracy", 0.5), ("loss", 0.75)])
        printer.update(step: 2, metrics: [("accuracy", 0.5), ("loss", 0.7)])
        printer.update(step: 3, metrics: [("accuracy", 2.0 / 3), ("loss", 0.6)])
        printer.endEpoch(metrics: [("accuracy", 2.0 / 3), ("loss", 0.6)], validation: [("accuracy", 0.5), ("loss", 0.7)])
        try handle.close()
        return try String(contentsOf: url, encoding: .utf8)
    }

    @Test func terminalPrinterRedrawsInPlace() throws {
        let output = try Self.printEpoch(.terminal)
        // Step 1: 0.125 s/step, int(20/3) = 6 done, 0.25 s left; 72 characters shown.
        let first = "\(Self.bold)1/3\(Self.reset) \(Self.bar(6)) \(Self.bold)0s\(Self.reset) 125ms/step - accuracy: 0.5000 - loss: 0.7500"
        // Step 3: (0.25 - 0.125) / 2 = 62.5 ms (rounds to 62), 0 s left; 71 characters, so 1 space of padding.
        let third = "\(Self.bold)3/3\(Self.reset) \(Self.bar(20)) \(Self.bold)0s\(Self.reset) 62ms/step - accuracy: 0.6667 - loss: 0.6000"
        // End: (1.5 - 0.125) / 2 = 687.5 ms (688), 1.5 s elapsed (2s).
        let last = "\(Self.bold)3/3\(Self.reset) \(Self.bar(20)) \(Self.bold)2s\(Self.reset) 688ms/step"
            + " - accuracy: 0.6667 - loss: 0.6000 - val_accuracy: 0.5000 - val_loss: 0.7000"
        let backspaces = { (n: Int) in String(repeating: "\u{8}", count: n) }
        #expect(output == "Epoch 1/2\n" + "\r" + first + backspaces(72) + "\r" + third + " " + backspaces(71) + "\r" + last + "\n")
    }

    @Test func plainPrinterWritesOneLinePerEpoch() throws {
        #expect(try Self.printEpoch(.plain)
                == "Epoch 1/2 - 3/3 - 2s - 688ms/step - accuracy: 0.6667 - loss: 0.6000 - val_accuracy: 0.5000 - val_loss: 0.7000\n")
        // A single epoch has no "Epoch 1/1" (Keras prints the header only for several).
        #expect(try Self.printEpoch(.plain, epochs: 1).hasPrefix("3/3 - 2s - "))
        #expect(try Self.printEpoch(.terminal, epochs: 1).hasPrefix("\r"))
        #expect(try Self.printEpoch(.quiet) == "")
    }

    @Test func filesAreNotTerminals() throws {
        let handle = try #require(FileHandle(forWritingAtPath: "/dev/null"))
        defer { try? handle.close() }
        #expect(!ProgressPrinter.isTerminal(handle))
        #expect(ProgressPrinter(output: handle).mode == .plain)
    }
}
