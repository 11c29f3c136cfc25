import BerthCore
import BerthEngine
import BerthTestSupport
import Foundation
import Synchronization
import Testing

/// Issue 11: a heal never waits for a sync in flight, and a heal and a sync never act twice
/// on one change of a service.
@Suite struct HealWhileSyncTests {
    @Test func aHealDoesNotWaitForASyncInFlight() async throws {
        let source = ScriptedSource()
        let runtime = TestRuntime(delay: .milliseconds(1))
        let web = service("web", image: "shop/web:1.0", replicas: 2)
        source.set(LoopFx.desired([web, service("api", image: "shop/api:1.0")], commit: "c1"))
        let loop = ReconcileLoop(project: "shop", provider: source, runtime: runtime, journal: nil, logger: LoopFx.quiet)
        let runner = Task { await loop.run(events: false) }
        try #require(await waitUntil {
            let started = await runtime.instances(of: "web").count == 2
            let synced = await loop.lastSync
            return started && synced != nil
        })

        // c2 updates api to a revision whose health check hangs: that sync stays in flight.
        await runtime.gate("shop/api:2.0")
        source.set(LoopFx.desired([web, service("api", image: "shop/api:2.0")], commit: "c2"))
        await loop.request(.commit, fetch: true)
        try #require(await waitUntil { await runtime.log.contains { $0.hasPrefix("start api-") && $0.hasSuffix(" shop/api:2.0") } })

        // A web replica dies meanwhile: it is replaced while the sync still waits for api.
        let victim = try #require(await runtime.instances(of: "web").first?.id)
        await runtime.setState(victim, .exited, exitCode: 137)
        await loop.handle(RuntimeEvent(kind: .died(exitCode: 137), instanceID: victim, service: "web", revision: nil))
        let healed = await waitUntil(within: 3) {
            let now = await runtime.instances(of: "web")
            return now.count == 2 && now.allSatisfy { $0.state == .running } && !now.contains { $0.id == victim }
        }
        let log = await runtime.log
        #expect(healed, "\(log)")
        #expect(await runtime.instances(of: "api").compactMap(\.image).sorted() == ["shop/api:1.0", "shop/api:2.0"])

        // The sync then finishes the rollout of api.
        await runtime.open("shop/api:2.0")
        #expect(await waitUntil { await runtime.instances(of: "api").compactMap(\.image) == ["shop/api:2.0"] })
        await loop.stop()
        await runner.value
        #expect(await runtime.instances(of: "web").count == 2)
    }
}
