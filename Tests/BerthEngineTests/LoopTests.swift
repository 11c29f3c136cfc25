import BerthCore
import BerthEngine
import BerthTestSupport
import Foundation
import Testing

@Suite struct LoopTests {
    let web1 = LoopFx.spec("web", replicas: 2)

    @Test func firstSyncCreatesAndASecondSyncDoesNothing() async throws {
        let source = ScriptedSource()
        source.set(LoopFx.desired([web1], commit: "c1"))
        let runtime = FakeRuntime(state: .none(project: "shop"))
        let loop = LoopFx.loop(source: source, runtime: runtime)
        await loop.request(.commit, fetch: true)
        await loop.syncOnce()
        #expect(LoopFx.summary(await runtime.cluster.state) == ["web: shop/web:1.0=running shop/web:1.0=running"])
        #expect(await loop.lastAppliedCommit == "c1")
        let callsBefore = await runtime.calls.count
        await loop.request(.drift, fetch: true)
        await loop.syncOnce()
        #expect(await runtime.calls.count == callsBefore + 1)  // one observe, nothing else
        #expect(await runtime.calls.last == "observe shop")
    }

    @Test func invalidCommitKeepsLastGoodAndReportsItThenTheNextGoodCommitIsApplied() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let journal = try Journal(path: dir.path + "/journal.sqlite")
        let source = ScriptedSource()
        source.set(LoopFx.desired([web1], commit: "c1"))
        let runtime = FakeRuntime(state: .none(project: "shop"))
        let loop = LoopFx.loop(source: source, runtime: runtime, journal: journal)
        await loop.syncOnce()
        let error = Diagnostic(.error, file: "manifests/web.yaml", line: 7, column: 13, path: "spec.replicas", message: "expected an integer, found \"two\"")
        source.set(LoopFx.desired([], commit: "c2", errors: [error]))
        await loop.request(.drift, fetch: true)
        await loop.syncOnce()
        // Nothing removed: the last good state (c1) keeps running.
        #expect(LoopFx.summary(await runtime.cluster.state) == ["web: shop/web:1.0=running shop/web:1.0=running"])
        #expect(await runtime.calls.filter { $0.hasPrefix("remove") }.isEmpty)
        let status = await loop.status()
        #expect(status.invalid?.commit == "c2")
        #expect(status.invalid?.errors == ["manifests/web.yaml:7:13: error: spec.replicas: expected an integer, found \"two\""])
        #expect(status.desiredCommit == "c1")
        let metrics = await loop.metricsText()
        #expect(metrics.contains("berth_desired_state_invalid{project=\"shop\",commit=\"c2\"} 1\n"))
        #expect(metrics.contains("berth_syncs_total{project=\"shop\",result=\"invalid\"} 1\n"))
        let records = try await journal.records()
        #expect(records.first?.result == .invalid)
        #expect(records.first?.commit == "c2")
        #expect(records.first?.errors == ["manifests/web.yaml:7:13: error: spec.replicas: expected an integer, found \"two\""])

