import ArgumentParser

/// The dlmc command line tool.
@main
struct DLMC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlmc",
        abstract: "Compile, check and run neural network models written in .dlm."
    )
}
