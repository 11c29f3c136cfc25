import ArgumentParser
import BerthCore
import BerthEngine
import BerthGit
import Foundation

struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare the desired state at two revisions, service by service and field by field.",
        discussion: """
            Services are paired by name, so moving or renaming a file is no change. Only the \
            manifest files that differ between the two commits are read.
            Exit codes: 0 success (with --detailed-exitcode: no changes), 2 changes (only with \
            --detailed-exitcode), 1 error.
            """)

    @Argument(help: "The older revision (branch, tag, commit, HEAD~N).")
    var from: String

    @Argument(help: "The newer revision (default: --ref).")
    var to: String?

    @OptionGroup var source: SourceOptions

    @Option(name: .long, help: "Output format: text, json or markdown.")
    var format: OutputFormat = .text

    @OptionGroup var colour: ColourOptions

    @Flag(name: .long, help: "Exit 2 when the desired state differs, 0 when it is the same.")
    var detailedExitcode = false

    /// The command from plain arguments, without ArgumentParser (see `FastArguments`); nil
    /// when they are anything else.
    static func fastParse(_ arguments: ArraySlice<String>) -> DiffCommand? {
        guard let args = FastArguments(arguments, options: FastArguments.sourceOptions.union(["format", "color"]), flags: ["detailed-exitcode"], maxPositionals: 2),
            let from = args.positionals.first
        else { return nil }
        var command = DiffCommand()
        command.from = from
        command.to = args.positionals.count > 1 ? args.positionals[1] : nil
        command.source = args.source
        guard let format = OutputFormat(rawValue: args.options["format"] ?? "text") else { return nil }
        command.format = format
        guard let colour = ColourOptions.fast(args.options["color"]) else { return nil }
        command.colour = colour
        command.detailedExitcode = args.flags.contains("detailed-exitcode")
        guard (try? command.validate()) != nil else { return nil }
        return command
    }

    func run() async throws {
        let (result, fromName, toName) = try await withSourceErrors { () async throws -> (RevisionDiff, String, String) in
            let src = try await source.openSource()
            let toName = to ?? source.ref
            let toID = try await src.repository.resolve(toName)
            let fromID = try await src.repository.resolve(from)
            let path = try await src.manifestsPath(at: toID, requested: source.path, revision: toName)
            return (try await src.diff(from: fromID, to: toID, path: path), from, toName)
        }
        let errors = result.diagnostics.filter { $0.severity == .error }
        if !errors.isEmpty {
            ErrorReporting.report(result.diagnostics, json: format == .json)
            throw CommandFailure("error: the manifests changed between \(fromName) and \(toName) have \(errors.count) error\(errors.count == 1 ? "" : "s"); fix them to see the diff")
        }
        switch format {
        case .text: print(colour.enabled ? Colour.changes(text(result)) : text(result), terminator: "")
        case .json: print(try encodeJSON(DiffDocument(result)))
        case .markdown: print(markdown(result), terminator: "")
        }
        if detailedExitcode && !result.diff.isEmpty { throw ExitCode(ExitStatus.changes) }
    }

    func text(_ r: RevisionDiff) -> String { r.text }

    func markdown(_ r: RevisionDiff) -> String {
        var out = "### Desired state: `\(r.from.short)` → `\(r.to.short)`\n\n"
        if r.diff.isEmpty { return out + "No changes.\n" }
        func cell(_ v: JSONValue) -> String {
            v == .null ? "" : "`" + SafeText.escaped(v.description).replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "`", with: "'") + "`"
        }
        func name(_ s: String) -> String { PlanRendering.cell(s) }
        out += "| service | change | field | from | to |\n|---|---|---|---|---|\n"
        for change in r.diff.changes {
            switch change.kind {
            case .added, .removed:
                let image = change.fields.first { $0.path == "spec.image" }
                out += "| \(name(change.service)) | \(change.kind.rawValue) | `spec.image` | \(cell(image?.from ?? .null)) | \(cell(image?.to ?? .null)) |\n"
            case .changed:
                for field in change.fields {
                    out += "| \(name(change.service)) | changed | `\(name(field.path))` | \(cell(field.from)) | \(cell(field.to)) |\n"
                }
            }
        }
        let s = r.diff.summary
        return out + "\n**\(s.added) added, \(s.removed) removed, \(s.changed) changed**\n"
    }
}

/// DESIGN.md's diff shape.
struct DiffDocument: Encodable {
    struct Summary: Encodable { var added: Int, removed: Int, changed: Int }
    var formatVersion = 1
    var from: String
    var to: String
    var changes: [ServiceChange]
    var summary: Summary

    init(_ r: RevisionDiff) {
        from = r.from.hex
        to = r.to.hex
        changes = r.diff.changes
        let s = r.diff.summary
        summary = Summary(added: s.added, removed: s.removed, changed: s.changed)
    }
}
