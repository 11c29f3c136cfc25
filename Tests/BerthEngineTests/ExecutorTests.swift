import BerthCore
import BerthEngine
import BerthTestSupport
import Foundation
import Synchronization
import Testing

func service(
    _ name: String, image: String, replicas: Int = 1, dependsOn: [String] = [],
    strategy: UpdatePolicy.Strategy = .rolling, surge: IntOrPercent = .count(1),
    unavailable: IntOrPercent = .count(0), onFailure: UpdatePolicy.OnFailure = .rollback
) -> ServiceSpec {
    ServiceSpec(
        name: name, image: image, replicas: replicas, dependsOn: dependsOn,
        health: HealthCheck(probe: .http(path: "/healthz", port: 8080), interval: Millis(200)),
        update: UpdatePolicy(
            strategy: strategy, maxSurge: surge, maxUnavailable: unavailable, progressDeadline: .seconds(5),
            onFailure: onFailure),
        stopGracePeriod: Millis(500))
}

func desired(_ specs: ServiceSpec...) -> DesiredState {
    DesiredState(services: Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0) }), commit: "c0ffee")
}

/// Events as lines, collected across tasks.
final class EventLog: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ event: ApplyEvent) { lines.withLock { $0.append(event.line) } }
    var all: [String] { lines.withLock { $0 } }
}

/// Plans `state` against what `runtime` runs and applies it.
func apply(
    _ state: DesiredState, on runtime: some ContainerRuntime, events: EventLog = EventLog(),
    options: PlanOptions = .init()
) async throws -> ApplyReport {
    let observed = try await runtime.observe(project: "shop")
    let plan = try Planner.plan(desired: state, observed: observed, options: options)
    return await Executor(runtime: runtime, project: "shop").apply(
        plan, desired: state, observed: observed, onEvent: { events.append($0) })
}

func outcomes(_ report: ApplyReport) -> [String] {
    report.steps.map { "\($0.step.service) \($0.step.action.rawValue) \($0.outcome.word)" }
}

@Suite struct ExecutorFakeRuntimeTests {
    @Test func theSampleFromNothingStartsWaveByWaveAndConverges() async throws {
        let runtime = FakeRuntime(state: .none(project: "shop"))
        let state = desired(
            service("customer", image: "shop/customer:1.0", replicas: 2),
            service("booking", image: "shop/booking:1.0", replicas: 2, dependsOn: ["customer"]),
            service("gateway", image: "shop/gateway:1.0", replicas: 2, dependsOn: ["booking", "customer"]))
        let report = try await apply(state, on: runtime)
        #expect(report.succeeded)
        #expect(outcomes(report) == ["customer create succeeded", "booking create succeeded", "gateway create succeeded"])
        let calls = await runtime.calls.filter { $0.hasPrefix("start") }
        #expect(calls == [
            "start customer", "start customer", "start booking", "start booking", "start gateway", "start gateway",
        ])
        let after = try await runtime.observe(project: "shop")
        #expect(try Planner.plan(desired: state, observed: after).steps.isEmpty)
    }

    @Test func aServiceThatFailsToStartBlocksItsDependentsAndSaysSo() async throws {
        let runtime = FakeRuntime(state: .none(project: "shop"), failures: [.createFails(service: "booking")])
        let state = desired(
            service("customer", image: "shop/customer:1.0"),
            service("booking", image: "shop/booking:1.0", dependsOn: ["customer"]),
            service("gateway", image: "shop/gateway:1.0", dependsOn: ["booking"]))
        let report = try await apply(state, on: runtime)
        #expect(!report.succeeded)
        #expect(outcomes(report) == ["customer create succeeded", "booking create failed", "gateway create skipped"])
        #expect(report.steps.map(\.line).dropFirst() == [
            "booking: create failed: 1 of 1 new instance did not become healthy: could not start an instance: creating booking failed (scripted)",
            "gateway: skipped: depends on booking, whose create failed",
        ])
        #expect(await runtime.calls.filter { $0 == "start gateway" }.isEmpty)
    }
}

