public import BerthCore
public import Foundation

/// `GET /api/v1/status`: the status document of DESIGN.md plus what the loop knows.
public struct WatchStatus: Sendable, Encodable {
    public var report: StatusReport
    public var desiredCommit: String?
    public var newestCommit: String?
    public var lastAppliedCommit: String?
    public var invalid: InvalidCommit?
    public var lastSync: SyncSummary?
    public var backoff: [CrashLoopBackoff.Entry]
    public var heldBack: [HeldBack]
    public var sourceError: String?
    public var runtimeError: String?
    /// Why the loop cannot plan (a dependency cycle, a mass delete it may not do).
    public var planError: String?
    /// Sync records the journal could not take yet (kept in memory, written at the next
    /// sync that can), and why; `watch.journal` in JSON only while there are some.
    public var journalUnwritten = 0
    public var journalError: String?

    enum CodingKeys: String, CodingKey {
        case formatVersion, project, services, watch
    }
    enum WatchKeys: String, CodingKey {
        case desiredCommit, newestCommit, lastAppliedCommit, invalid, lastSync, backoff, heldBack, sourceError, runtimeError, planError, journal
    }
    enum JournalKeys: String, CodingKey {
        case unwritten, error
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(1, forKey: .formatVersion)
        try c.encode(report.project, forKey: .project)
        try c.encode(report.services, forKey: .services)
        var w = c.nestedContainer(keyedBy: WatchKeys.self, forKey: .watch)
        try w.encodeIfPresent(desiredCommit, forKey: .desiredCommit)
        try w.encodeIfPresent(newestCommit, forKey: .newestCommit)
        try w.encodeIfPresent(lastAppliedCommit, forKey: .lastAppliedCommit)
        try w.encodeIfPresent(invalid, forKey: .invalid)
        try w.encodeIfPresent(lastSync, forKey: .lastSync)
        try w.encode(backoff, forKey: .backoff)
        try w.encode(heldBack, forKey: .heldBack)
        try w.encodeIfPresent(sourceError, forKey: .sourceError)
        try w.encodeIfPresent(runtimeError, forKey: .runtimeError)
        try w.encodeIfPresent(planError, forKey: .planError)
        if journalUnwritten > 0 {
            var j = w.nestedContainer(keyedBy: JournalKeys.self, forKey: .journal)
            try j.encode(journalUnwritten, forKey: .unwritten)
            try j.encodeIfPresent(journalError, forKey: .error)
        }
    }

    public func jsonText() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, enc in
            var c = enc.singleValueContainer()
            try c.encode(Timestamp.string(date))
        }
        return String(decoding: try! encoder.encode(self), as: UTF8.self) + "\n"
    }
}