        // The next good commit scales to 3.
        source.set(LoopFx.desired([LoopFx.spec("web", replicas: 3)], commit: "c3"))
        await loop.request(.drift, fetch: true)
        await loop.syncOnce()
        #expect(await runtime.cluster.state.service("web")?.instances.count == 3)
        #expect(await loop.status().invalid == nil)
        #expect(await loop.lastAppliedCommit == "c3")
        #expect(await loop.metricsText().contains("berth_desired_state_invalid{project=\"shop\",commit=\"\"} 0\n"))
        let newest = try await journal.records(limit: 1)
        #expect(newest.map(\.result) == [.succeeded])
        #expect(newest.first?.trigger == .commit)
        #expect(newest.first?.steps.map { "\($0.action) \($0.service) \($0.outcome.rawValue)" } == ["scale web succeeded"])
    }

    @Test func unreachableGitLeavesRunningServicesAlone() async throws {
        let source = ScriptedSource()
        source.set(LoopFx.desired([web1], commit: "c1"))
        let runtime = FakeRuntime(state: .none(project: "shop"))
        let loop = LoopFx.loop(source: source, runtime: runtime)
        await loop.syncOnce()
        source.fail("cannot reach https://git.example/shop.git")
        await loop.request(.drift, fetch: true)
        await loop.syncOnce()
        #expect(await runtime.cluster.state.service("web")?.instances.count == 2)
        #expect(await loop.status().sourceError == "cannot reach https://git.example/shop.git")
        // Healing still works from the last good state.
        let id = try #require(await runtime.cluster.state.service("web")?.instances.first?.id)
        await runtime.crash(id)
        await loop.request(.drift, fetch: true)
        await loop.syncOnce()
        #expect(LoopFx.summary(await runtime.cluster.state) == ["web: shop/web:1.0=running shop/web:1.0=running"])
    }

    @Test func driftIsCorrectedIncludingStrays() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let journal = try Journal(path: dir.path + "/journal.sqlite")
        let web = LoopFx.spec("web", replicas: 1)
        let source = ScriptedSource()
        source.set(LoopFx.desired([web], commit: "c1"))
        // A hand-started container with another revision of web, and one of an unknown service.
        let state = ObservedState(project: "shop", services: [
            ObservedService(name: "intruder", instances: [
                Instance(id: "intruder-x", service: "intruder", revision: Revision("ffff"), image: "busybox", state: .running)]),
            ObservedService(name: "web", instances: [
                Instance(id: "web-0001", service: "web", revision: web.revision, image: "shop/web:1.0", state: .running),
                Instance(id: "web-stray", service: "web", revision: Revision("eeee"), image: "shop/web:0.9", state: .running)]),
        ])
        let runtime = FakeRuntime(state: state, seed: 2)
        let loop = LoopFx.loop(source: source, runtime: runtime, journal: journal)
        await loop.syncOnce()
        #expect(LoopFx.summary(await runtime.cluster.state) == ["web: shop/web:1.0=running"])
        #expect(await runtime.calls.contains("remove intruder-x"))
        #expect(await runtime.calls.contains("remove web-stray"))
        let record = try #require(try await journal.records().first)
        #expect(record.steps.map { "\($0.action) \($0.service) \($0.outcome.rawValue)" } == ["update web succeeded", "delete intruder succeeded"])
    }

    @Test func killedInstanceIsHealedFromTheEventWithoutObserving() async throws {
        let source = ScriptedSource()
        source.set(LoopFx.desired([web1], commit: "c1"))
        let runtime = FakeRuntime(state: .none(project: "shop"))
        let loop = LoopFx.loop(source: source, runtime: runtime)
        await loop.syncOnce()
        let victim = try #require(await runtime.cluster.state.service("web")?.instances.first?.id)
        await runtime.crash(victim)
        let before = await runtime.calls.count
        await loop.handle(RuntimeEvent(kind: .killed(signal: "9"), instanceID: victim, service: "web", revision: nil))
        await loop.handle(RuntimeEvent(kind: .died(exitCode: 137), instanceID: victim, service: "web", revision: nil))
        await loop.syncOnce()
        // Start first, then remove: no observe before the replacement starts.
        let after = Array(await runtime.calls[before...])
        #expect(after.first == "start web")
        #expect(Set(after.dropFirst().prefix(2)) == ["waitHealthy web-0003", "remove \(victim)"])
        #expect(LoopFx.summary(await runtime.cluster.state) == ["web: shop/web:1.0=running shop/web:1.0=running"])
        #expect(await loop.status().backoff.isEmpty)  // a kill from outside is not a crash
        #expect(await loop.metricsText().contains("berth_heals_total{project=\"shop\"} 1\n"))
        // The same by service, with its health and replicas (issue 17, item 3).
        let text = await loop.metricsText()
        #expect(text.contains("berth_service_heals_total{project=\"shop\",service=\"web\"} 1\n"))
        #expect(text.contains("berth_service_replicas_desired{project=\"shop\",service=\"web\"} 2\n"))
        #expect(text.contains("berth_service_replicas_ready{project=\"shop\",service=\"web\"} 2\n"))
        #expect(text.contains("berth_service_health{project=\"shop\",health=\"Healthy\",service=\"web\"} 1\n"))
        #expect(text.contains("berth_service_health{project=\"shop\",health=\"Degraded\",service=\"web\"} 0\n"))
        #expect(text.contains("berth_service_in_sync{project=\"shop\",service=\"web\"} 1\n"))
        #expect(text.contains("berth_service_backoff{project=\"shop\",service=\"web\"} 0\n"))
    }

    @Test func crashLoopBacksOffAndIsVisibleInStatus() async throws {
        let clock = TestClock()
        let (_, runtime, loop) = await LoopFx.webLoop(clock: clock)

        func crashNow() async throws { try await LoopFx.crash("web", in: runtime, loop: loop) }
        func starts() async -> Int { await runtime.calls.filter { $0 == "start web" }.count }

        try await crashNow()  // first crash: healed at once
        #expect(await starts() == 2)
        try await crashNow()  // second: 10 s backoff
        #expect(await starts() == 2)
        let entry = try #require(await loop.status().backoff.first)
        #expect(entry.service == "web")
        #expect(entry.failures == 2)
        #expect(entry.delaySeconds == 10)
        #expect(await loop.metricsText().contains("berth_backoff_services{project=\"shop\"} 1\n"))
        #expect(await loop.metricsText().contains("berth_service_backoff{project=\"shop\",service=\"web\"} 1\n"))
        clock.advance(9)
        await loop.request(.drift, fetch: false)
        await loop.syncOnce()
        #expect(await starts() == 2)
        clock.advance(1.5)
        await loop.request(.drift, fetch: false)
        await loop.syncOnce()
        #expect(await starts() == 3)
        try await crashNow()  // third: 20 s
        #expect(await loop.status().backoff.first?.delaySeconds == 20)
    }

    @Test func rolledBackCommitIsNotRetriedUntilANewerCommitChangesTheService() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let journal = try Journal(path: dir.path + "/journal.sqlite")
        let source = ScriptedSource()
        // api 1.0 runs; c2 moves it to 2.0, which never becomes healthy.
        let api1 = LoopFx.spec("api", image: "shop/api:1.0")
        let running = FakeRuntime(
            state: ObservedState(project: "shop", services: [ObservedService(name: "api", instances: [
                Instance(id: "api-0100", service: "api", revision: api1.revision, image: "shop/api:1.0", state: .running)])]),
            seed: 200, failures: [.neverHealthy(service: "api")])
        let loop2 = LoopFx.loop(source: source, runtime: running, journal: journal)
        source.set(LoopFx.desired([LoopFx.spec("api", image: "shop/api:2.0")], commit: "c2"))
        await loop2.syncOnce()
        #expect(LoopFx.summary(await running.cluster.state) == ["api: shop/api:1.0=running"])
        let first = try #require(try await journal.records(service: "api").first)
        #expect(first.result == .rolledBack)
        #expect(first.steps.first?.outcome == .rolledBack)
        #expect(await loop2.status().heldBack.map(\.service) == ["api"])
        let startsAfterRollback = await running.calls.filter { $0 == "start api" }.count
        #expect(startsAfterRollback == 1)

        // Same commit again (periodic check): not retried.
        await loop2.request(.drift, fetch: true)
        await loop2.syncOnce()
        #expect(await running.calls.filter { $0 == "start api" }.count == 1)

        // A restarted watch remembers it from the journal.
        let loop3 = LoopFx.loop(source: source, runtime: running, journal: journal)
        let runner = Task { await loop3.run(events: false) }
        // Its first sync journals c2 (not applied: api is held back).
        #expect(await waitUntil { await loop3.lastSync?.commit == "c2" })
        await loop3.stop()
        await runner.value
        #expect(await loop3.lastSync?.result == .partial)
        #expect(await running.calls.filter { $0 == "start api" }.count == 1)

        // A newer commit that changes api is tried.
        source.set(LoopFx.desired([LoopFx.spec("api", image: "shop/api:2.1")], commit: "c3"))
        await loop2.request(.commit, fetch: true)
        await loop2.syncOnce()
        #expect(await running.calls.filter { $0 == "start api" }.count == 2)
    }
}