@Suite struct ExecutorTests {
    @Test func stepsOfOneWaveRunConcurrentlyAndWavesInOrder() async throws {
        let runtime = TestRuntime(delay: .milliseconds(30))
        let state = desired(
            service("a", image: "x/a:1", replicas: 2), service("b", image: "x/b:1", replicas: 2),
            service("c", image: "x/c:1", dependsOn: ["a", "b"]))
        let report = try await apply(state, on: runtime)
        #expect(report.succeeded)
        // a and b (wave 0): four health waits at once; c waits for both.
        #expect(await runtime.maxConcurrentWaits == 4)
        let log = await runtime.log
        let firstC = log.firstIndex { $0.hasPrefix("start c-") }!
        let lastHealthyAB = log.lastIndex { $0.hasPrefix("healthy a-") || $0.hasPrefix("healthy b-") }!
        #expect(lastHealthyAB < firstC)
    }

    @Test func aDependencyWithNoStepsMustAlreadyServe() async throws {
        let runtime = TestRuntime()
        // Exited, and restart: never: the planner leaves it, so customer has no step.
        let customer = ServiceSpec(name: "customer", image: "shop/customer:1.0", restart: .never)
        await runtime.seed(customer, count: 1, state: .exited)
        let state = desired(
            customer,
            service("booking", image: "shop/booking:1.0", dependsOn: ["customer"]))
        let report = try await apply(state, on: runtime)
        #expect(report.steps.map(\.line) == ["booking: skipped: depends on customer, which has no healthy instance"])
        #expect(!report.succeeded)
    }

    @Test func scaleUpAndDown() async throws {
        let runtime = TestRuntime()
        let three = service("web", image: "x/web:1", replicas: 3)
        await runtime.seed(three, count: 3)
        var five = three
        five.replicas = 5
        var report = try await apply(desired(five), on: runtime)
        #expect(outcomes(report) == ["web scale succeeded"])
        #expect(await runtime.instances(of: "web").map(\.state) == Array(repeating: .running, count: 5))
        var one = three
        one.replicas = 1
        report = try await apply(desired(one), on: runtime)
        #expect(outcomes(report) == ["web scale succeeded"])
        // The newest go first.
        #expect(await runtime.instances(of: "web").map(\.id) == ["web-0001"])
    }

    @Test func healReplacesExitedAfterRemovingAndUnhealthyBeforeRemoving() async throws {
        let runtime = TestRuntime()
        let web = service("web", image: "x/web:1", replicas: 3)
        await runtime.seed(web, count: 3)
        await runtime.setState("web-0001", .exited, exitCode: 137)
        await runtime.setState("web-0002", .unhealthy)
        await runtime.clearLog()
        let report = try await apply(desired(web), on: runtime)
        #expect(outcomes(report) == ["web heal succeeded"])
        let log = await runtime.log
        #expect(log.firstIndex(of: "remove web-0001")! < log.firstIndex(of: "healthy web-0004") ?? log.firstIndex(of: "healthy web-0005")!)
        // The unhealthy one goes only once its replacement is healthy.
        let removeUnhealthy = log.firstIndex(of: "remove web-0002")!
        #expect(log[..<removeUnhealthy].filter { $0.hasPrefix("healthy ") }.count >= 1)
        #expect(await runtime.instances(of: "web").count == 3)
        #expect(await runtime.instances(of: "web").allSatisfy { $0.state == .running })
    }

