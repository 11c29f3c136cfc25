import BerthTestSupport
import Foundation
import Testing

/// `berth watch` as a child process against the real dockerd and real git repositories.
/// Every test SIGTERMs its watch and removes its containers by label, also on failure.
@Suite(.serialized) struct WatchTests {
    @Test func commitThatScalesIsAppliedWithinTheInterval() throws {
        let h = try WatchHarness()
        defer { h.stop() }
        let first = try h.commit(["manifests/web.yaml": WatchHarness.service("web", replicas: 1)], "web x1")
        try h.start(interval: "2s")
        #expect(try eventually(within: 20) { try Docker.running(h.project).count == 1 }, "\(h.log())")
        let second = try h.commit(["manifests/web.yaml": WatchHarness.service("web", replicas: 3)], "web x3")
        let t0 = Date()
        #expect(try eventually(within: 15) { try Docker.running(h.project).count == 3 }, "\(h.log())")
        // Within the interval (2 s) plus the time three containers take to start.
        #expect(Date().timeIntervalSince(t0) < 2 + 8)
        #expect(try eventually(within: 5) { (try h.journal().first?["commit"] as? String) == second })
        let records = try h.journal()
        #expect(records.map { $0["commit"] as? String } == [second, first])
        #expect(records.map { $0["trigger"] as? String } == ["commit", "commit"])
        #expect(records.map { $0["result"] as? String } == ["succeeded", "succeeded"])
        let steps = records.first?["steps"] as? [[String: Any]] ?? []
        #expect(steps.map { "\($0["action"]!) \($0["service"]!) \($0["outcome"]!)" } == ["scale web succeeded"])
        #expect(h.terminate() == 0)
        #expect(h.log().contains("msg=\"watch stopped\""))

        // `berth history --applied` joins git history with the journal.
        let history = try sh([WatchHarness.binary.path, "history", "--repo", h.repo.path, "--applied", "--project", h.project, "--state-dir", h.state.path]).out
        let appliedLines = history.split(separator: "\n").filter { $0.hasPrefix("Applied: ") }
        #expect(appliedLines.count == 2)
        #expect(appliedLines.allSatisfy { $0.hasPrefix("Applied: 20") && $0.hasSuffix("Z") }, "\(history)")
        // `berth journal` text: newest first, one line per sync and one per step.
        let text = try sh([WatchHarness.binary.path, "journal", "--project", h.project, "--state-dir", h.state.path, "--service", "web", "--limit", "1"]).out
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(text)")
        #expect(lines.first?.hasPrefix("#2  20") == true)
        #expect(lines.first?.contains("  \(second.prefix(12))  commit  succeeded  ") == true, "\(text)")
        #expect(lines.last?.hasPrefix("    scale web  succeeded  ") == true, "\(text)")
        #expect(lines.last?.hasSuffix("ms  replicas 1 → 3") == true, "\(text)")
    }

    @Test func postSyncAppliesAtOnceAndNeedsTheToken() throws {
        let h = try WatchHarness()
        defer { h.stop() }
        try h.commit(["manifests/web.yaml": WatchHarness.service("web", replicas: 1)], "web x1")
        try h.start(interval: "5m")
        #expect(try eventually(within: 20) { try Docker.running(h.project).count == 1 }, "\(h.log())")
        try h.commit(["manifests/web.yaml": WatchHarness.service("web", replicas: 2)], "web x2")
        let refused = try h.http("POST", "/api/v1/sync")
        #expect(refused.status == 401)
        let wrong = try h.http("POST", "/api/v1/sync", token: "nope")
        #expect(wrong.status == 401)
        Thread.sleep(forTimeInterval: 1)
        #expect(try Docker.running(h.project).count == 1)
        let accepted = try h.http("POST", "/api/v1/sync", token: "test-token")
        #expect(accepted.status == 202)
        #expect(accepted.body == "{\"accepted\":true,\"formatVersion\":1,\"trigger\":\"manual\"}\n")
        #expect(try eventually(within: 10) { try Docker.running(h.project).count == 2 }, "\(h.log())")
    }

