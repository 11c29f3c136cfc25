import ArgumentParser

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Parse and check manifests (files on disk, or a committed revision).")

    @Argument(help: "Files or folders to check (default: the manifests folder of the current repository).")
    var paths: [String] = []

    @Option(name: .long, help: "Output format: text or json.")
    var format: OutputFormat = .text

    func run() throws {
        throw ValidationError("berth validate is not implemented yet")
    }
}
