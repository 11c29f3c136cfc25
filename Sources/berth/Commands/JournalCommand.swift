import ArgumentParser
import BerthCore
import BerthEngine
import Foundation

struct JournalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal",
        abstract: "What berth watch applied, when, from which commit, and how it ended (newest first).",
        discussion: """
            Reads <state-dir>/journal.sqlite, written by `berth watch` (one record per sync \
            that had something to do, an invalid commit, or an error) and by `berth apply` \
            (one record per apply, trigger manual, naming who ran it: manual by user@host). \
            Safe to run while the watch runs.
            """)

    @OptionGroup var source: SourceOptions

    @OptionGroup var projectOptions: ProjectOptions

    @Option(name: .customLong("state-dir"), help: StateOptions.help)
    var stateDir: String?

    @Option(name: .long, help: "Only syncs with a step for this service.")
    var service: String?

    @Option(name: .long, help: "Only syncs started at or after this time: RFC 3339, a date (2026-01-31) or a duration back from now (90m, 24h, 7d; at most 100 years).")
    var since: String?

    @Option(name: .long, help: "Show at most this many syncs.")
    var limit: Int = 20

    @Option(name: .long, help: "Output format: text or json.")
    var format: ResultFormat = .text

    func validate() throws {
        if limit < 1 { throw ValidationError("--limit must be at least 1, got \(limit)") }
        if let since, JournalQuery.since(since, now: Date()) == nil {
            throw ValidationError("--since: expected an RFC 3339 time, a date like 2026-01-31 or a duration of at most 100 years like 24h, got \"\(since)\"")
        }
    }

    func run() async throws {
        let project = projectOptions.name(source)
        let dir = StateFolder.path(stateDir, project: project)
        let records: [JournalRecord]
        do {
            let journal = try Journal(path: dir + "/journal.sqlite", create: false)
            records = try await journal.records(
                service: service, since: since.flatMap { JournalQuery.since($0, now: Date()) }.map(Timestamp.string),
                limit: limit)
        } catch {
            throw CommandFailure("error: \(error)")
        }
        switch format {
        case .json: print(JournalDocument(project: project, records: records).jsonText(), terminator: "")
        default: print(Self.text(records, service: service), terminator: "")
        }
    }

    static func text(_ records: [JournalRecord], service: String?) -> String {
        if records.isEmpty { return service.map { "No sync touched service \($0).\n" } ?? "No syncs recorded.\n" }
        var lines: [String] = []
        for r in records {
            let commit = r.commit.map { String($0.prefix(12)) } ?? "(no commit)"
            // A sync run by hand names who ran it: `manual by alice@build-1`.
            let trigger = r.trigger.rawValue + (r.actor.map { " by \($0)" } ?? "")
            lines.append("#\(r.id)  \(r.started)  \(commit)  \(trigger)  \(r.result.rawValue)  \(duration(r))")
            let steps = r.steps.filter { service == nil || $0.service == service }
            let width = steps.map { "\($0.action) \($0.service)".count }.max() ?? 0
            for s in steps {
                let head = "\(s.action) \(s.service)".padding(toLength: width, withPad: " ", startingAt: 0)
                var line = "    \(head)  \(s.outcome.rawValue)  \(s.durationMs)ms  \(s.reason)"
                if !s.message.isEmpty { line += " — \(s.message)" }
                lines.append(line)
            }
            // A succeeded sync's lines are news, not failures ("git: reachable again …",
            // "history rewritten: …").
            let label = r.result == .succeeded ? "note" : "error"
            for e in r.errors where !steps.contains(where: { !$0.message.isEmpty && e.hasSuffix($0.message) }) {
                lines.append("    \(label): \(e)")
            }
        }
        // Reasons, messages and errors carry names and engine messages: spelled out.
        return lines.map { SafeText.escaped($0) }.joined(separator: "\n") + "\n"
    }

    static func duration(_ r: JournalRecord) -> String {
        guard let a = Timestamp.date(r.started), let b = Timestamp.date(r.ended) else { return "" }
        return String(format: "%.3fs", b.timeIntervalSince(a))
    }
}
