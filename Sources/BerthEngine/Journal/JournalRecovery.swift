internal import CSQLite
public import Foundation

/// A damaged journal that `berth watch` moved aside, and why (issue 18: a truncated
/// `journal.sqlite` stopped watch at start; 16 KB of garbage in the middle let it run on
/// while every read failed). Reconciling never stops for the journal: the damaged file is
/// kept for inspection, a new journal is started, and the damage is said.
public struct JournalDamage: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The journal's path.
    public var path: String
    /// Where the damaged file went: `journal.sqlite.damaged-20261207T131500Z` beside it.
    public var movedTo: String
    /// SQLite's words: `database disk image is malformed`, or the integrity check's first finding.
    public var reason: String
    /// When it was moved aside (RFC 3339).
    public var at: String

    public var description: String {
        "journal \(path) was damaged (\(reason)): moved aside to \(movedTo); a new journal was started"
    }
}

extension JournalError {
    /// SQLite's "the file is not a database / is corrupt" (codes 26, 11, extended or not).
    public var isDamage: Bool {
        let primary = code & 0xFF
        return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB
    }
}

/// Finding and moving aside a damaged journal.
enum JournalRecovery {
    /// Whether the file at `path` is whole: `PRAGMA quick_check` on a connection of its own
    /// (closed afterwards, so the journal's own connection does not start with every page in
    /// its cache). Throws a damage error (`isDamage`) with the first finding.
    static func check(path: String) throws {
        let probe = try Connection(path: path, create: false)
        defer { probe.close() }
        var findings: [String] = []
        try probe.query("PRAGMA quick_check(3)", []) { row in findings.append(row.text(0)) }
        guard findings == ["ok"] else {
            throw JournalError(
                operation: "integrity check", path: path, code: SQLITE_CORRUPT,
                message: findings.isEmpty ? "no answer" : findings.joined(separator: "; "))
        }
    }

    /// Renames the journal and its WAL and shared-memory files to
    /// `<path>.damaged-<UTC time>` (`-2`, `-3` … when taken) and returns the new name of
    /// the journal. Every connection to the file must be closed first: SQLite deletes the
    /// WAL by name when its last connection closes, which would be the new journal's.
    static func moveAside(path: String, now: Date) throws -> String {
        let stamp = Timestamp.string(now).filter { $0 != "-" && $0 != ":" }.replacingOccurrences(of: ".", with: "-")
        var target = "\(path).damaged-\(stamp)"
        var n = 2
        while FileManager.default.fileExists(atPath: target) {
            target = "\(path).damaged-\(stamp)-\(n)"
            n += 1
        }
        for suffix in ["-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
            try? FileManager.default.moveItem(atPath: path + suffix, toPath: target + suffix)
        }
        do {
            try FileManager.default.moveItem(atPath: path, toPath: target)
        } catch {
            throw JournalError(
                operation: "move aside", path: path, code: SQLITE_CANTOPEN,
                message: "the journal is damaged and cannot be moved aside: \((error as NSError).localizedDescription)")
        }
        return target
    }
}
