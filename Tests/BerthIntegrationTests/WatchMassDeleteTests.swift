import BerthTestSupport
import Foundation
import Testing

/// Issue 18, finding 9, with a real watch and dockerd: while a commit deleting every
/// manifest was refused, a replica killed meanwhile was not replaced until the commit was
/// reverted.
@Suite(.serialized) struct WatchMassDeleteTests {
    @Test func aReplicaKilledWhileAMassDeleteIsRefusedIsReplaced() throws {
        let h = try WatchHarness()
        defer { h.stop() }
        try h.commit(
            [
                "manifests/web.yaml": WatchHarness.service("web", replicas: 2),
                "manifests/api.yaml": WatchHarness.service("api", replicas: 1),
            ], "web and api")
        try h.start(interval: "1s")
        try #require(eventually(within: 30) { h.healthyServices() == ["api", "web"] }, "\(h.log())")

        try h.repo.remove("manifests")
        try h.repo.commit("delete every manifest")
        let refusal =
            "refusing to delete 2 of 2 running services (api, web): that is more than half. If --path or --ref is wrong, the manifests were not found; check them. To apply without deleting them, pass --no-prune; if you really mean to delete them, pass --allow-mass-delete"
        func planError() -> String? {
            (try? h.json("/api/v1/status")["watch"] as? [String: Any])?["planError"] as? String
        }
        try #require(eventually(within: 20) { planError() == refusal }, "\(h.log())")

        let before = try Docker.running(h.project, service: "web")
        #expect(before.count == 2)
        let victim = try #require(before.first)
        let killed = ContinuousClock.now
        _ = try sh(["docker", "kill", victim])
        let healed = eventually(within: 20) {
            guard let now = try? Docker.running(h.project, service: "web") else { return false }
            return now.count == 2 && !now.contains(victim)
        }
        let took = ContinuousClock.now - killed
        print("killed while a mass delete is refused: web running 2 again after \(took)")
        #expect(healed, "\(h.log())")
        #expect(try Docker.running(h.project, service: "api").count == 1)
        #expect(planError() == refusal, "the refusal stays in status")
        let errors = try h.journal().filter { $0["result"] as? String == "error" }.compactMap { $0["errors"] as? [String] }
        #expect(errors == [["plan: " + refusal]], "journaled once")
    }
}