    @Test(arguments: [
        (3, IntOrPercent.count(1), IntOrPercent.count(0)),
        (4, .count(0), .count(1)),
        (5, .percent(40), .count(1)),
        (6, .count(3), .count(2)),
        (1, .count(1), .count(0)),
    ])
    func rollingUpdateRespectsSurgeAndUnavailableAtEveryMoment(
        replicas: Int, surge: IntOrPercent, unavailable: IntOrPercent
    ) async throws {
        let runtime = TestRuntime()
        let v1 = service("web", image: "x/web:1", replicas: replicas, surge: surge, unavailable: unavailable)
        await runtime.seed(v1, count: replicas)
        await runtime.clearLog()
        var v2 = v1
        v2.image = "x/web:2"
        let events = EventLog()
        let report = try await apply(desired(v2), on: runtime, events: events)
        #expect(outcomes(report) == ["web update succeeded"])
        let maxSurge = surge.resolve(replicas: replicas, roundUp: true)
        let maxUnavailable = unavailable.resolve(replicas: replicas, roundUp: false)
        let samples = await runtime.samples["web"] ?? []
        #expect(!samples.isEmpty)
        #expect(samples.map(\.total).max()! <= replicas + maxSurge)
        #expect(samples.map(\.serving).min()! >= replicas - maxUnavailable)
        let now = await runtime.instances(of: "web")
        #expect(now.count == replicas)
        #expect(now.allSatisfy { $0.image == "x/web:2" && $0.state == .running })
        // Every old instance was drained before it was stopped.
        for line in events.all where line.hasSuffix(" stopped") {
            let id = line.dropFirst("web: ".count).dropLast(" stopped".count)
            #expect(events.all.firstIndex(of: "web: \(id) draining")! < events.all.firstIndex(of: line)!)
        }
    }

