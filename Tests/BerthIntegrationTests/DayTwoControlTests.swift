import BerthCore
import BerthDocker
import BerthTestSupport
import Foundation
import Testing

/// Issue 17, item 5: `berth rollback`, `berth scale`, `berth suspend` and `berth resume`
/// against the real dockerd, on real git repositories: with nothing acting on the project
/// (the command applies the change itself) and beside a running `berth watch` (the command
/// records it and asks the watch to sync now).
@Suite struct DayTwoControlTests {
    /// Who the journal and the controls name: the tests run berth with `USER=ops`.
    static let operatorEnvironment = ["USER": "ops"]

    static func actor() throws -> String { "ops@" + (try sh(["hostname"]).out) }

    /// `berth status --format json` as a dictionary: the control fields are not in `StatusDocument`.
    static func statusJSON(_ r: ProcessResult) throws -> [String: Any] {
        try #require(r.status == 0, "\(r.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    }

    static func service(_ document: [String: Any], _ name: String) -> [String: Any]? {
        (document["services"] as? [[String: Any]])?.first { $0["name"] as? String == name }
    }

    static func images(_ containers: [Engine.ContainerSummary]) -> [String] { containers.compactMap(\.Image).sorted() }

    @Test func rollbackPinsAnEarlierRevisionUntilACommitChangesIt() async throws {
        let shop = try await Shop("rollback")
        defer { shop.cleanup() }
        try shop.service("customer", image: "shop/customer:1.0", replicas: 2)
        let first = try shop.commit("customer 1.0")
        try shop.service("customer", image: "shop/customer:1.1", replicas: 2)
        try shop.commit("customer 1.1")
        #expect(try shop.apply().status == 0)
        let gitRevision = try #require(try shop.status().service("customer")).revision
        let by = try Self.actor()

        // Without --to: the revision before git's, from the service's history; applied at once.
        let r = try shop.berth("rollback", ["customer"], environment: Self.operatorEnvironment)
        let status = try Self.statusJSON(try shop.berth("status", ["--format", "json"]))
        let row = try #require(Self.service(status, "customer"))
        let pinned = try #require(row["pinned"] as? [String: String])
        let pinnedRevision = try #require(pinned["revision"])
        #expect(pinnedRevision != gitRevision)
        #expect(r == ProcessResult(
            stdout: """
                customer: pinned to revision \(pinnedRevision) (shop/customer:1.0, commit \(first.prefix(7))) by \(by), until a commit changes its revision (git has \(gitRevision))
                applied: 1 step succeeded

                """,
            stderr: r.stderr, status: 0))
        #expect(r.stderr.contains("customer: update succeeded"), "\(r.stderr)")
        #expect(Self.images(try await shop.containers("customer")) == ["shop/customer:1.0", "shop/customer:1.0"])
        #expect(pinned["commit"] == first)
        #expect(pinned["gitRevision"] == gitRevision)
        #expect(pinned["by"] == by)
        let at = try #require(pinned["at"])
        // What serves is the pinned revision, healthy; git is not what runs: OutOfSync.
        #expect(row["revision"] as? String == pinnedRevision)
        #expect(row["image"] as? String == "shop/customer:1.0")
        #expect(row["health"] as? String == "Healthy")
        #expect(row["sync"] as? String == "OutOfSync")
        #expect(row["message"] as? String
            == "2 of 2 replicas ready; pinned to revision \(pinnedRevision) (\(first.prefix(7))) by \(by) at \(at) with berth rollback, until a commit changes its revision")

        // berth apply respects the pin: nothing to change.
        let ids = try await shop.containers("customer").map(\.Id).sorted()
        let again = try shop.apply()
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("\n\n" + PlanRendering.noChanges + "\n\n"), "\(again.stdout)")
        #expect(try await shop.containers("customer").map(\.Id).sorted() == ids)

        // --release: git's revision again; --to COMMIT: that commit's revision.
        let release = try shop.berth("rollback", ["customer", "--release"], environment: Self.operatorEnvironment)
        #expect(release.status == 0, "\(release.stderr)")
        #expect(release.stdout == """
            customer: rollback pin released by \(by); it runs git's revision \(gitRevision) again
            applied: 1 step succeeded

            """)
        #expect(Self.images(try await shop.containers("customer")) == ["shop/customer:1.1", "shop/customer:1.1"])
        let to = try shop.berth("rollback", ["customer", "--to", String(first.prefix(10)), "--format", "json"])
        #expect(to.status == 0, "\(to.stderr)")
        #expect(to.stdout.contains("\"action\" : \"rollback\""), "\(to.stdout)")
        #expect(Self.images(try await shop.containers("customer")) == ["shop/customer:1.0", "shop/customer:1.0"])

        // Nothing to pin to at HEAD (the revision git has), a typo, a missing commit: exit 1, said why.
        let same = try shop.berth("rollback", ["customer", "--to", "HEAD"])
        #expect(same == ProcessResult(
            stdout: "",
            stderr: "error: customer has the same revision \(gitRevision) at HEAD as at HEAD: nothing to roll back to; pick an older commit from `berth history customer`\n",
            status: 1))
        let typo = try shop.berth("rollback", ["custmer"])
        #expect(typo == ProcessResult(
            stdout: "", stderr: "error: project \(shop.project) has no service custmer; did you mean customer?\n", status: 1))

        // A commit that changes the service's revision ends the pin: git's revision rolls out,
        // and the journal says so.
        try shop.service("customer", image: "shop/customer:1.1", replicas: 2, env: ["MODE": "new"])
        try shop.commit("customer 1.1 with MODE")
        let released = try shop.apply()
        #expect(released.status == 0, "\(released.stderr)")
        let after = try Self.statusJSON(try shop.berth("status", ["--format", "json"]))
        let afterRow = try #require(Self.service(after, "customer"))
        #expect(afterRow["pinned"] == nil)
        #expect(afterRow["sync"] as? String == "Synced")
        #expect(Self.images(try await shop.containers("customer")) == ["shop/customer:1.1", "shop/customer:1.1"])
        let journal = try shop.berth("journal")
        #expect(journal.stdout.contains("    unpin customer  succeeded  0ms  commit "), "\(journal.stdout)")
        #expect(journal.stdout.contains("    rollback customer  succeeded  0ms  customer: pinned to revision \(pinnedRevision)"))
        shop.cleanup()
        #expect(try shop.leftovers() == "")
    }

    @Test func scaleOverridesGitsCountUntilTheNextCommitThatChangesTheService() async throws {
        let shop = try await Shop("scale")
        defer { shop.cleanup() }
        try shop.service("customer", image: "shop/customer:1.0", replicas: 1)
        try shop.service("other", image: "shop/customer:1.0", replicas: 1)
        try shop.commit("two services")
        #expect(try shop.apply().status == 0)
        let by = try Self.actor()

        let r = try shop.berth("scale", ["customer", "3", "--format", "json"], environment: Self.operatorEnvironment)
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let at = try #require(doc["at"] as? String)
        let expectedMessage = "customer: scaled to 3 by \(by) (git: 1), until the next commit that changes customer (or berth scale customer --reset)"
        #expect(doc["formatVersion"] as? Int == 1)
        #expect(doc["project"] as? String == shop.project)
        #expect(doc["service"] as? String == "customer")
        #expect(doc["action"] as? String == "scale")
        #expect(doc["by"] as? String == by)
        #expect(doc["message"] as? String == expectedMessage)
        let effect = try #require(doc["effect"] as? [String: Any])
        #expect(effect["mode"] as? String == "applied")
        #expect(effect["message"] as? String == "applied: 1 step succeeded")
        let steps = effect["steps"] as? [[String: Any]] ?? []
        #expect(steps.map { "\($0["action"]!) \($0["service"]!) \($0["outcome"]!)" } == ["scale customer succeeded"])
        #expect(try Docker.running(shop.project, service: "customer").count == 3)

        let row = try #require(Self.service(try Self.statusJSON(try shop.berth("status", ["--format", "json"])), "customer"))
        let scaled = try #require(row["scaled"] as? [String: Any])
        #expect(scaled["replicas"] as? Int == 3)
        #expect(scaled["gitReplicas"] as? Int == 1)
        #expect(scaled["by"] as? String == by)
        #expect(scaled["at"] as? String == at)
        #expect(scaled.count == 4)
        #expect(row["desiredReplicas"] as? Int == 3)
        #expect(row["health"] as? String == "Healthy")
        #expect(row["sync"] as? String == "OutOfSync")
        #expect(row["message"] as? String
            == "3 of 3 replicas ready; scaled to 3 by \(by) at \(at) with berth scale (git: 1), until a commit changes it")

        // A commit that changes another service leaves the override alone.
        try shop.service("other", image: "shop/customer:1.0", replicas: 2)
        try shop.commit("other x2")
        #expect(try shop.apply().status == 0)
        #expect(try Docker.running(shop.project, service: "customer").count == 3)
        #expect(try Docker.running(shop.project, service: "other").count == 2)

        // One that changes customer ends it: git's count again.
        try shop.service("customer", image: "shop/customer:1.0", replicas: 2)
        try shop.commit("customer x2")
        #expect(try shop.apply().status == 0)
        #expect(try Docker.running(shop.project, service: "customer").count == 2)
        let after = try #require(Self.service(try Self.statusJSON(try shop.berth("status", ["--format", "json"])), "customer"))
        #expect(after["scaled"] == nil)
        #expect(after["sync"] as? String == "Synced")
        #expect(try shop.berth("journal").stdout.contains("    unscale customer  succeeded  0ms  commit "))

        // Usage: no count (64), a count out of range (64), --reset with no override (1).
        let noCount = try shop.berth("scale", ["customer"])
        #expect(noCount.status == 64)
        #expect(noCount.stderr.hasPrefix("Error: give the replica count (berth scale customer 3), or --reset to end an override\n"), "\(noCount.stderr)")
        #expect(try shop.berth("scale", ["customer", "-1"]).status == 64)
        let typo = try shop.berth("scale", ["custmer", "2", "--format", "json"])
        #expect(typo == ProcessResult(
            stdout: "",
            stderr: #"{"error":"project \#(shop.project) has no service custmer; did you mean customer?","formatVersion":1}"# + "\n",
            status: 1))
        let reset = try shop.berth("scale", ["customer", "--reset"])
        #expect(reset == ProcessResult(
            stdout: "", stderr: "error: customer has no replica override; it runs git's count (2)\n", status: 1))
        shop.cleanup()
        #expect(try shop.leftovers() == "")
    }

    @Test func suspendedServiceIsLeftAloneByARunningWatchUntilResumed() throws {
        let h = try WatchHarness()
        defer { h.stop() }
        try h.commit(["manifests/web.yaml": WatchHarness.service("web", replicas: 2)], "web x2")
        // A long interval: whatever happens after the first sync comes from runtime events
        // and from the commands asking the watch to sync.
        try h.start(interval: "5m")
        #expect(try eventually(within: 30) { try Docker.running(h.project).count == 2 }, "\(h.log())")
        func berth(_ arguments: [String], token: String? = "test-token") throws -> ProcessResult {
            var env = ProcessInfo.processInfo.environment.merging(Self.operatorEnvironment) { $1 }
            env["NO_COLOR"] = "1"
            env["BERTH_API_TOKEN"] = token
            if token == nil { env.removeValue(forKey: "BERTH_API_TOKEN") }
            return try ProcessRunner.berth(
                arguments + ["--repo", h.repo.path, "--project", h.project, "--state-dir", h.state.path], environment: env)
        }
        let by = try Self.actor()
        let watchPID = try #require(h.process?.pid)

        let suspend = try berth(["suspend", "web"])
        #expect(suspend.status == 0, "\(suspend.stderr)")
        let lines = suspend.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "web: suspended by \(by); berth watch leaves it alone until berth resume web")
        #expect(lines.dropFirst().first?.hasPrefix("asked berth watch (pid \(watchPID), since ") == true, "\(suspend.stdout)")
        #expect(lines.count == 2)
        // Once the watch has synced (its journal has the manual sync), a killed replica stays dead.
        #expect(try eventually(within: 20) { try h.journal().contains { $0["trigger"] as? String == "manual" } }, "\(h.log())")
        let victim = try #require(try Docker.running(h.project).first)
        try sh(["docker", "kill", victim])
        Thread.sleep(forTimeInterval: 4)
        #expect(try Docker.running(h.project).count == 1, "\(h.log())")
        let row = try #require(Self.service(try Self.statusJSON(try berth(["status", "--format", "json"])), "web"))
        let suspended = try #require(row["suspended"] as? [String: String])
        #expect(suspended["by"] == by)
        #expect((row["message"] as? String)?.hasSuffix(
            "; suspended by \(by) at \(suspended["at"]!): berth watch leaves it alone until berth resume") == true,
            "\(row["message"] ?? "")")
        let twice = try berth(["suspend", "web"])
        #expect(twice == ProcessResult(
            stdout: "",
            stderr: "error: web is already suspended (by \(by) at \(suspended["at"]!)); berth resume web ends it\n", status: 1))

        // Resumed: the watch heals it at once.
        let resume = try berth(["resume", "web"])
        #expect(resume.status == 0, "\(resume.stderr)")
        #expect(resume.stdout.hasPrefix("web: resumed by \(by) (suspended by \(by) at \(suspended["at"]!)); berth watch acts on it again\nasked berth watch (pid \(watchPID)"), "\(resume.stdout)")
        #expect(try eventually(within: 20) { try Docker.running(h.project).count == 2 }, "\(h.log())")

        // berth scale beside the watch: recorded, and the watch applies it when asked.
        let scale = try berth(["scale", "web", "3"])
        #expect(scale.status == 0, "\(scale.stderr)")
        #expect(try eventually(within: 20) { try Docker.running(h.project).count == 3 }, "\(h.log())")
        // Without the token the command cannot ask; it says how, and the watch applies it at its next sync.
        let quiet = try berth(["scale", "web", "--reset"], token: nil)
        #expect(quiet.status == 0, "\(quiet.stderr)")
        #expect(quiet.stdout.contains(
            "applies it at its next sync (within its --interval); to apply it now: curl -X POST -H \"Authorization: Bearer $BERTH_API_TOKEN\" http://127.0.0.1:\(h.port)/api/v1/sync"),
            "\(quiet.stdout)")
        Thread.sleep(forTimeInterval: 1)
        #expect(try Docker.running(h.project).count == 3)
        #expect(try h.http("POST", "/api/v1/sync", token: "test-token").status == 202)
        #expect(try eventually(within: 20) { try Docker.running(h.project).count == 2 }, "\(h.log())")
    }
}
