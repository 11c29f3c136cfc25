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

    /// Two heals of the same dead instance (one planned before the other ran): it is
    /// replaced once; the second finds it claimed and does nothing.
    @Test func aDeadInstanceIsReplacedOnceByTwoHeals() async throws {
        let runtime = TestRuntime(delay: .milliseconds(1))
        let web = service("web", image: "shop/web:1.0", replicas: 2)
        let state = desired(web)
        await runtime.seed(web, count: 2)
        await runtime.setState("web-0001", .exited, exitCode: 137)
        let locks = ServiceLocks()
        let executor = Executor(runtime: runtime, project: "shop", locks: locks)
        let observed = try await runtime.observe(project: "shop")
        let heal = try Planner.plan(desired: state, observed: observed)
        #expect(heal.steps.map { "\($0.action.rawValue) \($0.instances ?? [])" } == ["heal [\"web-0001\"]"])

        async let first = executor.apply(heal, desired: state, observed: observed)
        async let second = executor.apply(heal, desired: state, observed: observed)
        let reports = await [first, second]
        #expect(reports.map(outcomes).sorted { $0.count > $1.count } == [["web heal succeeded"], []])
        #expect(await runtime.log.filter { $0.hasPrefix("start ") }.count == 1)
        #expect(await runtime.instances(of: "web").count == 2)
        #expect(await locks.retiredInstances() == ["web-0001": "web-0003"])
        // A later plan from an observation that still lists it leaves it out too.
        let third = await executor.apply(heal, desired: state, observed: observed)
        #expect(third.steps.isEmpty)
        #expect(await runtime.log.filter { $0.hasPrefix("start ") }.count == 1)
    }

    /// A scale planned before another apply scaled the service: applied with its basis,
    /// the executor sees the service changed, plans it afresh, and starts nothing more.
    @Test func aStepWhoseServiceChangedMeanwhileIsPlannedAfresh() async throws {
        let runtime = TestRuntime(delay: .milliseconds(1))
        let web = service("web", image: "shop/web:1.0", replicas: 3)
        let state = desired(web)
        await runtime.seed(web, count: 2)
        let locks = ServiceLocks()
        let executor = Executor(runtime: runtime, project: "shop", locks: locks)

        // The sync's plan, made from an observation at generation 0: scale 2 → 3.
        let generations = await locks.snapshot()
        let observed = try await runtime.observe(project: "shop")
        let stale = try Planner.plan(desired: state, observed: observed)
        #expect(stale.steps.map(\.action) == [.scale])

        // Another apply got there first.
        #expect(outcomes(await executor.apply(stale, desired: state, observed: observed)) == ["web scale succeeded"])
        #expect(await locks.generation("web").exclusiveChanges == 1)

        // The sync's step now runs: planned afresh, nothing left to do.
        let asked = Counter()
        let basis = PlanBasis(generations: generations) { name in
            asked.add(name == "web" ? 1 : 0)
            let now = try? await runtime.observe(project: "shop")
            let plan = try? Planner.plan(desired: state, observed: now ?? .none(project: "shop"))
            return PlanBasis.Replanned(
                steps: plan?.steps.filter { $0.service == name } ?? [], instances: now?.service(name)?.instances ?? [])
        }
        let second = await executor.apply(stale, desired: state, observed: observed, basis: basis)
        #expect(asked.values == [1])
        #expect(second.steps.isEmpty)
        #expect(await runtime.log.filter { $0.hasPrefix("start ") }.count == 1)
        #expect(await runtime.instances(of: "web").count == 3)
    }

    @Test func serviceLocksServeExclusiveHoldersInOrderAndLetHealsShare() async throws {
        let locks = ServiceLocks()
        _ = await locks.acquire("web", .exclusive)
        let order = Counter()
        var waiters: [Task<Void, Never>] = []
        for i in Int32(1)...2 {
            waiters.append(Task {
                _ = await locks.acquire("web", .exclusive)
                order.add(i)
                await locks.release("web", .exclusive, changed: i == 2)
            })
            // Let each waiter queue before the next one starts.
            try await Task.sleep(for: .milliseconds(20))
        }
        // Another service is not held up.
        _ = await locks.acquire("api", .exclusive)
        await locks.release("api", .exclusive, changed: false)
        #expect(order.values.isEmpty)
        #expect(await locks.release("web", .exclusive, changed: true).changes == 1)
        for w in waiters { await w.value }
        #expect(order.values == [1, 2])
        #expect(await locks.generation("web").changes == 2)

        // Heals share the service; each gets the dead instances no one else replaces.
        let a = await locks.acquire("web", .replacing(["w1", "w2"]))
        let b = await locks.acquire("web", .replacing(["w2", "w3"]))
        #expect(a == ["w1", "w2"])
        #expect(b == ["w3"])
        let pending: String? = nil
        #expect(await locks.retiredInstances() == ["w1": pending, "w2": pending, "w3": pending])
        // An exclusive holder waits for both.
        let exclusive = Task {
            _ = await locks.acquire("web", .exclusive)
            order.add(3)
            await locks.release("web", .exclusive, changed: false)
        }
        try await Task.sleep(for: .milliseconds(20))
        await locks.release("web", .replacing(["w1", "w2"]), claimed: a, changed: true)
        try await Task.sleep(for: .milliseconds(20))
        #expect(order.values == [1, 2])
        await locks.release("web", .replacing(["w2", "w3"]), claimed: b, changed: true)
        await exclusive.value
        #expect(order.values == [1, 2, 3])
        #expect(await locks.generation("web").changes == 4)
        #expect(await locks.generation("web").exclusiveChanges == 2)
        // Released without a replacement started: no longer retired.
        #expect(await locks.retiredInstances().isEmpty)
    }
}