    @Test func aRollingUpdateGoesOneReplicaAtATime() async throws {
        let runtime = TestRuntime()
        let v1 = service("web", image: "x/web:1", replicas: 2)
        await runtime.seed(v1, count: 2)
        await runtime.clearLog()
        var v2 = v1
        v2.image = "x/web:2"
        let events = EventLog()
        _ = try await apply(desired(v2), on: runtime, events: events)
        #expect(events.all == [
            "web: update: image x/web:1 → x/web:2 (rolling, maxSurge 1, maxUnavailable 0)",
            "web: started web-0003; waiting for health",
            "web: web-0003 healthy",
            "web: web-0002 draining",
            "web: web-0002 stopped",
            "web: started web-0004; waiting for health",
            "web: web-0004 healthy",
            "web: web-0001 draining",
            "web: web-0001 stopped",
            events.all.last!,
        ])
        #expect(events.all.last!.hasPrefix("web: update succeeded in "))
    }

    @Test func aBrokenImageRollsBackAndRestoresTheOldCount() async throws {
        let runtime = TestRuntime()
        let v1 = service("booking", image: "shop/booking:1.0", replicas: 3)
        await runtime.seed(v1, count: 3)
        var broken = v1
        broken.image = "shop/booking:broken"
        // The first new instance is healthy, the second never is: one old one is already gone.
        await runtime.script(failingStarts: ["shop/booking:broken": [2]])
        let gateway = service("gateway", image: "shop/gateway:1.0", dependsOn: ["booking"])
        let report = try await apply(desired(broken, gateway), on: runtime)
        #expect(!report.succeeded)
        #expect(report.steps.map(\.line) == [
            "booking: rollout of revision \(broken.revision.id) (shop/booking:broken) failed (booking-0005 not healthy before the deadline; last probe: HTTP 404 from /healthz): rolled back to \(v1.revision.id) (shop/booking:1.0); 3 of 3 replicas serve the old revision",
            "gateway: skipped: depends on booking, whose update failed and was rolled back",
        ])
        let now = await runtime.instances(of: "booking")
        #expect(now.count == 3)
        #expect(now.allSatisfy { $0.revision == v1.revision && $0.state == .running })
        // Never fewer than 3 serving while it happened.
        #expect((await runtime.samples["booking"] ?? []).map(\.serving).min()! >= 3)
    }

    /// Restored instances carry the commit the old revision came from, not the failed one.
    @Test func aRollbackRestoresOldInstancesUnderTheirOwnCommit() async throws {
        let runtime = TestRuntime()
        let v1 = service("booking", image: "shop/booking:1.0", replicas: 3)
        await runtime.seed(v1, count: 3, commit: "0ld")
        var broken = v1
        broken.image = "shop/booking:broken"
        await runtime.script(failingStarts: ["shop/booking:broken": [2]])
        let report = try await apply(desired(broken), on: runtime)
        #expect(outcomes(report) == ["booking update rolledBack"])
        let now = await runtime.instances(of: "booking")
        #expect(now.count == 3)
        #expect(now.allSatisfy { $0.revision == v1.revision })
        // One old instance was stopped for the first (healthy) new one, then restored.
        #expect(now.map(\.id).contains("booking-0006"))
        #expect(now.map(\.commit) == ["0ld", "0ld", "0ld"])
    }

    /// New-revision replicas that served before the update began are not stopped by its
    /// rollback; only what the step started goes, and the message says what serves.
    @Test func aRollbackKeepsNewRevisionReplicasThatServedBefore() async throws {
        let runtime = TestRuntime()
        let v1 = service("booking", image: "shop/booking:1.0", replicas: 4, surge: .count(2))
        var v2 = v1
        v2.image = "shop/booking:2.0"
        await runtime.seed(v1, count: 2, commit: "c1")
        await runtime.seed(v2, count: 2, commit: "c2")
        // The batch of two: the first new one becomes healthy, the second never does.
        await runtime.script(failingStarts: ["shop/booking:2.0": [2]])
        await runtime.clearLog()
        let report = try await apply(desired(v2), on: runtime)
        #expect(report.steps.map(\.line) == [
            "booking: rollout of revision \(v2.revision.id) (shop/booking:2.0) failed (booking-0006 not healthy before the deadline; last probe: HTTP 404 from /healthz): rolled back to \(v1.revision.id) (shop/booking:1.0); 2 of 2 replicas serve the old revision; 2 replicas of revision \(v2.revision.id) that served before this update keep serving",
        ])
        let now = await runtime.instances(of: "booking")
        #expect(now.map(\.id) == ["booking-0001", "booking-0002", "booking-0003", "booking-0004"])
        #expect(now.allSatisfy { $0.state == .running })
        #expect(Set(await runtime.log.filter { $0.hasPrefix("remove") }) == ["remove booking-0005", "remove booking-0006"])
    }

    @Test func aNewInstanceThatFailsAtOnceLeavesTheOldOnesUntouched() async throws {
        let runtime = TestRuntime()
        let v1 = service("booking", image: "shop/booking:1.0", replicas: 3)
        await runtime.seed(v1, count: 3)
        await runtime.clearLog()
        var broken = v1
        broken.image = "shop/booking:broken"
        await runtime.script(neverHealthy: ["shop/booking:broken"])
        let report = try await apply(desired(broken), on: runtime)
        #expect(outcomes(report) == ["booking update rolledBack"])
        #expect(await runtime.log == [
            "start booking-0004 shop/booking:broken", "unhealthy booking-0004", "remove booking-0004",
        ])
        #expect(await runtime.instances(of: "booking").map(\.id) == ["booking-0001", "booking-0002", "booking-0003"])
    }

    @Test func pauseLeavesTheRolloutAsItStands() async throws {
        let runtime = TestRuntime()
        let v1 = service("booking", image: "shop/booking:1.0", replicas: 2, onFailure: .pause)
        await runtime.seed(v1, count: 2)
        var broken = v1
        broken.image = "shop/booking:broken"
        await runtime.script(neverHealthy: ["shop/booking:broken"])
        let report = try await apply(desired(broken), on: runtime)
        #expect(report.steps.map(\.line) == [
            "booking: rollout of revision \(broken.revision.id) (shop/booking:broken) failed (booking-0003 not healthy before the deadline; last probe: HTTP 404 from /healthz): paused as onFailure says; 0 of 2 replicas run the new revision, 2 the old one; fix the manifest and apply again",
        ])
        #expect(!report.succeeded)
        #expect(await runtime.instances(of: "booking").map(\.state) == [.running, .running, .unhealthy])
    }

    @Test func recreateStopsEveryOldInstanceBeforeStartingNewOnes() async throws {
        let runtime = TestRuntime()
        let v1 = service("db", image: "x/db:1", replicas: 2, strategy: .recreate)
        await runtime.seed(v1, count: 2)
        await runtime.clearLog()
        var v2 = v1
        v2.image = "x/db:2"
        let report = try await apply(desired(v2), on: runtime)
        #expect(outcomes(report) == ["db update succeeded"])
        let log = await runtime.log
        #expect(Set(log.prefix(2)) == ["remove db-0001", "remove db-0002"])
        #expect(log.dropFirst(2).allSatisfy { !$0.hasPrefix("remove") })
    }

    @Test func aFailedRecreateStartsTheOldRevisionAgain() async throws {
        let runtime = TestRuntime()
        let v1 = service("db", image: "x/db:1", replicas: 2, strategy: .recreate)
        await runtime.seed(v1, count: 2)
        var v2 = v1
        v2.image = "x/db:2"
        await runtime.script(neverHealthy: ["x/db:2"])
        let report = try await apply(desired(v2), on: runtime)
        #expect(outcomes(report) == ["db update rolledBack"])
        #expect(report.steps[0].outcome.message!.hasSuffix("2 of 2 replicas serve the old revision"))
        let now = await runtime.instances(of: "db")
        #expect(now.map(\.image) == ["x/db:1", "x/db:1"])
    }

    @Test func pruneDeletesInReverseDependencyOrder() async throws {
        let runtime = TestRuntime()
        let customer = service("customer", image: "shop/customer:1.0")
        await runtime.seed(customer, count: 1)
        await runtime.seed(service("old", image: "x/old:1"), count: 2)
        let report = try await apply(desired(customer), on: runtime, options: PlanOptions(prune: true))
        #expect(outcomes(report) == ["old delete succeeded"])
        #expect(await runtime.instances(of: "old").isEmpty)
        #expect(await runtime.instances(of: "customer").count == 1)
    }

    @Test func theReportNeverCallsARollbackASuccess() {
        #expect(!StepOutcome.rolledBack("x").isSuccess)
        #expect(!StepOutcome.paused("x").isSuccess)
        #expect(!StepOutcome.skipped("x").isSuccess)
        #expect(StepOutcome.succeeded.isSuccess)
    }
}

