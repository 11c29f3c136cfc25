import BerthTestSupport
import Foundation
import Testing

/// Faults of the source that watch survives, reported (issue 18, finding 11): an unreachable
/// git remote showed in status and logs but in no metric and no journal record; a force-push
/// that rewrote history was applied with no warning. A real watch of a file:// remote (so it
/// is mirrored and fetched, with libgit2), real dockerd.
@Suite(.serialized) struct WatchSourceFaultTests {
    /// `name{project="P"} VALUE` from /metrics, as a number (nil: not there).
    static func metric(_ h: WatchHarness, _ name: String) -> Double? {
        guard let text = try? h.http("GET", "/metrics").body else { return nil }
        let prefix = "\(name){project=\"\(h.project)\"} "
        return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.dropFirst(prefix.count)) }
    }

    static func watch(_ h: WatchHarness, cache: TemporaryDirectory) throws {
        try h.start(extraArguments: ["--repo", "file://" + h.repo.path], environment: ["BERTH_CACHE_DIR": cache.path])
        try #require(eventually(within: 30) { h.healthyServices() == ["web"] }, "\(h.log())")
    }

    @Test func anUnreachableRemoteIsAMetricAndOneJournalRecord() throws {
        let h = try WatchHarness()
        let cache = try TemporaryDirectory(prefix: "berth-cache-test")
        let away = h.repo.path + "-away"
        defer {
            if FileManager.default.fileExists(atPath: away) { try? FileManager.default.moveItem(atPath: away, toPath: h.repo.path) }
            h.stop()
            cache.remove()
        }
        let applied = try h.commit(["manifests/web.yaml": WatchHarness.service("web", replicas: 1)], "web")
        try Self.watch(h, cache: cache)
        #expect(Self.metric(h, "berth_source_up") == 1)
        #expect(Self.metric(h, "berth_source_fetch_failures_total") == 0)

        // The remote goes away; watch retries (every second here) and keeps web running.
        try FileManager.default.moveItem(atPath: h.repo.path, toPath: away)
        try #require(eventually(within: 30) { (Self.metric(h, "berth_source_fetch_failures_total") ?? 0) >= 3 }, "\(h.log())")
        #expect(Self.metric(h, "berth_source_up") == 0)
        #expect(h.healthyServices() == ["web"])
        let errors = try h.journal().filter { $0["result"] as? String == "error" }
        #expect(errors.count == 1, "\(errors)")
        let outage = try #require(errors.first)
        #expect(outage["trigger"] as? String == "drift")
        #expect(outage["commit"] as? String == applied)
        let lines = outage["errors"] as? [String] ?? []
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("git: cannot fetch file://\(h.repo.path): ") == true, "\(lines)")

        // Back: one record says so, with how many fetches failed.
        try FileManager.default.moveItem(atPath: away, toPath: h.repo.path)
        try #require(eventually(within: 30) { Self.metric(h, "berth_source_up") == 1 }, "\(h.log())")
        let failures = try #require(Self.metric(h, "berth_source_fetch_failures_total"))
        let records = try h.journal()
        #expect(records.filter { $0["result"] as? String == "error" }.count == 1)
        let back = try #require(records.first)
        #expect(back["result"] as? String == "succeeded")
        let backLines = back["errors"] as? [String] ?? []
        #expect(backLines.count == 1)
        #expect(backLines.first?.hasPrefix("git: reachable again after \(Int(failures)) failed fetches since ") == true, "\(backLines)")
        #expect(h.log().contains("msg=\"git is reachable again\""), "\(h.log())")
        // In text, the line of a succeeded sync is a note, not an error.
        let text = try sh([WatchHarness.binary.path, "journal", "--project", h.project, "--state-dir", h.state.path, "--limit", "1"]).out
        #expect(text.contains("\n    note: git: reachable again after \(Int(failures)) failed fetches since "), "\(text)")
        #expect(!text.contains("error:"), "\(text)")
    }

    @Test func aForcePushIsAppliedWithAWarningAMetricAndAJournalLine() throws {
        let h = try WatchHarness()
        let cache = try TemporaryDirectory(prefix: "berth-cache-test")
        defer {
            h.stop()
            cache.remove()
        }
        try h.commit(["manifests/web.yaml": WatchHarness.service("web", replicas: 1)], "web")
        let replaced = try h.commit(["NOTES.md": "one\n"], "notes")
        try Self.watch(h, cache: cache)
        try #require(eventually(within: 20) { ((try? h.json("/api/v1/status"))?["watch"] as? [String: Any])?["lastAppliedCommit"] as? String == replaced }, "\(h.log())")
        #expect(Self.metric(h, "berth_source_history_rewrites_total") == 0)

        // The branch is reset and a new commit pushed over it.
        try h.repo.git("reset", "-q", "--hard", "HEAD~1")
        let rewritten = try h.commit(["NOTES.md": "two\n"], "notes, again")
        try #require(eventually(within: 30) { (try? h.journal())?.first?["commit"] as? String == rewritten }, "\(h.log())")
        let record = try #require(try h.journal().first)
        #expect(record["result"] as? String == "succeeded")
        #expect(record["errors"] as? [String] == ["history rewritten: \(replaced.prefix(7)) is not an ancestor of \(rewritten.prefix(7)) (force-push?)"])
        #expect(Self.metric(h, "berth_source_history_rewrites_total") == 1)
        let warning = h.log().split(separator: "\n").filter { $0.contains("history rewritten") }
        #expect(warning.count == 1, "\(h.log())")
        #expect(warning.first?.contains("level=warning") == true, "\(warning)")
        #expect(warning.first?.contains("git.commit=\(rewritten)") == true, "\(warning)")
        #expect(warning.first?.contains("git.applied_commit=\(replaced)") == true, "\(warning)")
        let events = try h.http("GET", "/api/v1/events?after=0").body
        #expect(events.contains("\"type\" : \"historyRewritten\"") || events.contains("\"type\":\"historyRewritten\""), "\(events)")
        // Applied all the same: git is the source of truth.
        #expect(eventually(within: 10) { ((try? h.json("/api/v1/status"))?["watch"] as? [String: Any])?["lastAppliedCommit"] as? String == rewritten })
    }
}