    @Test func writesAreDisabledWithoutAConfiguredToken() throws {
        let h = try WatchHarness()
        defer { h.stop() }
        try h.commit(["manifests/web.yaml": WatchHarness.service("web", replicas: 0)], "web x0")
        try h.start(interval: "5m", token: nil)
        let r = try h.http("POST", "/api/v1/sync", token: "anything")
        #expect(r.status == 403)
        #expect(r.body == "{\"error\":\"write endpoints are disabled: no API token is configured; start berth watch with BERTH_API_TOKEN set, then send `Authorization: Bearer <token>`\",\"formatVersion\":1}\n")
        let health = try h.http("GET", "/healthz")
        #expect(health.status == 200)
        #expect(health.body == "ok\n")
    }

    @Test func killedAndRemovedInstancesAreHealed() throws {
        let h = try WatchHarness()
        defer { h.stop() }
        try h.commit(["manifests/web.yaml": WatchHarness.service("web", replicas: 2)], "web x2")
        try h.start(interval: "5m")
        #expect(try eventually(within: 20) { try Docker.running(h.project).count == 2 }, "\(h.log())")
        let before = try Docker.running(h.project)

        try sh(["docker", "kill", before[0]])
        #expect(try eventually(within: 10) {
            let now = try Docker.running(h.project)
            return now.count == 2 && !now.contains(before[0])
        }, "\(h.log())")
        #expect(try eventually(within: 5) { try !Docker.all(h.project).contains(before[0]) })

        try sh(["docker", "rm", "-f", before[1]])
        #expect(try eventually(within: 10) {
            let now = try Docker.running(h.project)
            return now.count == 2 && !now.contains(before[1])
        }, "\(h.log())")
        let metrics = try h.http("GET", "/metrics").body
        #expect(try eventually(within: 5) { try h.http("GET", "/metrics").body.contains("berth_heals_total{project=\"\(h.project)\"} 2") }, "\(metrics)")
        let triggers = try h.journal().prefix(2).map { $0["trigger"] as? String }
        #expect(triggers == ["heal", "heal"])
    }

    @Test func instanceThatTurnsUnhealthyIsReplaced() throws {
        let h = try WatchHarness()
        defer { h.stop() }
        try h.commit(["manifests/web.yaml": WatchHarness.service("web", replicas: 2)], "web x2")
        try h.start(interval: "5m")
        #expect(try eventually(within: 20) { try Docker.running(h.project).count == 2 }, "\(h.log())")
        let before = try Docker.running(h.project)
        // Its health endpoint goes away: 3 failed probes at 1 s, then it is replaced.
        try sh(["docker", "exec", before[0], "rm", "/www/healthz"])
        #expect(try eventually(within: 15) {
            let now = try Docker.running(h.project)
            return now.count == 2 && !now.contains(before[0]) && now.contains(before[1])
        }, "\(h.log())")
        #expect(h.log().contains("msg=\"instance unhealthy\""))
        #expect(h.log().contains("answered HTTP 404"))
    }

    @Test func crashLoopingServiceBacksOffVisiblyInStatus() throws {
        let h = try WatchHarness()
        defer { h.stop() }
        // No health check: healthy once it runs; it exits by itself after 1 s.
        let crasher = WatchHarness.service(
            "crasher", replicas: 1, startPeriod: "none", extra: "  command: [\"/bin/sh\", \"-c\", \"sleep 1; exit 3\"]")
        try h.commit(["manifests/crasher.yaml": crasher], "crasher")
        try h.start(interval: "5m")
        // First crash: replaced at once; second: 10 s backoff, shown in status and metrics.
        var entry: [String: Any]?
        #expect(try eventually(within: 20) {
            let watch = try h.json("/api/v1/status")["watch"] as? [String: Any]
            entry = (watch?["backoff"] as? [[String: Any]])?.first
            return (entry?["failures"] as? Int ?? 0) >= 2
        }, "\(h.log())")
        #expect(entry?["service"] as? String == "crasher")
        #expect(entry?["delaySeconds"] as? Double == 10)
        #expect(try h.http("GET", "/metrics").body.contains("berth_backoff_services{project=\"\(h.project)\"} 1"))
        let created = try Docker.all(h.project).count
        Thread.sleep(forTimeInterval: 5)
        // Nothing new was started while it waits (the dead one stays for people to inspect).
        #expect(try Docker.all(h.project).count == created)
        #expect(try Docker.running(h.project).isEmpty)
        // After the 10 s it is tried again.
        #expect(try eventually(within: 12) { try !Docker.running(h.project).isEmpty }, "\(h.log())")
    }

    @Test func handStartedContainerWithTheProjectLabelsIsRemoved() throws {
        let h = try WatchHarness()
        defer { h.stop() }
        try h.commit(["manifests/web.yaml": WatchHarness.service("web", replicas: 1)], "web x1")
        try h.start(interval: "1s")
        #expect(try eventually(within: 20) { try Docker.running(h.project).count == 1 }, "\(h.log())")
        let web = try Docker.running(h.project)
        let stray = try sh([
            "docker", "run", "-d", "--label", "berth.project=\(h.project)", "--label", "berth.service=intruder",
            "--label", "berth.revision=0000000000", "shop/customer:1.0",
        ]).out
        #expect(!stray.isEmpty)
        #expect(try eventually(within: 10) { try !Docker.all(h.project).contains(stray) }, "\(h.log())")
        #expect(try Docker.running(h.project) == web)
        let deletes = try h.journal().flatMap { ($0["steps"] as? [[String: Any]]) ?? [] }
            .filter { $0["action"] as? String == "delete" }.map { $0["service"] as? String }
        #expect(deletes == ["intruder"])
    }

    @Test func invalidCommitLeavesEverythingRunningThenTheNextValidCommitIsApplied() throws {
        let h = try WatchHarness()
        defer { h.stop() }
        try h.commit(["manifests/web.yaml": WatchHarness.service("web", replicas: 2)], "web x2")
        try h.start(interval: "1s")
        #expect(try eventually(within: 20) { try Docker.running(h.project).count == 2 }, "\(h.log())")
        let before = try Docker.running(h.project)
        let broken = WatchHarness.service("web", replicas: 2).replacingOccurrences(of: "replicas: 2", with: "replicas: two")
        let bad = try h.commit(["manifests/web.yaml": broken], "oops")
        let message = "manifests/web.yaml:6:13: error: spec.replicas: expected an integer, found \"two\""
        #expect(try eventually(within: 10) {
            let watch = try h.json("/api/v1/status")["watch"] as? [String: Any]
            let invalid = watch?["invalid"] as? [String: Any]
            return invalid?["commit"] as? String == bad
        }, "\(h.log())")
        let watch = try h.json("/api/v1/status")["watch"] as? [String: Any]
        let invalid = watch?["invalid"] as? [String: Any]
        #expect(invalid?["errors"] as? [String] == [message])
        #expect(try h.http("GET", "/metrics").body.contains("berth_desired_state_invalid{project=\"\(h.project)\",commit=\"\(bad)\"} 1"))
        let record = try h.journal().first
        #expect(record?["result"] as? String == "invalid")
        #expect(record?["commit"] as? String == bad)
        #expect(record?["errors"] as? [String] == [message])
        Thread.sleep(forTimeInterval: 2)
        #expect(try Docker.running(h.project) == before)

        let good = try h.commit(["manifests/web.yaml": WatchHarness.service("web", replicas: 3)], "fix: web x3")
        #expect(try eventually(within: 15) { try Docker.running(h.project).count == 3 }, "\(h.log())")
        #expect(try eventually(within: 5) { (try h.journal().first?["commit"] as? String) == good })
        #expect(Set(before).isSubset(of: Set(try Docker.running(h.project))))
        #expect(try h.http("GET", "/metrics").body.contains("berth_desired_state_invalid{project=\"\(h.project)\",commit=\"\"} 0"))
    }

    @Test func sigkilledMidSyncThenRestartedConvergesAndLeavesHealthyContainersAlone() throws {
        let h = try WatchHarness()
        defer { h.stop() }
        try h.commit(["manifests/web.yaml": WatchHarness.service("web", replicas: 2)], "web x2")
        try h.start(interval: "1s")
        #expect(try eventually(within: 20) { try Docker.running(h.project).count == 2 }, "\(h.log())")
        let web = try Docker.running(h.project, service: "web")
        // A service that takes 3 s to become healthy: the sync is in flight for that long.
        let slow = WatchHarness.service(
            "slow", replicas: 3, startPeriod: "10s",
            extra: "  command: [\"/bin/sh\", \"-c\", \"sleep 3; exec httpd -f -p 8080 -h /www\"]")
        try h.commit(["manifests/slow.yaml": slow], "add slow")
        #expect(try eventually(within: 10) { try !Docker.running(h.project, service: "slow").isEmpty }, "\(h.log())")
        h.terminate(signal: SIGKILL)
        #expect(try Docker.running(h.project, service: "slow").count < 4)
        try h.start(interval: "1s")
        #expect(try eventually(within: 30) {
            let status = try h.json("/api/v1/status")
            let services = status["services"] as? [[String: Any]] ?? []
            return services.count == 2 && services.allSatisfy { $0["health"] as? String == "Healthy" }
        }, "\(h.log())")
        #expect(try Docker.running(h.project, service: "slow").count == 3)
        #expect(try Docker.running(h.project, service: "web") == web)
        #expect(h.terminate() == 0)
    }
}