@Suite struct RecordedSpecTests {
    /// A rollback starts the previous revision from the spec recorded as JSON on its
    /// containers: the round trip must give the very same revision.
    @Test func theRecordedSpecKeepsItsRevision() throws {
        var spec = service("booking", image: "shop/booking:1.0", replicas: 3, dependsOn: ["customer"],
                           surge: .percent(25), unavailable: .count(1), onFailure: .pause)
        spec.env = ["CUSTOMER_URL": "http://customer:8080", "MAX_SEATS": "40"]
        spec.command = ["/entry.sh"]
        spec.labels = ["team": "shop"]
        spec.resources = Resources(milliCPUs: 500, memory: 64 << 20)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let back = try JSONDecoder().decode(ServiceSpec.self, from: encoder.encode(spec))
        #expect(back == spec)
        #expect(back.revision == spec.revision)
    }
}

/// A router that writes into the runtime's log, so the order of traffic changes and
/// container changes is one sequence. A drain takes `drainTime` and logs when it returns,
/// so "stopped only after its drain returned" can be checked, not just "after it began".
struct RecordingRouter: TrafficRouter {
    let runtime: TestRuntime
    var drainTime: Duration = .milliseconds(20)
    func instanceReady(_ instance: Instance) async { await runtime.note("ready \(instance.id)") }
    func drain(_ instance: Instance, grace: Millis, stopTimeout: Millis) async -> DrainOutcome {
        await runtime.note("drain \(instance.id) \(grace)")
        try? await Task.sleep(for: drainTime)
        await runtime.note("drained \(instance.id)")
        return .drained
    }
}

/// A router whose balancer never answers, as `ProxyRouter` with no proxy running.
struct UnansweredRouter: TrafficRouter {
    let runtime: TestRuntime
    func instanceReady(_ instance: Instance) async { await runtime.note("ready \(instance.id)") }
    func drain(_ instance: Instance, grace: Millis, stopTimeout: Millis) async -> DrainOutcome {
        await runtime.note("drain \(instance.id) \(grace)")
        return .notDrained(reason: "no berth proxy answers for project shop; start one with `berth proxy --project shop`")
    }
}