extension LoopTests {
    @Test func restartedWatchWithAnInvalidNewestCommitKeepsTheLastAppliedOne() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let journal = try Journal(path: dir.path + "/journal.sqlite")
        let source = ScriptedSource()
        source.set(LoopFx.desired([LoopFx.spec("web", replicas: 2)], commit: "c1"))
        let runtime = FakeRuntime(state: .none(project: "shop"))
        await LoopFx.loop(source: source, runtime: runtime, journal: journal).syncOnce()
        let error = Diagnostic(.error, file: "manifests/web.yaml", line: 1, column: 1, path: "kind", message: "expected Service")
        source.set(LoopFx.desired([], commit: "c2", errors: [error]))

        // A new process: resumes from the journal, finds c2 invalid, keeps c1 and heals by it.
        let restarted = LoopFx.loop(source: source, runtime: runtime, journal: journal)
        let runner = Task { await restarted.run(events: false) }
        // The first sync has run when it has observed the runtime.
        #expect(await waitUntil { await restarted.lastObserved != nil })
        #expect(await restarted.status().desiredCommit == "c1")
        #expect(await restarted.status().invalid?.commit == "c2")
        let victim = try #require(await runtime.cluster.state.service("web")?.instances.first?.id)
        await runtime.crash(victim)
        await restarted.request(.drift, fetch: false)
        let healed = await waitUntil {
            LoopFx.summary(await runtime.cluster.state) == ["web: shop/web:1.0=running shop/web:1.0=running"]
        }
        await restarted.stop()
        await runner.value
        #expect(healed)
        #expect(LoopFx.summary(await runtime.cluster.state) == ["web: shop/web:1.0=running shop/web:1.0=running"])
    }

    @Test func massDeleteIsRefusedAndJournaledOnce() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let journal = try Journal(path: dir.path + "/journal.sqlite")
        let source = ScriptedSource()
        source.set(LoopFx.desired([], commit: "c1"))
        let state = ObservedState(project: "shop", services: ["a", "b"].map { name in
            ObservedService(name: name, instances: [
                Instance(id: "\(name)-1", service: name, revision: Revision("r"), image: "x", state: .running)])
        })
        let runtime = FakeRuntime(state: state)
        let loop = LoopFx.loop(source: source, runtime: runtime, journal: journal)
        await loop.syncOnce()
        await loop.request(.drift, fetch: true)
        await loop.syncOnce()
        #expect(await runtime.calls.filter { $0.hasPrefix("remove") }.isEmpty)
        let status = await loop.status()
        #expect(status.planError?.contains("--allow-mass-delete") == true, "\(status.planError ?? "nil")")
        let records = try await journal.records()
        #expect(records.map(\.result) == [.error])
    }
}

