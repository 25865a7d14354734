import ArgumentParser
import Foundation

/// The dlmc command line tool.
@main
struct DLMC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlmc",
        abstract: "Compile, check and run neural network models written in .dlm.",
        discussion: """
        Exit status: 0 on success, 1 when a program or file has errors, 2 on bad usage.
        """,
        version: "0.1.0",
        subcommands: [Check.self, IR.self, Run.self, Train.self, Evaluate.self, Init.self, Doctor.self]
    )

    /// Stack for the compiler thread. Syntax trees are freed recursively, so a
    /// pipeline of a hundred thousand layers needs more than the main
    /// thread's 8 MB; this is address space, only touched pages cost memory.
    static let compilerStackBytes = 1 << 30

    /// Runs the command on a thread with a large stack and exits with its status.
    static func main() {
        let thread = Thread { runCommand() }
        thread.stackSize = compilerStackBytes
        thread.start()
        while true { sleep(UInt32.max) }   // runCommand always exits the process
    }

    /// Runs the command, mapping usage errors to exit status 2 (ArgumentParser's default is 64).
    static func runCommand() -> Never {
        do {
            var command = try parseAsRoot()
            try command.run()
            Foundation.exit(0)
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
