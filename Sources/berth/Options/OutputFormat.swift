import ArgumentParser

/// `--format text|json` (and `markdown` for plan and diff).
enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text, json, markdown
}

/// Where desired state comes from: shared by every command that reads git.
struct SourceOptions: ParsableArguments {
    @Option(name: .long, help: "Repository: a local path or a URL (default: the repository of the current directory).")
    var repo: String?

    @Option(name: .long, help: "Branch, tag or commit to read desired state from.")
    var ref: String = "HEAD"

    @Option(name: .long, help: "Manifests folder inside the repository (default: manifests if it exists, else the root).")
    var path: String?
}

/// Exit codes shared by every command (EX_USAGE comes from ArgumentParser's ValidationError).
enum ExitStatus {
    static let success: Int32 = 0
    static let failure: Int32 = 1
    static let changes: Int32 = 2
    static let usage: Int32 = 64
}
