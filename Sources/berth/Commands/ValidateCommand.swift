import ArgumentParser
import BerthCore
import BerthEngine
import BerthGit
import Foundation

/// `berth validate [FILE|DIR ...]`: parse and check manifests on disk.
///
/// - Folders are searched recursively for `*.yaml` and `*.yml` (hidden files and folders
///   skipped), in sorted order; a file named on the command line is read whatever its name.
/// - With no argument: the manifests path of the current git repository (`manifests/` at
///   the folder holding `.git` if it exists, else that folder).
/// - Paths are printed as given, relative to the current directory.
/// - Exit status: 0 valid (warnings allowed), 1 invalid or no manifest found, 64 bad usage
///   (an unknown flag, a path that does not exist, no argument outside a git repository).
/// - With `--rev REV`: the manifests committed at REV (read from git, never the working copy),
///   with repository-relative paths; `--repo` and `--path` as for every git command.
/// - Output: the diagnostics are validate's result, so they go to stdout, in text or JSON;
///   stderr carries only usage errors and failures to run at all.
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Parse and check manifests on disk, or as committed at a revision.",
        discussion: """
            Checks every *.yaml and *.yml file in the folders given (recursively, hidden \
            folders skipped) and every file given, as one desired state: each object on its \
            own, then names, dependencies and published ports across files. Every problem is \
            reported, as FILE:LINE:COL: error: FIELD: MESSAGE with the source line, or as \
            JSON with --format json. Exits 0 when valid (warnings allowed), 1 when not. \
            With --rev, checks what is committed at that revision instead of the files on disk.
            """)

    @Argument(help: "Files or folders to check (default: the manifests folder of the current git repository).")
    var paths: [String] = []

    @Option(name: .long, help: "Output format: text or json.")
    var format: ResultFormat = .text

    @OptionGroup var colour: ColourOptions

    @Option(name: .long, help: "Check the manifests committed at this branch, tag or commit instead of files on disk.")
    var rev: String?

    @Option(name: .long, help: "With --rev: the repository, a local path or a URL (default: the repository of the current directory).")
    var repo: String?

    @Option(name: .long, help: "With --rev: the manifests folder inside the repository (default: manifests if it exists, else the root).")
    var path: String?

    /// The command a plain command line names, read without ArgumentParser (see
    /// `FastArguments`); nil leaves the line to ArgumentParser.
    static func fastParse(_ arguments: ArraySlice<String>) -> ValidateCommand? {
        guard let args = FastArguments(arguments, options: ["format", "rev", "repo", "path", "color"], flags: [], maxPositionals: .max),
            let format = ResultFormat(rawValue: args.options["format"] ?? "text")
        else { return nil }
        var command = ValidateCommand()
        command.paths = args.positionals
        command.format = format
        guard let colour = ColourOptions.fast(args.options["color"]) else { return nil }
        command.colour = colour
        command.rev = args.options["rev"]
        command.repo = args.options["repo"]
        command.path = args.options["path"]
        guard (try? command.validate()) != nil else { return nil }
        return command
    }

    func validate() throws {
        if rev != nil {
            guard paths.isEmpty else {
                throw ValidationError("give either files and folders to check on disk, or --rev to check a commit, not both")
            }
            return
        }
        if repo != nil || path != nil {
            throw ValidationError("--repo and --path go with --rev; to check files on disk, name them as arguments")
        }
        // Checked here, so ArgumentParser prints validate's own usage with the message.
        _ = try ManifestSearch.roots(paths, cwd: Self.currentDirectory)
    }

    static var currentDirectory: URL {
        URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
    }

    func run() async throws {
        if let rev {
            try await runCommitted(rev)
            return
        }
        let roots = try ManifestSearch.roots(paths, cwd: Self.currentDirectory)
        let found = ManifestSearch.search(roots)
        guard !found.isEmpty else {
            let names = roots.map(\.display).joined(separator: ", ")
            throw CommandFailure("berth validate: no *.yaml or *.yml files in \(names)")
        }

        // Snippets come only from the files read here as manifests; a refused path is
        // named, never read.
        var files: [ManifestFile] = []
        var unreadable: [FileManifests] = []
        files.reserveCapacity(found.count)
        for entry in found {
            func failed(_ display: String, _ message: String) -> FileManifests {
                FileManifests(path: display, diagnostics: [
                    Diagnostic(.error, file: display, line: 1, column: 1, path: "", message: message)
                ])
            }
            switch entry {
            case .refused(let display, let reason):
                unreadable.append(failed(display, reason))
            case .file(let display, let url):
                do {
                    files.append(ManifestFile(path: display, bytes: try Self.contents(of: url)))
                } catch {
                    unreadable.append(failed(display, "cannot read the file: \((error as NSError).localizedDescription)"))
                }
            }
        }
        // Every core: libyaml reads one stream on one thread (see ManifestLoader.parse(_:on:)).
        let parsed = ManifestLoader.parse(files, on: ThreadedWork.everyCore) + unreadable
        let state = ManifestLoader.assemble(parsed)
        // The source lines under each caret: only the files with something to show.
        let named = Set(state.diagnostics.map(\.file))
        var sources: [String: [UInt8]] = [:]
        for file in files where named.contains(file.path) { sources[file.path] = file.bytes }
        files = []
        try report(state, sources: sources, scope: roots.map(\.display).joined(separator: ", "))
        // Valid: the process ends here, and a large desired state takes a while to free
        // (60,000 services: tens of milliseconds). Exit without freeing it, once what was
        // printed is flushed.
        fflush(nil)
        Foundation.exit(0)
    }

    /// A file's bytes, read straight into an array (no `Data` in between); a failure is
    /// read again through Foundation for its message.
    static func contents(of url: URL) throws -> [UInt8] {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return Array(try Data(contentsOf: url)) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return Array(try Data(contentsOf: url)) }
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { break }
            done += n
        }
        guard done == bytes.count else { return Array(try Data(contentsOf: url)) }
        // A file that grew while it was read: the rest of it too.
        var more = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = more.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { break }
            bytes += more[0..<n]
        }
        return bytes
    }

    /// `--rev`: the desired state of a commit, with repository-relative paths.
    private func runCommitted(_ revision: String) async throws {
        var source = SourceOptions()
        source.repo = repo
        source.ref = revision
        source.path = path
        let (state, sources, scope) = try await withSourceErrors {
            let git = try await source.openSource()
            let commit = try await git.repository.resolve(revision)
            let folder = try await git.manifestsPath(at: commit, requested: path, revision: revision)
            let state = try await git.desiredState(at: commit, path: folder)
            // The source lines under each caret come from the committed blobs.
            let wanted = Set(state.diagnostics.map(\.file))
            var sources: [String: [UInt8]] = [:]
            for entry in try await git.manifestEntries(at: commit, path: folder) where wanted.contains(entry.path) {
                sources[entry.path] = try await git.repository.blob(entry.id)
            }
            let scope = "\(folder.isEmpty ? "/" : folder) at \(revision) (\(commit.short))"
            return (state, sources, scope)
        }
        try report(state, sources: sources, scope: scope)
    }

    private func report(_ state: DesiredState, sources: [String: [UInt8]], scope: String) throws {
        switch format {
        case .json:
            print(try ValidateReport(state).json(), terminator: "")
        case .text:
            let renderer = DiagnosticsRenderer(colour: colour.enabled, sources: sources)
            var out = renderer.render(state.diagnostics)
            out += summary(state, scope: scope, renderer: renderer) + "\n"
            print(out, terminator: "")
        }
        if state.hasErrors { throw ExitCode(ExitStatus.failure) }
    }

    /// `manifests: 3 services valid` / `2 errors, 1 warning in 3 files` (the files that
    /// have problems).
    private func summary(_ state: DesiredState, scope: String, renderer: DiagnosticsRenderer) -> String {
        let errors = state.diagnostics.filter { $0.severity == .error }.count
        let warnings = state.diagnostics.count - errors
        if errors > 0 {
            let files = Set(state.diagnostics.map(\.file)).count
            let text = "\(DiagnosticsRenderer.counts(errors: errors, warnings: warnings)) in \(DiagnosticsRenderer.plural(files, "file"))"
            return renderer.paint(text, "31;1")
        }
        var text = "\(scope): \(DiagnosticsRenderer.plural(state.services.count, "service")) valid"
        if warnings > 0 { text += ", \(DiagnosticsRenderer.plural(warnings, "warning"))" }
        return renderer.paint(text, "32;1")
    }
}

/// validate's JSON: `{"errors":[…],"formatVersion":1,"valid":false,"warnings":[…]}`.
struct ValidateReport: Encodable {
    struct Item: Encodable {
        var file: String
        var line: Int
        var column: Int
        var path: String
        var message: String
    }
    var formatVersion = 1
    var valid: Bool
    var errors: [Item]
    var warnings: [Item]

    init(_ state: DesiredState) {
        func items(_ severity: Diagnostic.Severity) -> [Item] {
            state.diagnostics.filter { $0.severity == severity }.map {
                Item(file: $0.file, line: $0.line, column: $0.column, path: $0.path, message: $0.message)
            }
        }
        valid = !state.hasErrors
        errors = items(.error)
        warnings = items(.warning)
    }

    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }
}
