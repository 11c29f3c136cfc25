import BerthCore
import BerthEngine
import BerthTestSupport
import Foundation
import Testing

/// Issue 11: a runtime that rolls out and restarts whole services itself (Docker Swarm) gets
/// one call per service and step from the same executor; waves, the `dependsOn` gate and
/// truthful outcomes stay Berth's. Driven through the fake runtime in that mode.
@Suite struct ServiceRuntimeTests {
    let customer = service("customer", image: "shop/customer:1.0", replicas: 2)
    let booking = service("booking", image: "shop/booking:1.0", replicas: 1, dependsOn: ["customer"])

    func apply(_ state: DesiredState, on runtime: FakeRuntime, events: EventLog = EventLog()) async throws -> ApplyReport {
        let observed = try await runtime.observe(project: "shop")
        let plan = try Planner.plan(desired: state, observed: observed, options: PlanOptions(prune: true))
        return await Executor(runtime: runtime, project: "shop").apply(
            plan, desired: state, observed: observed, onEvent: { events.append($0) })
    }

    @Test func wholeServicesAreHandedOverWaveByWaveAndNoInstanceIsTouched() async throws {
        let runtime = FakeRuntime(state: .none(project: "shop"), managesRollouts: true)
        let events = EventLog()
        let report = try await apply(desired(customer, booking), on: runtime, events: events)
        #expect(outcomes(report) == ["customer create succeeded", "booking create succeeded"])
        #expect(await runtime.calls == ["observe shop", "applyService customer x2", "applyService booking x1"])
        #expect(events.all.filter { $0.contains("waiting for") } == [
            "customer: waiting for the runtime to converge on 2 replicas of revision \(customer.revision.id)",
            "booking: waiting for the runtime to converge on 1 replica of revision \(booking.revision.id)",
        ])
        #expect(LoopFx.summary(await runtime.cluster.state) == [
            "booking: shop/booking:1.0=running", "customer: shop/customer:1.0=running shop/customer:1.0=running",
        ])

        // Scale, then delete (prune): the same two calls, never an instance.
        var three = customer
        three.replicas = 3
        #expect(outcomes(try await apply(desired(three, booking), on: runtime)) == ["customer scale succeeded"])
        #expect(outcomes(try await apply(desired(three), on: runtime)) == ["booking delete succeeded"])
        let calls = await runtime.calls
        #expect(calls.filter { !$0.hasPrefix("observe") } == [
            "applyService customer x2", "applyService booking x1", "applyService customer x3", "removeService booking",
        ])
        #expect(LoopFx.summary(await runtime.cluster.state) == ["customer: " + Array(repeating: "shop/customer:1.0=running", count: 3).joined(separator: " ")])
    }

    @Test func aRollbackByTheRuntimeIsAFailureAndItsDependentsWait() async throws {
        let runtime = FakeRuntime(state: .none(project: "shop"), managesRollouts: true)
        _ = try await apply(desired(customer, booking), on: runtime)
        await runtime.script([.neverHealthy(service: "customer")])
        var broken = customer
        broken.image = "shop/customer:broken"
        var booking2 = booking
        booking2.image = "shop/booking:1.1"
        let report = try await apply(desired(broken, booking2), on: runtime)
        #expect(report.steps.map(\.line) == [
            "customer: rollout of revision \(broken.revision.id) (shop/customer:broken) failed (customer revision \(broken.revision.id) never became healthy (scripted)): the runtime rolled it back to \(customer.revision.id) (shop/customer:1.0)",
            "booking: skipped: depends on customer, whose update failed and was rolled back",
        ])
        #expect(report.steps.map(\.outcome.word) == ["rolledBack", "skipped"])
        #expect(!report.succeeded)
    }

    /// Through the pipeline: the rolled-back revision is held back, not retried, as with
    /// instance-by-instance rollouts.
    @Test func aRevisionTheRuntimeRolledBackIsHeldBack() async throws {
        let source = ScriptedSource()
        let runtime = FakeRuntime(state: .none(project: "shop"), managesRollouts: true)
        let loop = LoopFx.loop(source: source, runtime: runtime)
        source.set(LoopFx.desired([customer], commit: "c1"))
        await loop.syncOnce()
        await runtime.script([.neverHealthy(service: "customer")])
        var broken = customer
        broken.image = "shop/customer:broken"
        source.set(LoopFx.desired([broken], commit: "c2"))
        await loop.request(.commit, fetch: true)
        await loop.syncOnce()
        #expect(await loop.lastSync?.result == .rolledBack)
        #expect(await loop.status().heldBack.map(\.service) == ["customer"])
        await loop.request(.drift, fetch: true)
        await loop.syncOnce()
        #expect(await runtime.calls.filter { $0.hasPrefix("applyService") } == ["applyService customer x2", "applyService customer x2"])
        #expect(await loop.status().heldBack.first?.message.hasSuffix(
            "never became healthy (scripted)): the runtime rolled it back to \(customer.revision.id) (shop/customer:1.0)") == true)
    }
}
