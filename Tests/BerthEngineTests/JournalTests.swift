@testable import BerthEngine
import BerthTestSupport
import Foundation
import Testing

@Suite struct JournalTests {
    static func record(_ started: String, commit: String?, trigger: SyncTrigger, result: SyncResult, steps: [JournalStep] = [], errors: [String] = []) -> JournalRecord {
        JournalRecord(started: started, ended: started, commit: commit, trigger: trigger, result: result, steps: steps, errors: errors)
    }

    @Test func roundTripWithFilters() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/state/journal.sqlite"
        let journal = try Journal(path: path)
        let create = JournalStep(action: "create", service: "web", wave: 0, reason: "new service: nothing runs yet", outcome: .succeeded, durationMs: 812, revision: "abc", image: "127.0.0.1:5000/web@sha256:\(String(repeating: "ab", count: 32))")
        let failed = JournalStep(action: "update", service: "api", wave: 1, reason: "image a → b", outcome: .rolledBack, message: "rollout of revision r2 failed and was rolled back: api-1: unhealthy: HTTP 500", durationMs: 60_000, revision: "r2")
        let a = Self.record("2026-01-01T10:00:00.000Z", commit: "c1", trigger: .commit, result: .succeeded, steps: [create])
        let b = Self.record("2026-01-02T10:00:00.000Z", commit: "c2", trigger: .commit, result: .invalid, errors: ["manifests/web.yaml:3:1: error: spec: missing field image"])
        let c = Self.record("2026-01-03T10:00:00.000Z", commit: "c3", trigger: .drift, result: .rolledBack, steps: [create, failed], errors: ["api: boom"])
        #expect(try await journal.append(a) == 1)
        #expect(try await journal.append(b) == 2)
        #expect(try await journal.append(c) == 3)

        // A second connection (as `berth journal` opens it while the watch runs) reads it all.
        let reader = try Journal(path: path, create: false)
        let all = try await reader.records()
        var expected = [c, b, a]
        for i in expected.indices { expected[i].id = Int64(3 - i) }
        #expect(all == expected)
        #expect(try await reader.records(service: "api").map(\.id) == [3])
        #expect(try await reader.records(service: "web").map(\.id) == [3, 1])
        #expect(try await reader.records(since: "2026-01-02T00:00:00.000Z").map(\.id) == [3, 2])
        #expect(try await reader.records(limit: 1).map(\.id) == [3])
        #expect(try await reader.lastAppliedCommit() == "c1")
        let summaries = try await reader.commitSummaries()
        #expect(summaries["c1"]?.applied == true)
        #expect(summaries["c2"]?.results == [.invalid])
        #expect(summaries["c3"]?.applied == false)

        // WAL mode.
        let mode = try String(contentsOfFile: path + "-wal", encoding: .isoLatin1)
        #expect(!mode.isEmpty)
    }

    /// A journal written by a Berth before the `image` column: read as it is (no image), and
    /// given the column on its first open for writing, old rows kept.
    @Test func anOlderJournalGetsTheImageColumn() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/journal.sqlite"
        do {
            let old = try Connection(path: path, create: true)
            try old.execute(
                """
                CREATE TABLE syncs (id INTEGER PRIMARY KEY AUTOINCREMENT, started TEXT NOT NULL, ended TEXT NOT NULL,
                  commit_sha TEXT, trigger TEXT NOT NULL, result TEXT NOT NULL, errors TEXT NOT NULL);
                CREATE TABLE steps (sync_id INTEGER NOT NULL REFERENCES syncs(id), position INTEGER NOT NULL,
                  action TEXT NOT NULL, service TEXT NOT NULL, wave INTEGER NOT NULL, reason TEXT NOT NULL,
                  outcome TEXT NOT NULL, message TEXT NOT NULL, duration_ms INTEGER NOT NULL, revision TEXT,
                  PRIMARY KEY (sync_id, position));
                INSERT INTO syncs VALUES (1, '2026-01-01T10:00:00.000Z', '2026-01-01T10:00:01.000Z', 'c1', 'commit', 'succeeded', '[]');
                INSERT INTO steps VALUES (1, 0, 'create', 'web', 0, 'new service', 'succeeded', '', 5, 'r1');
                """)
        }
        let reader = try Journal(path: path, create: false)
        #expect(try await reader.records().map { $0.steps.map(\.image) } == [[nil]])
        let writer = try Journal(path: path)
        let step = JournalStep(action: "update", service: "web", wave: 0, reason: "image", outcome: .succeeded, durationMs: 7, revision: "r2", image: "web@sha256:12")
        try await writer.append(Self.record("2026-01-02T10:00:00.000Z", commit: "c2", trigger: .commit, result: .succeeded, steps: [step]))
        #expect(try await writer.records().map { $0.steps.map(\.image) } == [["web@sha256:12"], [nil]])
    }

    @Test func missingJournalSaysHowOneIsMade() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        #expect(throws: JournalError.self) { try Journal(path: dir.path + "/none/journal.sqlite", create: false) }
        do {
            _ = try Journal(path: dir.path + "/none/journal.sqlite", create: false)
        } catch let error as JournalError {
            #expect(error.description == "journal \(dir.path)/none/journal.sqlite: open failed: no journal here yet; `berth watch` creates it on its first sync (see --state-dir) (SQLite code 14); check that the state directory is writable and not shared with another berth watch of the same project")
        }
    }

    @Test func sinceAcceptsTimesDatesAndDurations() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(JournalQuery.since("90m", now: now) == now.addingTimeInterval(-5400))
        #expect(JournalQuery.since("7d", now: now) == now.addingTimeInterval(-7 * 86400))
        #expect(JournalQuery.since("2026-01-31", now: now).map(Timestamp.string) == "2026-01-31T00:00:00.000Z")
        #expect(JournalQuery.since("2026-01-31T10:00:00Z", now: now).map(Timestamp.string) == "2026-01-31T10:00:00.000Z")
        #expect(JournalQuery.since("yesterday", now: now) == nil)
    }
}
