import BerthCore
import BerthDocker
import BerthTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension SwarmSuite {
    /// `berth watch` with `BERTH_RUNTIME=swarm` (no flag): applies the first commit, then a
    /// new one (an image update and a scale) and prunes the service it deleted; a task
    /// killed on its node is reported in its log (Swarm replaces it); SIGTERM ends it.
    @Suite struct WatchOnSwarmTests {
        @Test func watchAppliesANewCommitPrunesAndReportsAKilledTask() async throws {
            let shop = try await SwarmShop("wa")
            defer { shop.cleanup() }
            try shop.service("customer", image: "shop/customer:1.0", replicas: 1, spec: SwarmShop.fastHealth())
            try shop.service("spare", image: "shop/customer:1.0", replicas: 1)
            let first = try shop.commit("customer and spare")
            let watch = try shop.start(
                ["watch", "--repo", shop.repo.path, "--project", shop.project, "--interval", "500ms", "--listen", "off",
                 "--state-dir", shop.stateDir],
                log: "watch.log")

            var summary: [String] = []
            #expect(
                try eventually(90) {
                    summary = try shop.summary()
                    return summary == ["customer Synced Healthy 1/1", "spare Synced Healthy 1/1"]
                }, "\(summary)\n\(shop.log("watch.log"))")

            // A new commit: customer 1.1 ×2, spare gone from git (watch prunes by default).
            try shop.service("customer", image: "shop/customer:1.1", replicas: 2, spec: SwarmShop.fastHealth())
            try shop.repo.remove("manifests/spare.yaml")
            let second = try shop.commit("customer 1.1, no spare")
            #expect(
                try eventually(90) {
                    summary = try shop.summary()
                    return summary == ["customer Synced Healthy 2/2"]
                }, "\(summary)\n\(shop.log("watch.log"))")
            #expect(try await shop.instances("customer").map(\.image) == ["shop/customer:1.1", "shop/customer:1.1"])
            let services = try await shop.runtime.client.listServices(labels: [BerthLabel.project: shop.project])
            #expect(services.compactMap { $0.Spec.Labels?[BerthLabel.service] } == ["customer"])

            // The journal: one sync per commit, each step with its outcome.
            var records: [[String: Any]] = []
            #expect(
                try eventually(10) {
                    records = try shop.journal()
                    return records.first?["commit"] as? String == second
                }, "\(records)")
            #expect(records.map { $0["commit"] as? String } == [second, first])
            #expect(records.map { $0["trigger"] as? String } == ["commit", "commit"])
            #expect(records.map { $0["result"] as? String } == ["succeeded", "succeeded"])
            let steps = (records.first?["steps"] as? [[String: Any]] ?? []).map {
                "\($0["action"] ?? "") \($0["service"] ?? "") \($0["outcome"] ?? "")"
            }
            #expect(steps.sorted() == ["delete spare succeeded", "update customer succeeded"], "\(records)")
            // `berth history --applied` joins git history with that journal.
            let history = try shop.berth(["history", "--applied", "--state-dir", shop.stateDir])
            let applied = history.stdout.split(separator: "\n").filter { $0.hasPrefix("Applied: ") }
            #expect(applied.count == 2, "\(history.stdout)\(history.stderr)")

            // A task killed on its node: Swarm replaces it; watch reports the death.
            let victim = try #require(try await shop.instances("customer").first)
            let node = try #require(shop.cluster.node(hostname: victim.node ?? ""))
            let container = try #require(
                try await shop.runtime.client.inspectTask(victim.id).Status.ContainerStatus?.ContainerID)
            #expect(try shop.cluster.docker(["kill", container], node: node.number).status == 0)
            #expect(
                eventually(20) {
                    shop.log("watch.log").split(separator: "\n").contains {
                        $0.contains("msg=\"instance died\"") && $0.contains(String(victim.id.prefix(12)))
                            && $0.contains("exit.code=137") && $0.contains("service.name=customer")
                    }
                }, "\(shop.log("watch.log"))")
            #expect(
                try eventually(30) {
                    summary = try shop.summary()
                    return summary == ["customer Synced Healthy 2/2"]
                }, "\(summary)")

            watch.signal(SIGTERM)
            #expect(watch.wait(timeout: .seconds(30)) == 0, "\(shop.log("watch.log"))")
            let log = shop.log("watch.log")
            #expect(!log.contains("runtime events stream ended"), "\(log)")
            #expect(!log.contains("level=error"), "\(log)")
        }
    }
}
