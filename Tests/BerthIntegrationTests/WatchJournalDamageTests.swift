import BerthTestSupport
import Foundation
import Testing

/// A damaged journal never stops reconciling (issue 18, finding 10): a truncated one made
/// watch exit 1 at start; with 16 KB of garbage in the middle it ran on while every read of
/// the journal failed. Real SQLite files, a real watch and dockerd.
@Suite(.serialized) struct WatchJournalDamageTests {
    /// A journal of 300 syncs written by an earlier watch, then damaged by `damage`.
    static func damagedJournal(_ h: WatchHarness, _ damage: (inout Data) -> Void) throws {
        let seed = try ProcessRunner.berth(["journal", "--project", h.project, "--state-dir", h.state.path])
        #expect(seed.status == 1)  // none yet
        try h.start()
        try #require(eventually(within: 30) { h.healthyServices() == ["web"] }, "\(h.log())")
        #expect(h.terminate() == 0)
        let path = h.state.path + "/journal.sqlite"
        // A clean stop checkpoints the WAL into the journal and removes it.
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"), "\(h.log())")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(bytes.count >= 4 * 4096, "\(bytes.count) bytes")
        damage(&bytes)
        try bytes.write(to: URL(fileURLWithPath: path))
    }

    static func check(_ h: WatchHarness) throws {
        try h.start()
        try #require(eventually(within: 30) { h.log().contains("msg=\"journal damaged: moved aside, a new journal started\"") }, "\(h.log())")
        let copies = try FileManager.default.contentsOfDirectory(atPath: h.state.path).filter { $0.hasPrefix("journal.sqlite.damaged-") }
        #expect(copies.count == 1, "\(copies)")
        // Reconciling goes on: a killed replica is replaced, and the journal is readable.
        let victim = try #require(try Docker.running(h.project, service: "web").first)
        _ = try sh(["docker", "kill", victim])
        #expect(eventually(within: 20) { (try? Docker.running(h.project, service: "web"))?.contains(victim) == false && h.healthyServices() == ["web"] }, "\(h.log())")
        #expect(try h.http("GET", "/api/v1/journal").status == 200)
        let journal = try ProcessRunner.berth(["journal", "--project", h.project, "--state-dir", h.state.path])
        #expect(journal.status == 0, "\(journal.stderr)")
    }

    @Test func watchStartsOnATruncatedJournal() throws {
        let h = try WatchHarness()
        defer { h.stop() }
        try h.commit(["manifests/web.yaml": WatchHarness.service("web", replicas: 1)], "web")
        try Self.damagedJournal(h) { bytes in bytes = bytes.prefix(4096) }
        try Self.check(h)
    }

    @Test func watchStartsOnAGarbledJournal() throws {
        let h = try WatchHarness()
        defer { h.stop() }
        try h.commit(["manifests/web.yaml": WatchHarness.service("web", replicas: 1)], "web")
        try Self.damagedJournal(h) { bytes in
            var r = SeededRandom(seed: 10)
            let start = 4096
            for i in start..<min(bytes.count, start + 16 * 1024) { bytes[i] = UInt8(r.below(256)) }
        }
        try Self.check(h)
    }
}
