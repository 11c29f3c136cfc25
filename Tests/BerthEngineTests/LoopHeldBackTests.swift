import BerthCore
import BerthEngine
import BerthTestSupport
import Foundation
import Synchronization
import Testing

/// Held-back rollouts, paused rollouts, partial syncs, backoff reset and stopping mid-plan.
@Suite struct LoopHeldBackTests {
    static func loop(_ source: ScriptedSource, _ runtime: TestRuntime, journal: Journal? = nil, clock: TestClock = TestClock())
        -> ReconcileLoop
    {
        ReconcileLoop(
            project: "shop", provider: source, runtime: runtime, journal: journal, logger: LoopFx.quiet,
            now: { clock.now })
    }

    /// Runs `loop` as `berth watch` does (resuming from its journal) until `condition`, then stops it.
    static func runUntil(_ loop: ReconcileLoop, _ condition: () async -> Bool) async {
        let runner = Task { await loop.run(events: false) }
        let held = await waitUntil(condition)
        await loop.stop()
        await runner.value
        #expect(held)
    }

    func starts(_ runtime: TestRuntime) async -> [String] {
        await runtime.log.filter { $0.hasPrefix("start ") }.map { $0.split(separator: " ").last.map(String.init) ?? "" }
    }

    @Test func rolledBackServiceIsHealedAtTheRevisionItWasRolledBackTo() async throws {
        let source = ScriptedSource()
        let runtime = TestRuntime(delay: .milliseconds(1))
        await runtime.seed(service("api", image: "shop/api:1.0", replicas: 2), count: 2)
        await runtime.script(neverHealthy: ["shop/api:2.0"])
        let loop = Self.loop(source, runtime)
        source.set(LoopFx.desired([service("api", image: "shop/api:2.0", replicas: 2)], commit: "c2"))
        await loop.syncOnce()
        #expect(await loop.lastSync?.result == .rolledBack)
        #expect(await loop.status().heldBack.map(\.service) == ["api"])
        #expect(await runtime.instances(of: "api").map(\.image) == ["shop/api:1.0", "shop/api:1.0"])
        // The API's status says it per service, as `berth status` does: what serves (1.0,
        // Healthy), OutOfSync with git, and the rollout held back.
        let api = await loop.status().report.services.first { $0.name == "api" }
        #expect(api?.image == "shop/api:1.0")
        #expect(api.map { "\($0.sync.rawValue) \($0.health.rawValue) \($0.readyReplicas)/\($0.desiredReplicas)" } == "OutOfSync Healthy 2/2")
        #expect(api?.heldBack?.revision == service("api", image: "shop/api:2.0").revision.id)
        #expect(api?.heldBack?.commit == "c2")
        #expect(api?.message.hasPrefix("2 of 2 replicas ready; rollout of ") == true, "\(api?.message ?? "")")
        #expect(api?.message.hasSuffix("; held back until a newer commit") == true, "\(api?.message ?? "")")

        // An old replica crashes: the next sync replaces it at 1.0, and does not retry 2.0.
        let victim = try #require(await runtime.instances(of: "api").first?.id)
        await runtime.setState(victim, .exited, exitCode: 1)
        await runtime.clearLog()
        await loop.request(.drift, fetch: true)
        await loop.syncOnce()
        #expect(await starts(runtime) == ["shop/api:1.0"])
        let after = await runtime.instances(of: "api")
        #expect(after.map(\.image) == ["shop/api:1.0", "shop/api:1.0"])
        #expect(after.allSatisfy { $0.state == .running })
        #expect(!after.contains { $0.id == victim })
        // The commit still has not reached the runtime for api.
        #expect(await loop.lastSync?.result == .partial)
        #expect(await loop.status().heldBack.map(\.service) == ["api"])

        // And it scales at 1.0 too when an instance disappears altogether.
        let gone = try #require(await runtime.instances(of: "api").first?.id)
        try await runtime.removeInstance(id: gone, grace: .zero)
        await runtime.clearLog()
        await loop.request(.drift, fetch: true)
        await loop.syncOnce()
        #expect(await starts(runtime) == ["shop/api:1.0"])
        #expect(await runtime.instances(of: "api").count == 2)

        // A newer commit that changes api is rolled out, and api is no longer held back.
        source.set(LoopFx.desired([service("api", image: "shop/api:2.1", replicas: 2)], commit: "c3"))
        await runtime.clearLog()
        await loop.request(.commit, fetch: true)
        await loop.syncOnce()
        #expect(await loop.lastSync?.result == .succeeded)
        #expect(await runtime.instances(of: "api").map(\.image) == ["shop/api:2.1", "shop/api:2.1"])
        #expect(await loop.status().heldBack.isEmpty)
    }

