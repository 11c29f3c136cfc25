import BerthCore
import BerthEngine
import BerthTestSupport
import Foundation
import Testing

/// Faults of the source that watch survives, reported (issue 18, finding 11): git that
/// cannot be fetched is counted and journaled once per outage (not once per retry), and a
/// rewritten history is applied with a warning, an event, a metric and a journal line.
@Suite struct SourceFaultTests {
    let web = LoopFx.spec("web", replicas: 1)

    @Test func anUnreachableSourceIsCountedAndJournaledOncePerOutage() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let journal = try Journal(path: dir.path + "/journal.sqlite")
        let clock = TestClock()
        let source = ScriptedSource()
        source.set(LoopFx.desired([web], commit: "c1"))
        let loop = LoopFx.loop(source: source, runtime: FakeRuntime(state: .none(project: "shop")), journal: journal, clock: clock)
        await loop.syncOnce()
        #expect(await loop.metricsText().contains("berth_source_up{project=\"shop\"} 1\n"))
        let before = try await journal.records().count

        clock.advance(5)
        let down = Timestamp.string(clock.now)
        source.fail("cannot reach https://git.example/shop.git")
        for _ in 0..<3 {
            await loop.request(.drift, fetch: true)
            await loop.syncOnce()
            clock.advance(1)
        }
        var metrics = await loop.metricsText()
        #expect(metrics.contains("berth_source_up{project=\"shop\"} 0\n"))
        #expect(metrics.contains("berth_source_fetch_failures_total{project=\"shop\"} 3\n"))
        // The note is not a sync: the loop went on from c1, with nothing to do.
        #expect(metrics.contains("berth_syncs_total{project=\"shop\",result=\"error\"} 0\n"))
        var records = try await journal.records()
        #expect(records.count == before + 1)
        let outage = try #require(records.first)
        #expect(outage.result == .error)
        #expect(outage.trigger == .drift)
        #expect(outage.commit == "c1")
        #expect(outage.started == down)
        #expect(outage.errors == ["git: cannot reach https://git.example/shop.git"])

        source.set(LoopFx.desired([web], commit: "c1"))
        await loop.request(.drift, fetch: true)
        await loop.syncOnce()
        metrics = await loop.metricsText()
        #expect(metrics.contains("berth_source_up{project=\"shop\"} 1\n"))
        #expect(metrics.contains("berth_source_fetch_failures_total{project=\"shop\"} 3\n"))
        #expect(metrics.contains("berth_source_last_fetch_timestamp_seconds{project=\"shop\"} \(Int(clock.now.timeIntervalSince1970))\n"))
        records = try await journal.records()
        #expect(records.count == before + 2)
        #expect(records.first?.result == .succeeded)
        #expect(records.first?.errors == ["git: reachable again after 3 failed fetches since \(down)"])
        #expect(await loop.status().sourceError == nil)

        // A second outage is a second record.
        source.fail("cannot reach https://git.example/shop.git")
        await loop.request(.drift, fetch: true)
        await loop.syncOnce()
        await loop.request(.drift, fetch: true)
        await loop.syncOnce()
        records = try await journal.records()
        #expect(records.count == before + 3)
        #expect(records.filter { $0.result == .error }.count == 2)
        #expect(await loop.metricsText().contains("berth_source_fetch_failures_total{project=\"shop\"} 5\n"))
    }

    @Test func aSourceUnreachableFromTheStartIsJournaledOnceAndEveryFailedSyncCounted() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let journal = try Journal(path: dir.path + "/journal.sqlite")
        let source = ScriptedSource()
        source.fail("cannot reach https://git.example/shop.git")
        let loop = LoopFx.loop(source: source, runtime: FakeRuntime(state: .none(project: "shop")), journal: journal)
        for _ in 0..<4 {
            await loop.request(.drift, fetch: true)
            await loop.syncOnce()
        }
        let records = try await journal.records()
        #expect(records.map(\.result) == [.error])
        #expect(records.first?.errors == ["git: cannot reach https://git.example/shop.git"])
        let metrics = await loop.metricsText()
        #expect(metrics.contains("berth_syncs_total{project=\"shop\",result=\"error\"} 4\n"))
        #expect(metrics.contains("berth_source_fetch_failures_total{project=\"shop\"} 4\n"))
        #expect(metrics.contains("berth_source_up{project=\"shop\"} 0\n"))
    }

    @Test func aRewrittenHistoryIsAppliedAndSaid() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let journal = try Journal(path: dir.path + "/journal.sqlite")
        let source = ScriptedSource()
        source.set(LoopFx.desired([web], commit: "c1aaaaaaaa"))
        let runtime = FakeRuntime(state: .none(project: "shop"))
        let loop = LoopFx.loop(source: source, runtime: runtime, journal: journal)
        await loop.syncOnce()
        #expect(await loop.metricsText().contains("berth_source_history_rewrites_total{project=\"shop\"} 0\n"))

        source.set(LoopFx.desired([LoopFx.spec("web", replicas: 2)], commit: "c2bbbbbbbb"))
        source.rewrite("c2bbbbbbbb")
        await loop.request(.drift, fetch: true)
        await loop.syncOnce()
        // Applied all the same: git is the source of truth.
        #expect(await runtime.cluster.state.service("web")?.instances.count == 2)
        #expect(await loop.lastAppliedCommit == "c2bbbbbbbb")
        #expect(await loop.metricsText().contains("berth_source_history_rewrites_total{project=\"shop\"} 1\n"))
        let record = try #require(try await journal.records().first)
        #expect(record.commit == "c2bbbbbbbb")
        #expect(record.result == .succeeded)
        #expect(record.errors == ["history rewritten: c1aaaaa is not an ancestor of c2bbbbb (force-push?)"])
        #expect(loop.events.events(after: 0).map(\.line).contains("history rewritten: c1aaaaa is not an ancestor of c2bbbbb (force-push?)"))

        // A commit on top of it is a fast-forward again; nothing said.
        source.set(LoopFx.desired([web], commit: "c3cccccccc"))
        await loop.request(.drift, fetch: true)
        await loop.syncOnce()
        #expect(try await journal.records().first?.errors == [])
        #expect(await loop.metricsText().contains("berth_source_history_rewrites_total{project=\"shop\"} 1\n"))
    }
}