/// Where `log` (runtime and router calls, as `TestRuntime` and `RecordingRouter` write
/// them) breaks DESIGN.md's order: an instance made ready before it was healthy, or
/// removed before its drain returned (every instance here was serving, so each is drained).
func trafficOrderViolations(_ log: [String]) -> [String] {
    var violations: [String] = []
    for (index, line) in log.enumerated() {
        let words = line.split(separator: " ")
        guard words.count >= 2 else { continue }
        let id = words[1]
        let before = log[..<index]
        switch words[0] {
        case "ready" where !before.contains("healthy \(id)"):
            violations.append("\(id) made ready before it was healthy")
        case "remove" where !before.contains("drained \(id)"):
            violations.append("\(id) stopped before its drain returned")
        default:
            break
        }
    }
    return violations
}

@Suite struct TrafficRouterTests {
    /// Applies `state` through a `RecordingRouter`; returns the report and the one log of
    /// runtime and router calls.
    func applyRecording(_ state: DesiredState, on runtime: TestRuntime) async throws -> (ApplyReport, [String]) {
        let observed = try await runtime.observe(project: "shop")
        let plan = try Planner.plan(desired: state, observed: observed)
        let report = await Executor(runtime: runtime, project: "shop", router: RecordingRouter(runtime: runtime))
            .apply(plan, desired: state, observed: observed)
        return (report, await runtime.log)
    }

    /// Per replica: start new → healthy → ready (into the balancer) → drain old → stop old.
    @Test func aRollingUpdateOfTwoPutsEachNewReplicaInBeforeDrainingAndStoppingAnOldOne() async throws {
        let runtime = TestRuntime()
        let v1 = service("web", image: "x/web:1", replicas: 2)
        await runtime.seed(v1, count: 2)
        await runtime.clearLog()
        var v2 = v1
        v2.image = "x/web:2"
        let (report, log) = try await applyRecording(desired(v2), on: runtime)
        #expect(report.succeeded)
        #expect(log == [
            "start web-0003 x/web:2", "healthy web-0003", "ready web-0003",
            "drain web-0002 500ms", "drained web-0002", "remove web-0002",
            "start web-0004 x/web:2", "healthy web-0004", "ready web-0004",
            "drain web-0001 500ms", "drained web-0001", "remove web-0001",
        ])
        #expect(trafficOrderViolations(log) == [])
    }

    /// 3 → 1: the two newest are drained (at once), each stopped only once its own drain
    /// returned; nothing is started or made ready; the oldest is not touched.
    @Test func aScaleDownFrom3To1DrainsEachRetiredReplicaBeforeStoppingIt() async throws {
        let runtime = TestRuntime()
        let three = service("web", image: "x/web:1", replicas: 3)
        await runtime.seed(three, count: 3)
        await runtime.clearLog()
        var one = three
        one.replicas = 1
        let (report, log) = try await applyRecording(desired(one), on: runtime)
        #expect(outcomes(report) == ["web scale succeeded"])
        for id in ["web-0003", "web-0002"] {
            #expect(log.filter { $0.split(separator: " ")[1] == id } == ["drain \(id) 500ms", "drained \(id)", "remove \(id)"])
        }
        #expect(log.count == 6)
        #expect(trafficOrderViolations(log) == [])
        #expect(await runtime.instances(of: "web").map(\.id) == ["web-0001"])
    }

    /// The checker itself catches both mistakes (so the tests above can fail).
    @Test func theOrderCheckerCatchesReadyBeforeHealthyAndStopBeforeDrained() {
        #expect(trafficOrderViolations(["start a x", "ready a", "healthy a", "drain b 1s", "remove b", "drained b"]) == [
            "a made ready before it was healthy", "b stopped before its drain returned",
        ])
    }
}

@Suite struct NoProxyTests {
    static let warning =
        "web: warning: connections to retired replicas were not drained: no berth proxy answers for project shop; "
        + "start one with `berth proxy --project shop`"