    @Test func pausedRolloutIsHeldBackNotRetriedAndRememberedAcrossRestarts() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let journal = try Journal(path: dir.path + "/journal.sqlite")
        let source = ScriptedSource()
        let runtime = TestRuntime(delay: .milliseconds(1))
        await runtime.seed(service("api", image: "shop/api:1.0", onFailure: .pause), count: 1)
        await runtime.script(neverHealthy: ["shop/api:2.0"])
        source.set(LoopFx.desired([service("api", image: "shop/api:2.0", onFailure: .pause)], commit: "c2"))
        let loop = Self.loop(source, runtime, journal: journal)
        await loop.syncOnce()
        let first = try #require(try await journal.records().first)
        #expect(first.result == .failed)
        #expect(first.steps.map(\.outcome) == [.paused])
        #expect(await loop.status().heldBack.map(\.outcome) == [.paused])
        #expect(await starts(runtime).filter { $0 == "shop/api:2.0" }.count == 1)

        await loop.request(.drift, fetch: true)
        await loop.syncOnce()
        #expect(await starts(runtime).filter { $0 == "shop/api:2.0" }.count == 1)

        // A restarted watch remembers it from the journal, and records c2 as not applied.
        let restarted = Self.loop(source, runtime, journal: journal)
        await Self.runUntil(restarted) { await restarted.lastSync != nil }
        #expect(await restarted.status().heldBack.map(\.service) == ["api"])
        let paused = await restarted.status().report.services.first { $0.name == "api" }
        #expect(paused?.heldBack?.outcome == "paused")
        #expect(paused?.message.hasSuffix("; paused, held back until a newer commit") == true, "\(paused?.message ?? "")")
        #expect(await starts(runtime).filter { $0 == "shop/api:2.0" }.count == 1)
        #expect(try await journal.records().first?.result == .partial)
    }

    @Test func rolledBackCommitIsNeverRecordedAsApplied() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let journal = try Journal(path: dir.path + "/journal.sqlite")
        let source = ScriptedSource()
        let runtime = TestRuntime(delay: .milliseconds(1))
        await runtime.script(neverHealthy: ["shop/api:2.0"])
        let loop = Self.loop(source, runtime, journal: journal)
        source.set(LoopFx.desired([service("api", image: "shop/api:1.0"), service("web", image: "shop/web:1.0")], commit: "c1"))
        await loop.syncOnce()
        // c2 changes api (which rolls back) and web (which succeeds).
        source.set(LoopFx.desired([service("api", image: "shop/api:2.0"), service("web", image: "shop/web:2.0")], commit: "c2"))
        await loop.request(.commit, fetch: true)
        await loop.syncOnce()
        #expect(await loop.lastSync?.result == .rolledBack)

        // A web instance crashes; the heal succeeds, but api is still held back: partial.
        let web = try #require(await runtime.instances(of: "web").first?.id)
        await runtime.setState(web, .exited, exitCode: 1)
        await loop.request(.drift, fetch: true)
        await loop.syncOnce()
        #expect(await loop.lastSync?.result == .partial)
        // Said as status says it: the failed revision, its commit, when, why; held back.
        let errors = await loop.lastSync?.errors ?? []
        #expect(errors.count == 1)
        let rev = service("api", image: "shop/api:2.0").revision.id
        #expect(errors.first?.hasPrefix("api: rollout of \(rev) (c2) failed at ") == true, "\(errors)")
        #expect(errors.first?.hasSuffix("; held back until a newer commit") == true, "\(errors)")

        // A restarted watch finds nothing to do for c2: still partial, not succeeded.
        let restarted = Self.loop(source, runtime, journal: journal)
        await Self.runUntil(restarted) { await restarted.lastSync != nil }
        #expect(await restarted.lastAppliedCommit == "c1")
        #expect(try await journal.records().map(\.result) == [.partial, .partial, .rolledBack, .succeeded])
        #expect(try await journal.lastAppliedCommit() == "c1")
        let summaries = try await journal.commitSummaries()
        #expect(summaries["c1"]?.applied == true)
        #expect(summaries["c2"]?.applied == false)
        #expect(summaries["c2"]?.results == [.partial, .rolledBack])
    }

    @Test func heldBackMemorySurvivesAFullJournal() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let journal = try Journal(path: dir.path + "/journal.sqlite")
        try await journal.append(JournalRecord(
            started: "2026-01-01T00:00:00.000Z", ended: "2026-01-01T00:00:01.000Z", commit: "c2", trigger: .commit,
            result: .rolledBack, steps: [JournalStep(
                action: "update", service: "api", wave: 0, reason: "image", outcome: .rolledBack, message: "rolled back",
                durationMs: 5, revision: "r2")]))
        try await journal.append(JournalRecord(
            started: "2026-01-01T00:00:02.000Z", ended: "2026-01-01T00:00:03.000Z", commit: "c2", trigger: .commit,
            result: .succeeded, steps: [JournalStep(
                action: "update", service: "web", wave: 0, reason: "image", outcome: .rolledBack, message: "x",
                durationMs: 5, revision: "w2"),
                JournalStep(
                action: "update", service: "web", wave: 0, reason: "image", outcome: .succeeded, durationMs: 5,
                revision: "w3")]))
        for i in 0..<250 {
            try await journal.append(JournalRecord(
                started: "2026-01-02T00:00:00.000Z", ended: "2026-01-02T00:00:00.000Z", commit: "c2", trigger: .heal,
                result: .succeeded, steps: [JournalStep(
                    action: "heal", service: "db", wave: 0, reason: "exited \(i)", outcome: .succeeded, durationMs: 1)]))
        }
        #expect(try await journal.latestUpdates() == [
            UpdateOutcome(
                service: "api", outcome: .rolledBack, revision: "r2", message: "rolled back", commit: "c2",
                ended: "2026-01-01T00:00:01.000Z"),
            UpdateOutcome(
                service: "web", outcome: .succeeded, revision: "w3", message: "", commit: "c2",
                ended: "2026-01-01T00:00:03.000Z"),
        ])
        let source = ScriptedSource()
        source.set(LoopFx.desired([], commit: "c2"))
        let loop = Self.loop(source, TestRuntime(), journal: journal)
        await Self.runUntil(loop) { await loop.syncs >= 1 }
        #expect(await loop.status().heldBack.map(\.service) == ["api"])
    }

    @Test func backoffIsResetAfterStayingHealthyEvenWhenThereIsNothingToDo() async throws {
        let clock = TestClock()
        let (_, runtime, loop) = await LoopFx.webLoop(clock: clock)
        for _ in 0..<2 { try await LoopFx.crash("web", in: runtime, loop: loop) }
        #expect(await loop.backoff.entries["web"]?.failures == 2)
        clock.advance(11)
        await loop.request(.drift, fetch: false)
        await loop.syncOnce()  // healed after the 10 s wait; healthy since
        #expect(await runtime.cluster.state.service("web")?.instances.map(\.state) == [.running])
        #expect(await loop.backoff.entries["web"]?.failures == 2)
        clock.advance(60)
        let calls = await runtime.calls.count
        await loop.request(.drift, fetch: false)
        await loop.syncOnce()  // nothing to do, but web has been healthy for 60 s
        #expect(await runtime.calls.count == calls + 1)
        #expect(await loop.backoff.entries.isEmpty)
    }
}

/// Polls `condition` every 10 ms until it holds or `seconds` pass; returns whether it held.
func waitUntil(within seconds: Double = 10, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}
