import BerthTestSupport
import Foundation
import Testing

/// Issue 17, item 4: `berth plan` is what `berth watch` does. A CI's `plan
/// --detailed-exitcode` said 0 ("no changes") and the watch then deleted a service: plan did
/// not prune by default, watch did. Now the same repository goes through `plan
/// --detailed-exitcode` and then a real watch, and the watch's journal holds exactly the
/// planned steps.
@Suite struct PlanWatchAgreementTests {
    struct PlanDocument: Decodable {
        struct Step: Decodable, Equatable { var action: String; var service: String }
        var prune: Bool?
        var steps: [Step]
    }

    @Test func watchAppliesExactlyTheStepsPlanDetailedExitcodeAnnounced() throws {
        let h = try WatchHarness()
        defer { h.stop() }
        try h.commit([
            "manifests/web.yaml": WatchHarness.service("web", replicas: 1),
            "manifests/old.yaml": WatchHarness.service("old", replicas: 1),
            "manifests/api.yaml": WatchHarness.service("api", replicas: 1),
        ], "three services")
        func berth(_ arguments: [String]) throws -> ProcessResult {
            var env = ProcessInfo.processInfo.environment
            env["NO_COLOR"] = "1"
            return try ProcessRunner.berth(arguments + ["--repo", h.repo.path, "--project", h.project], environment: env)
        }
        let applied = try berth(["apply", "--auto-approve", "--state-dir", h.state.path])
        #expect(applied.status == 0, "\(applied.stderr)")
        #expect(try Docker.running(h.project).count == 3)

        // The next commit scales web and no longer has old.
        try h.repo.remove("manifests/old.yaml")
        try h.commit(["manifests/web.yaml": WatchHarness.service("web", replicas: 2)], "web x2, no old")

        let plan = try berth(["plan", "--detailed-exitcode", "--format", "json"])
        #expect(plan.status == 2, "\(plan.stderr)")
        let planned = try JSONDecoder().decode(PlanDocument.self, from: Data(plan.stdout.utf8))
        #expect(planned.prune == true)
        #expect(planned.steps == [.init(action: "scale", service: "web"), .init(action: "delete", service: "old")])
        let text = try berth(["plan"])
        #expect(text.stdout.hasPrefix("Berth plan for project \(h.project) at commit \(try h.repo.sha("HEAD").prefix(7)) (prune: on)\n"))

        // The watch (its defaults, as a user starts it) does exactly those steps.
        try h.start(interval: "5m")
        #expect(try eventually(within: 30) { try h.journal().contains { $0["trigger"] as? String == "commit" } }, "\(h.log())")
        let record = try #require(try h.journal().first { $0["trigger"] as? String == "commit" })
        let steps = (record["steps"] as? [[String: Any]] ?? []).map {
            PlanDocument.Step(action: $0["action"] as? String ?? "", service: $0["service"] as? String ?? "")
        }
        #expect(steps == planned.steps)
        #expect(record["result"] as? String == "succeeded")
        #expect(try Docker.running(h.project, service: "web").count == 2)
        #expect(try Docker.running(h.project, service: "old").isEmpty)

        // And plan agrees with what runs now.
        let after = try berth(["plan", "--detailed-exitcode"])
        #expect(after.status == 0, "\(after.stdout)\(after.stderr)")
    }
}
