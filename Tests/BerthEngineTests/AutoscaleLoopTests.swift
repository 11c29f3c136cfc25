import BerthCore
import BerthEngine
import BerthTestSupport
import Foundation
import Synchronization
import Testing

/// Counters the test sets by hand, as the balancer would report them.
final class ScriptedTraffic: TrafficStatistics, Sendable {
    private let report = Mutex(TrafficReport(uptimeSeconds: 100, services: []))
    func set(_ service: String, requests: Int, waiting: Int = 0, uptime: Int64 = 100) {
        report.withLock {
            $0 = TrafficReport(
                uptimeSeconds: uptime,
                services: [ServiceTraffic(
                    service: service, requestsTotal: requests, connectionsTotal: 0, connectionsActive: 0,
                    connectionsWaiting: waiting)])
        }
    }
    func traffic() async throws -> TrafficReport { report.withLock { $0 } }
}

/// The autoscaler through the sync pipeline, on the fake runtime (the real-dockerd tests are
/// in BerthCLITests/AutoscaleWatchTests).
@Suite struct AutoscaleLoopTests {
    func web(replicas: Int, min: Int = 1, max: Int = 10) -> ServiceSpec {
        var spec = LoopFx.spec("web", replicas: replicas)
        spec.autoscale = Autoscale(min: min, max: max, targetRequestsPerSecond: 10, scaleDownDelay: .seconds(60))
        return spec
    }

    @Test func anAutoscaledCountThatDiffersFromSpecReplicasIsNotDrift() async throws {
        let source = ScriptedSource()
        source.set(LoopFx.desired([web(replicas: 2)], commit: "c1"))
        let runtime = FakeRuntime(state: .none(project: "shop"))
        let loop = LoopFx.loop(source: source, runtime: runtime)
        await loop.syncOnce()
        #expect(await runtime.cluster.state.service("web")?.instances.count == 2)
        // The autoscaler's count: 5. A sync plans it, and the next one finds nothing to do.
        loop.pipeline.autoscaleBoard.record("web", replicas: 5, rate: nil, decision: nil, at: Date())
        await loop.request(.drift, fetch: true)
        await loop.syncOnce()
        #expect(await runtime.cluster.state.service("web")?.instances.count == 5)
        #expect(try await loop.currentPlan().steps.isEmpty)
        // A fresh pipeline (berth apply, a restarted watch) takes what runs: 5, no step.
        let fresh = LoopFx.loop(source: source, runtime: runtime)
        await fresh.syncOnce()
        #expect(await runtime.cluster.state.service("web")?.instances.count == 5)
        let row = try #require(await fresh.status().report.services.first)
        #expect(row.sync == .synced)
        #expect(row.autoscale?.text == "5 (autoscaled 1–10, target 10)")
    }

    @Test func aDecisionIsAppliedAtOnceAndJournaledWithTriggerAutoscale() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let journal = try Journal(path: dir.path + "/journal.sqlite")
        let source = ScriptedSource()
        source.set(LoopFx.desired([web(replicas: 1)], commit: "c1"))
        let runtime = FakeRuntime(state: .none(project: "shop"))
        let loop = LoopFx.loop(source: source, runtime: runtime, journal: journal)
        await loop.syncOnce()
        let traffic = ScriptedTraffic()
        traffic.set("web", requests: 0)
        var options = AutoscaleController.Options()
        options.windowMs = 200
        let controller = AutoscaleController(loop: loop, statistics: traffic, options: options, logger: LoopFx.quiet)
        await controller.tick()
        try await Task.sleep(for: .milliseconds(250))
        // 100 requests in 0.25 s (or in a second, on a busy machine): 100 req/s or more at
        // target 10 → 10 replicas; at most 5 from 1 in one step.
        traffic.set("web", requests: 100)
        await controller.tick()
        #expect(loop.pipeline.autoscaleBoard.counts() == ["web": 5])
        // The loop is not running: the decision is applied at the next sync.
        await loop.syncOnce()
        #expect(await runtime.cluster.state.service("web")?.instances.count == 5)
        let record = try #require(try await journal.records().first)
        #expect(record.trigger == .autoscale)
        #expect(record.steps.map(\.action) == ["scale"])
        #expect(await loop.status().report.services.first?.autoscale?.text.hasPrefix("5 (autoscaled 1–10, ") == true)
        let metrics = await loop.metricsText()
        #expect(metrics.contains("berth_autoscale_desired_replicas{project=\"shop\",service=\"web\"} 5\n"))
        #expect(metrics.contains("berth_autoscale_decisions_total{project=\"shop\",service=\"web\",direction=\"up\"} 1\n"))
    }

    @Test func theAutoscalePathNamesTheDecisionInTheStepReason() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let journal = try Journal(path: dir.path + "/journal.sqlite")
        let source = ScriptedSource()
        source.set(LoopFx.desired([web(replicas: 1)], commit: "c1"))
        let runtime = FakeRuntime(state: .none(project: "shop"))
        let loop = LoopFx.loop(source: source, runtime: runtime, journal: journal)
        await loop.syncOnce()
        let decision = AutoscaleDecision(
            from: 1, to: 3, rate: 25, windowMs: 1000, recommended: 3, target: 10, reason: .load)
        loop.pipeline.autoscaleBoard.record("web", replicas: 3, rate: nil, decision: decision, at: Date())
        _ = await loop.pipeline.autoscale("web", decision: decision)
        #expect(await runtime.cluster.state.service("web")?.instances.count == 3)
        let record = try #require(try await journal.records().first)
        #expect(record.trigger == .autoscale)
        #expect(record.steps.map(\.reason) == ["autoscale 1 → 3: 25.0 req/s over 1s, target 10 per replica"])
    }

    @Test func minZeroStaysAtZeroUntilAClientWaitsThenStartsOne() async throws {
        let source = ScriptedSource()
        source.set(LoopFx.desired([web(replicas: 2, min: 0, max: 4)], commit: "c1"))
        let runtime = FakeRuntime(state: .none(project: "shop"))
        let loop = LoopFx.loop(source: source, runtime: runtime)
        await loop.syncOnce()
        #expect(await runtime.cluster.state.service("web")?.instances.count ?? 0 == 0)
        let traffic = ScriptedTraffic()
        traffic.set("web", requests: 0, waiting: 3)
        let controller = AutoscaleController(loop: loop, statistics: traffic, logger: LoopFx.quiet)
        await controller.tick()
        #expect(loop.pipeline.autoscaleBoard.decisions() == ["web": "0 → 1: a client waited at the balancer with no replica running"])
        await loop.syncOnce()
        #expect(await runtime.cluster.state.service("web")?.instances.count == 1)
    }
}