@Suite struct WatchCommandLineTests {
    func run(_ arguments: [String]) throws -> (out: String, err: String, status: Int32) {
        let r = try ProcessRunner.run(WatchHarness.binary, arguments)
        return (r.stdout, r.stderr, r.status)
    }

    @Test func badFlagsAreUsageErrors() throws {
        let interval = try run(["watch", "--interval", "5"])
        #expect(interval.status == 64)
        #expect(interval.err.contains("--interval: expected a duration of at least 100ms like 30s, 5m or 1m30s, got \"5\""))
        let listen = try run(["watch", "--listen", "7420"])
        #expect(listen.status == 64)
        #expect(listen.err.contains("--listen: expected HOST:PORT such as 127.0.0.1:7420 (or `off`), got \"7420\""))
        let since = try run(["journal", "--project", "x", "--since", "yesterday"])
        #expect(since.status == 64)
        #expect(since.err.contains("--since: expected an RFC 3339 time, a date like 2026-01-31 or a duration of at most 100 years like 24h, got \"yesterday\""))
    }

    /// The remote's credentials never reach the logs: not in the start-up line, not in the
    /// git errors that follow (nothing listens on 127.0.0.1:9).
    @Test func credentialsInTheRepoURLAreNeverLogged() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var env = ProcessInfo.processInfo.environment
        env["BERTH_CACHE_DIR"] = dir.path + "/cache"
        let outPath = dir.path + "/out.log", errPath = dir.path + "/err.log"
        let p = try ChildProcess(
            WatchHarness.binary,
            [
                "watch", "--repo", "https://user:s3cretTok@127.0.0.1:9/x.git", "--project", "leak",
                "--state-dir", dir.path + "/state", "--listen", "off", "--interval", "1s",
            ],
            environment: env, stdout: .file(outPath), stderr: .file(errPath))
        defer { p.terminate(SIGKILL) }
        func err() -> String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }
        // Wait for the start-up line and a failed fetch.
        let logged = eventually(within: 20) {
            err().contains("msg=watching") && err().contains("could not read desired state from git")
        }
        #expect(logged, "\(err())")
        p.signal(SIGTERM)
        #expect(eventually(within: 15) { !p.isRunning })
        let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        #expect(!err().contains("s3cretTok"), "\(err())")
        #expect(!out.contains("s3cretTok"), "\(out)")
        #expect(err().contains("git.repo=https://***@127.0.0.1:9/x.git"), "\(err())")
    }

    @Test func journalWithoutAJournalSaysWhereItLooked() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let r = try run(["journal", "--project", "x", "--state-dir", dir.path])
        #expect(r.status == 1)
        #expect(r.out == "")
        #expect(r.err == "error: journal \(dir.path)/journal.sqlite: open failed: no journal here yet; `berth watch` creates it on its first sync (see --state-dir) (SQLite code 14); check that the state directory is writable and not shared with another berth watch of the same project\n")
    }
}