    /// A published port and no proxy: the update and the scale-down still succeed, every
    /// old replica is still stopped, and the report and the progress say once per service
    /// that connections were not drained. A service without a published port goes unmentioned.
    @Test func retiringReplicasWithoutAProxySaysSoOncePerServiceAndStillSucceeds() async throws {
        let runtime = TestRuntime()
        var web = service("web", image: "x/web:1", replicas: 3)
        web.ports = [PortSpec(containerPort: 8080, publish: 8081)]
        var worker = service("worker", image: "x/worker:1", replicas: 2)
        worker.ports = [PortSpec(containerPort: 8080)]
        await runtime.seed(web, count: 3)
        await runtime.seed(worker, count: 2)
        var web2 = web
        web2.image = "x/web:2"
        var worker2 = worker
        worker2.image = "x/worker:2"
        let state = desired(web2, worker2)
        let events = EventLog()
        let observed = try await runtime.observe(project: "shop")
        let plan = try Planner.plan(desired: state, observed: observed)
        let report = await Executor(runtime: runtime, project: "shop", router: UnansweredRouter(runtime: runtime))
            .apply(plan, desired: state, observed: observed, onEvent: { events.append($0) })
        #expect(report.succeeded)
        #expect(report.warnings == [
            ApplyWarning(
                service: "web",
                message: "connections to retired replicas were not drained: no berth proxy answers for project shop; "
                    + "start one with `berth proxy --project shop`"),
        ])
        #expect(report.warnings.map(\.line) == [Self.warning])
        #expect(events.all.filter { $0.contains("warning") } == [Self.warning])
        // Said with the first drain that was not answered, before that replica stopped.
        let said = try #require(events.all.firstIndex(of: Self.warning))
        #expect(try #require(events.all.firstIndex(of: "web: web-0003 draining")) < said)
        #expect(said < (try #require(events.all.firstIndex(of: "web: web-0003 stopped"))))
        let log = await runtime.log
        #expect(log.filter { $0.hasPrefix("drain web-") }.count == 3)
        #expect(await runtime.instances(of: "web").allSatisfy { $0.image == "x/web:2" })
        #expect(await runtime.instances(of: "worker").allSatisfy { $0.image == "x/worker:2" })

        // Scale-down 3 → 1 in a later apply: said again, once.
        var one = web2
        one.replicas = 1
        let later = EventLog()
        let now = try await runtime.observe(project: "shop")
        let scaleDown = try Planner.plan(desired: desired(one, worker2), observed: now)
        let second = await Executor(runtime: runtime, project: "shop", router: UnansweredRouter(runtime: runtime))
            .apply(scaleDown, desired: desired(one, worker2), observed: now, onEvent: { later.append($0) })
        #expect(second.succeeded)
        #expect(second.warnings.map(\.line) == [Self.warning])
        #expect(later.all.filter { $0.contains("warning") } == [Self.warning])
        #expect(await runtime.instances(of: "web").count == 1)
    }

    /// No balancer at all (`NoTrafficRouter`), or one that drained: nothing to say.
    @Test func noWarningWhenTheDrainWasAnsweredOrNoBalancerIsUsed() async throws {
        for recording in [false, true] {
            let runtime = TestRuntime()
            let router: any TrafficRouter = recording ? RecordingRouter(runtime: runtime) : NoTrafficRouter()
            var web = service("web", image: "x/web:1", replicas: 2)
            web.ports = [PortSpec(containerPort: 8080, publish: 8081)]
            await runtime.seed(web, count: 2)
            var web2 = web
            web2.image = "x/web:2"
            let observed = try await runtime.observe(project: "shop")
            let plan = try Planner.plan(desired: desired(web2), observed: observed)
            let events = EventLog()
            let report = await Executor(runtime: runtime, project: "shop", router: router)
                .apply(plan, desired: desired(web2), observed: observed, onEvent: { events.append($0) })
            #expect(report.succeeded)
            #expect(report.warnings == [])
            #expect(!events.all.contains { $0.contains("warning") })
        }
    }
}

