import BerthCore
import BerthEngine
import BerthTestSupport
import Foundation
import Testing

/// Issue 17: after a held-back rollout, a drift sync scaled `customer` from 3 to 4 — the
/// count came from the spec recorded on the old containers (Docker's `berth.spec` label),
/// written by an older commit, which a later scale never updated.
@Suite struct HeldBackReplicasTests {
    func loop(_ source: ScriptedSource, _ runtime: TestRuntime) -> ReconcileLoop {
        ReconcileLoop(project: "shop", provider: source, runtime: runtime, journal: nil, logger: LoopFx.quiet)
    }

    @Test func aHeldBackServiceKeepsTheCountGitAsksForNotTheOneRecordedOnItsContainers() async throws {
        let source = ScriptedSource()
        let runtime = TestRuntime(delay: .milliseconds(1))
        // Started by an older commit at 4 replicas: each container records replicas 4.
        await runtime.seed(service("customer", image: "shop/customer:1.0", replicas: 4), count: 4)
        await runtime.script(neverHealthy: ["shop/customer:broken"])
        let loop = loop(source, runtime)

        // c1 scales to 3 (no new containers: the recorded spec still says 4).
        source.set(LoopFx.desired([service("customer", image: "shop/customer:1.0", replicas: 3)], commit: "c1"))
        await loop.syncOnce()
        #expect(await runtime.instances(of: "customer").count == 3)

        // c2 rolls out a broken image at 3: rolled back to 1.0, held back.
        source.set(LoopFx.desired([service("customer", image: "shop/customer:broken", replicas: 3)], commit: "c2"))
        await loop.request(.commit, fetch: true)
        await loop.syncOnce()
        #expect(await loop.lastSync?.result == .rolledBack)
        #expect(await runtime.instances(of: "customer").map(\.image) == Array(repeating: "shop/customer:1.0", count: 3))

        // A drift sync must leave it at 3 (it scaled to 4 from the recorded spec).
        await runtime.clearLog()
        await loop.request(.drift, fetch: true)
        await loop.syncOnce()
        #expect(await runtime.log.filter { $0.hasPrefix("start ") } == [])
        #expect(await runtime.instances(of: "customer").count == 3)
        #expect(await loop.status().heldBack.map(\.service) == ["customer"])

        // And a commit that only scales the held-back service scales what runs (1.0) to 5.
        source.set(LoopFx.desired([service("customer", image: "shop/customer:broken", replicas: 5)], commit: "c3"))
        await loop.request(.commit, fetch: true)
        await loop.syncOnce()
        #expect(await runtime.instances(of: "customer").map(\.image) == Array(repeating: "shop/customer:1.0", count: 5))
    }
}
