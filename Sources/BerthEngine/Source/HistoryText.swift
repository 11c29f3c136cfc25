public import BerthCore
import BerthGit
import Foundation

/// `berth history`'s text (also the web UI's service page): per commit, git-log style, its
/// author, date, message indented, then its field changes and errors.
///
/// ```
/// commit 3e45ceb74b…
/// Author: Ada <ada@example.com>
/// Date:   2026-01-31T10:00:00Z
///
///     booking: 3 replicas
///
///   ~ booking  spec.replicas: 2 → 3
/// ```
public enum HistoryText {
    /// `Applied: 2026-…Z` (first sync from the commit that succeeded), or why not.
    public static func appliedLine(_ summary: CommitSummary?) -> String {
        guard let summary else { return "Applied: never (no sync from this commit in the journal)" }
        if summary.applied { return "Applied: \(summary.firstSync)" }
        return "Applied: no (\(summary.results.map(\.rawValue).joined(separator: ", ")) at \(summary.firstSync))"
    }

    /// The whole text; with `journal`, an `Applied:` line under each date.
    public static func text(_ entries: [HistoryEntry], service: String?, journal: [String: CommitSummary]? = nil) -> String {
        if entries.isEmpty {
            return service.map { "No commit changed service \($0).\n" } ?? "No commit changed the desired state.\n"
        }
        return entries.map { block($0, journal: journal) }.joined(separator: "\n\n") + "\n"
    }

    /// One commit's block, without a trailing newline.
    public static func block(_ e: HistoryEntry, journal: [String: CommitSummary]? = nil) -> String {
        // Author and message are whatever the committer wrote: control characters are
        // spelled out, each line of the message on a line of its own.
        var lines = [
            "commit \(e.commit.id.hex)",
            SafeText.escaped("Author: \(e.commit.author.name) <\(e.commit.author.email)>"),
            "Date:   \(e.commit.author.rfc3339)",
        ]
        if let journal { lines.append(appliedLine(journal[e.commit.id.hex])) }
        lines.append("")
        lines += e.commit.message.trimmingCharacters(in: .newlines).split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.isEmpty ? "" : "    " + SafeText.escaped(String($0)) }
        lines.append("")
        lines += DiffText.lines(e.changes, indent: "  ")
        lines += e.diagnostics.map { "  " + SafeText.escaped($0.rendered) }
        return lines.joined(separator: "\n")
    }
}
