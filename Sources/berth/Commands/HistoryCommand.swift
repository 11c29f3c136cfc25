import ArgumentParser
import BerthCore
import BerthEngine
import BerthGit
import Foundation

struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Every commit that changed the desired state (of one service), newest first.",
        discussion: """
            Commits that touch only other files do not appear. A commit with invalid manifests \
            appears with its errors, and the walk goes on. A service is followed by name across \
            file moves and renames.
            """)

    @Argument(help: "Only commits that changed this service.", completion: ServiceCompletion.kind)
    var service: String?

    @OptionGroup var source: SourceOptions

    @Option(name: .long, help: "Show at most this many commits.")
    var limit: Int?

    @Option(name: .long, help: "Only commits made on or after this date (YYYY-MM-DD, or RFC 3339).")
    var since: String?

    @Option(name: .long, help: "Output format: text or json.")
    var format: ResultFormat = .text

    @OptionGroup var colour: ColourOptions

    @Flag(name: .long, help: "Join with the journal of berth watch: when, and whether, each commit reached the runtime.")
    var applied = false

    /// With --applied: the watch's project.
    @OptionGroup var projectOptions: ProjectOptions

    @Option(name: .customLong("state-dir"), help: StateOptions.help)
    var stateDir: String?

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1, got \(limit)") }
        if let since, Self.parseDate(since) == nil {
            throw ValidationError("--since: expected a date like 2026-01-31 or 2026-01-31T12:00:00Z, got \"\(since)\"")
        }
    }

    /// The command from plain arguments, without ArgumentParser (see `FastArguments`); nil
    /// when they are anything else (`--applied` and its options always take ArgumentParser).
    static func fastParse(_ arguments: ArraySlice<String>) -> HistoryCommand? {
        guard let args = FastArguments(arguments, options: FastArguments.sourceOptions.union(["limit", "since", "format", "color"]), flags: [], maxPositionals: 1)
        else { return nil }
        var command = HistoryCommand()
        command.service = args.positionals.first
        command.source = args.source
        if let limit = args.options["limit"] {
            guard let value = Int(limit) else { return nil }
            command.limit = value
        } else {
            command.limit = nil
        }
        command.since = args.options["since"]
        guard let format = ResultFormat(rawValue: args.options["format"] ?? "text") else { return nil }
        command.format = format
        guard let colour = ColourOptions.fast(args.options["color"]) else { return nil }
        command.colour = colour
        command.applied = false
        var project = ProjectOptions()
        project.project = nil
        command.projectOptions = project
        command.stateDir = nil
        guard (try? command.validate()) != nil, (try? project.validate()) != nil else { return nil }
        return command
    }

    static func parseDate(_ text: String) -> Int64? {
        let full = ISO8601DateFormatter()
        if let date = full.date(from: text) { return Int64(date.timeIntervalSince1970) }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        if let date = day.date(from: text) { return Int64(date.timeIntervalSince1970) }
        return nil
    }

    func run() async throws {
        let entries = try await withSourceErrors { () async throws -> [HistoryEntry] in
            let src = try await source.openSource()
            let start = try await src.repository.resolve(source.ref)
            let path = try await src.manifestsPath(at: start, requested: source.path, revision: source.ref)
            let entries = try await src.history(
                from: start, path: path, service: service, since: since.flatMap(Self.parseDate), limit: limit)
            // A name no commit ever declared is a mistake, not a quiet history.
            let unknown: Bool
            if let service, entries.isEmpty {
                if since == nil {
                    unknown = true
                } else {
                    unknown = try await src.history(from: start, path: path, service: service, limit: 1).isEmpty
                }
            } else {
                unknown = false
            }
            if unknown, let service {
                let known = Set(try await src.desiredState(at: start, path: path).services.keys)
                throw CommandFailure(SafeText.escaped(
                    "error: no commit of \(source.ref) changed a service named \(service)" + ServiceNames.hint(service, among: known)))
            }
            return entries
        }
        var journal: [String: CommitSummary]? = nil
        if applied {
            let project = projectOptions.name(source)
            let dir = StateFolder.path(stateDir, project: project)
            do {
                journal = try await Journal(path: dir + "/journal.sqlite", create: false).commitSummaries()
            } catch {
                throw CommandFailure("error: \(error)")
            }
        }
        switch format {
        case .json: print(try encodeJSON(HistoryDocument(entries, journal: journal)))
        default:
            let text = text(entries, journal: journal)
            print(colour.enabled ? Colour.changes(text, indent: "  ") : text, terminator: "")
        }
    }

    func text(_ entries: [HistoryEntry], journal: [String: CommitSummary]? = nil) -> String {
        HistoryText.text(entries, service: service, journal: journal)
    }
}

/// DESIGN.md's history shape.
struct HistoryDocument: Encodable {
    struct Entry: Encodable {
        var commit: String
        var author: String
        var email: String
        var date: String
        var message: String
        var changes: [ServiceChange]
        var errors: [Diagnostic]
        /// With `--applied`: what the journal knows (null: never synced).
        var applied: AppliedInfo??
    }
    struct AppliedInfo: Encodable {
        var applied: Bool
        var firstSync: String
        var results: [String]
    }
    var formatVersion = 1
    var entries: [Entry]

    init(_ entries: [HistoryEntry], journal: [String: CommitSummary]? = nil) {
        self.entries = entries.map { e in
            Entry(
                commit: e.commit.id.hex, author: e.commit.author.name, email: e.commit.author.email,
                date: e.commit.author.rfc3339, message: e.commit.message, changes: e.changes,
                errors: e.diagnostics,
                applied: journal.map { j in
                    j[e.commit.id.hex].map { AppliedInfo(applied: $0.applied, firstSync: $0.firstSync, results: $0.results.map(\.rawValue)) }
                })
        }
    }
}
