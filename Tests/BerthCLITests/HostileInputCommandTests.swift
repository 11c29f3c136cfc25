import Foundation
import Testing
import BerthTestSupport

/// Hostile numbers given to the binary end in a usage error or a message, never a trap
/// (exit 132 is SIGILL: a Swift runtime trap). Issue 18, findings 1 and 2.
@Suite struct HostileInputCommandTests {
    /// `berth journal --since 1e308d` trapped in `Timestamp.string` once a journal existed.
    @Test(arguments: ["1e308d", "infd", "200000000000000d", "1e15w"])
    func journalSinceOutOfRangeIsAUsageError(_ since: String) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        // An empty file is an empty SQLite database: the journal opens, so the query runs.
        try dir.write("state/journal.sqlite", "")
        let r = try ProcessRunner.berth(["journal", "--project", "shop", "--state-dir", dir.path + "/state", "--since", since])
        #expect(r.status == 64)
        #expect(r.stdout == "")
        #expect(r.stderr.hasPrefix(
            "Error: --since: expected an RFC 3339 time, a date like 2026-01-31 or a duration of at most 100 years like 24h, got \"\(since)\"\n"))
    }

    /// A commit whose author time is the largest 64-bit number (git's parser keeps it; `git
    /// log` refuses it) trapped `berth history` while the date was put in the author's
    /// offset. Dates are clamped to the years 0001–9999.
    @Test func historyOfACommitDatedAtTheEndOfTimeIsClamped() throws {
        let repo = try GitRepoBuilder()
        defer { repo.cleanup() }
        try repo.write("manifests/web.yaml", GitRepoBuilder.service("web", image: "shop/web:1.0"))
        _ = try repo.commit("first")
        try repo.write("manifests/web.yaml", GitRepoBuilder.service("web", image: "shop/web:1.1"))
        _ = try repo.git("add", "-A")
        let tree = try repo.git("write-tree")
        let parent = try repo.sha("HEAD")
        let object = "tree \(tree)\nparent \(parent)\nauthor Eve <eve@example.com> 9223372036854775807 +0100\n"
            + "committer Eve <eve@example.com> -9223372036854775808 -0100\n\nfrom the end of time\n"
        let hostile = try repo.git(["hash-object", "-t", "commit", "-w", "--literally", "--stdin"], input: Data(object.utf8))
        _ = try repo.git("update-ref", "refs/heads/main", hostile)
        let r = try ProcessRunner.berth(["history", "--limit", "1"], in: URL(fileURLWithPath: repo.path), environment: repo.environment)
        #expect(r.stderr == "")
        #expect(r.status == 0)
        #expect(r.stdout.hasPrefix("commit \(hostile)\nAuthor: Eve <eve@example.com>\nDate:   9999-12-31T23:59:59+01:00\n"), "\(r.stdout)")
    }

    /// The finding's commit: `replicas: 100000000000000000` with `maxSurge: "100%"`, while an
    /// older revision runs (so the plan is a rolling update): `berth plan` exited 132. The
    /// manifest limits now make it a validation error at the value, so the service is left
    /// as it runs and nothing reaches the planner's own refusal (PlanInputCheck).
    @Test func planOfAHugeRollingUpdateIsAnErrorNotACrash() throws {
        let repo = try GitRepoBuilder()
        defer { repo.cleanup() }
        try repo.write("manifests/booking.yaml", GitRepoBuilder.service(
            "booking", image: "shop/booking:1.1", replicas: 100_000_000_000_000_000, extra: "  update: {maxSurge: \"100%\"}\n"))
        _ = try repo.commit("scale up a lot")
        let observed = try repo.root.write("observed.json", """
            {"formatVersion": 1, "project": "shop", "services": [{"name": "booking", "instances": [
              {"id": "booking-1", "revision": "0ldrev0000", "image": "shop/booking:1.0", "state": "running"}]}]}
            """)
        let r = try ProcessRunner.berth(["plan", "--repo", repo.path, "--project", "shop", "--observed", observed.path])
        #expect(r.status == 1)
        #expect(r.stdout.contains(
            "\n  booking: held back as it runs (1 instance): the desired state has 1 error, and berth never prunes then; fix them first\n"),
            "\(r.stdout)")
        #expect(r.stderr == """
            manifests/booking.yaml:7:13: error: spec.replicas: expected at most 10000 replicas, found 100000000000000000
            error: the desired state has 1 error (above); the plan covers only the services that loaded, and prunes nothing

            """)
    }

    /// `--listen` on an address other than loopback with no token would serve every read
    /// to anyone: refused unless `--public-read` (issue 18, finding 7).
    @Test func watchOnAPublicAddressWithoutATokenNeedsPublicRead() throws {
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "BERTH_API_TOKEN")
        environment["DOCKER_HOST"] = "unix:///nonexistent.sock"
        let r = try ProcessRunner.berth(["watch", "--listen", "0.0.0.0:7420", "--project", "shop"], environment: environment)
        #expect(r.status == 64)
        #expect(r.stdout == "")
        #expect(r.stderr.hasPrefix("""
            Error: --listen 0.0.0.0:7420 would serve status, plans and the journal to anyone who can reach it, \
            and no BERTH_API_TOKEN is set: set BERTH_API_TOKEN (reads then need it too), pass --public-read to \
            serve reads to everyone on purpose, or listen on 127.0.0.1

            """), "\(r.stderr)")
    }
}
