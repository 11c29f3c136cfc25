import ArgumentParser

/// Where desired state comes from: shared by every command that reads git.
struct SourceOptions: ParsableArguments {
    @Option(name: .long, help: "Repository: a local path or a URL (default: the repository of the current directory).")
    var repo: String?

    @Option(name: .long, help: "Branch, tag or commit to read desired state from.")
    var ref: String = "HEAD"

    @Option(name: .long, help: "Manifests folder inside the repository (default: manifests if it exists, else the root).")
    var path: String?
}