@Suite struct BackoffTests {
    @Test func scheduleDoublesFromTenSecondsToFiveMinutes() {
        let b = CrashLoopBackoff()
        #expect((1...9).map { b.delay(afterFailures: $0) } == [0, 10, 20, 40, 80, 160, 300, 300, 300])
    }

    /// The finding: three replicas of a service that crashes at start. Their three `die`
    /// events, and the three failures of the next heal, are one failure each, not three:
    /// the waits go 10 s, 20 s, 40 s as documented (they went 20 s, then 160 s).
    @Test func failuresOfOneRoundCountOnce() {
        var b = CrashLoopBackoff()
        let t0 = Date(timeIntervalSince1970: 1000)
        func at(_ s: Double) -> Date { t0.addingTimeInterval(s) }
        b.recordFailure("web", now: at(0))  // the first crash is healed at once
        #expect(b.entries["web"]?.delaySeconds == 0)
        #expect(b.blocked("web", now: at(0.001)) == nil)
        b.recordFailure("web", now: at(0.010))
        b.recordFailure("web", now: at(0.020))  // while the 10 s wait runs: same round
        #expect(b.entries["web"]?.failures == 2)
        #expect(b.entries["web"]?.retryAt == at(10.010))
        #expect(b.entries["web"]?.lastFailure == at(0.020))
        b.recordFailure("web", count: 3, now: at(12))  // the heal of all three failed
        #expect(b.entries["web"]?.failures == 3)
        #expect(b.entries["web"]?.delaySeconds == 20)
        #expect(b.blocked("web", now: at(31.9)) == at(32))
        b.recordFailure("web", count: 3, now: at(33))
        #expect(b.entries["web"]?.delaySeconds == 40)
        var waits: [Double] = []
        var t = 80.0
        for _ in 0..<5 {
            b.recordFailure("web", count: 3, now: at(t))
            waits.append(b.entries["web"]!.delaySeconds)
            t += 400
        }
        #expect(waits == [80, 160, 300, 300, 300])
    }

    /// Status lists a service from its second failure until it is reset, and the metric
    /// counts exactly those services (it read 0 while status listed one).
    @Test func statusAndMetricShareOneRule() {
        var b = CrashLoopBackoff()
        let t0 = Date(timeIntervalSince1970: 1000)
        b.recordFailure("api", now: t0)
        #expect(b.active(now: t0).isEmpty)  // one crash, healed at once: no loop yet
        b.recordFailure("web", now: t0)
        b.recordFailure("web", now: t0.addingTimeInterval(1))
        #expect(b.active(now: t0.addingTimeInterval(2)).map(\.service) == ["web"])  // waiting
        #expect(b.active(now: t0.addingTimeInterval(30)).map(\.service) == ["web"])  // retried, not reset
        b.reset(healthy: ["web"], now: t0.addingTimeInterval(61))
        #expect(b.active(now: t0.addingTimeInterval(61)).isEmpty)
    }

    @Test func resetsAfterStayingHealthy() {
        var b = CrashLoopBackoff()
        let t0 = Date(timeIntervalSince1970: 0)
        b.recordFailure("web", now: t0)
        b.recordFailure("web", now: t0)
        #expect(b.blocked("web", now: t0.addingTimeInterval(5)) == t0.addingTimeInterval(10))
        b.reset(healthy: ["web"], now: t0.addingTimeInterval(59))
        #expect(b.entries["web"]?.failures == 2)
        b.reset(healthy: [], now: t0.addingTimeInterval(120))
        #expect(b.entries["web"]?.failures == 2)
        b.reset(healthy: ["web"], now: t0.addingTimeInterval(60))
        #expect(b.entries["web"] == nil)
    }
}
