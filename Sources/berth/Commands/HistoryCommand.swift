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

    @Argument(help: "Only commits that changed this service.")
    var service: String?

    @OptionGroup var source: SourceOptions

    @Option(name: .long, help: "Show at most this many commits.")
    var limit: Int?

    @Option(name: .long, help: "Only commits made on or after this date (YYYY-MM-DD, or RFC 3339).")
    var since: String?

    @Option(name: .long, help: "Output format: text or json.")
    var format: OutputFormat = .text

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1, got \(limit)") }
        if let since, Self.parseDate(since) == nil {
            throw ValidationError("--since: expected a date like 2026-01-31 or 2026-01-31T12:00:00Z, got \"\(since)\"")
        }
        if format == .markdown { throw ValidationError("--format: history prints text or json") }
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
            return try await src.history(
                from: start, path: path, service: service, since: since.flatMap(Self.parseDate), limit: limit)
        }
        switch format {
        case .json: print(try encodeJSON(HistoryDocument(entries)))
        default: print(text(entries), terminator: "")
        }
    }

    func text(_ entries: [HistoryEntry]) -> String {
        if entries.isEmpty {
            return service.map { "No commit changed service \($0).\n" } ?? "No commit changed the desired state.\n"
        }
        var blocks: [String] = []
        for e in entries {
            var lines = [
                "commit \(e.commit.id.hex)",
                "Author: \(e.commit.author.name) <\(e.commit.author.email)>",
                "Date:   \(e.commit.author.rfc3339)",
                "",
            ]
            lines += e.commit.message.trimmingCharacters(in: .newlines).split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "    \($0)" }
            lines.append("")
            lines += textLines(e.changes, indent: "  ")
            lines += e.diagnostics.map { "  \($0.rendered)" }
            blocks.append(lines.joined(separator: "\n"))
        }
        return blocks.joined(separator: "\n\n") + "\n"
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
    }
    var formatVersion = 1
    var entries: [Entry]

    init(_ entries: [HistoryEntry]) {
        self.entries = entries.map { e in
            Entry(
                commit: e.commit.id.hex, author: e.commit.author.name, email: e.commit.author.email,
                date: e.commit.author.rfc3339, message: e.commit.message, changes: e.changes,
                errors: e.diagnostics)
        }
    }
}
