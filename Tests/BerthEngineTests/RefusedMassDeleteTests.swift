import BerthCore
import BerthEngine
import BerthTestSupport
import Foundation
import Testing

/// Issue 18, finding 9: while a commit's mass delete was refused, watch stopped healing: a
/// replica killed meanwhile was not replaced until the commit was reverted.
@Suite struct RefusedMassDeleteTests {
    func starts(_ runtime: TestRuntime) async -> [String] {
        await runtime.log.filter { $0.hasPrefix("start ") }.map { $0.split(separator: " ").last.map(String.init) ?? "" }
            .sorted()
    }

    func running(_ runtime: TestRuntime, _ service: String) async -> [String] {
        await runtime.instances(of: service).filter { $0.state == .running }.map { $0.image ?? "?" }
    }

    /// A commit deleting 2 of 3 running services is refused (status, one journal record, as
    /// before); the services it would delete are kept as they run and healed at the spec
    /// they were started from, and the one still desired is healed and rolled out as the
    /// commit says. Nothing is deleted, and the commit is not recorded as applied.
    @Test func servicesKeptByARefusedMassDeleteAreStillHealed() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let journal = try Journal(path: dir.path + "/journal.sqlite")
        let source = ScriptedSource()
        let runtime = TestRuntime(delay: .milliseconds(1))
        let loop = LoopHeldBackTests.loop(source, runtime, journal: journal)
        source.set(LoopFx.desired([LoopFx.spec("a", replicas: 2), LoopFx.spec("b"), LoopFx.spec("c")], commit: "c1"))
        await loop.syncOnce()
        #expect(await running(runtime, "a") == ["shop/a:1.0", "shop/a:1.0"])
        #expect(await loop.status().lastAppliedCommit == "c1")

        // c2 deletes a and b, and updates c; meanwhile one replica of a and b's only one die.
        source.set(LoopFx.desired([LoopFx.spec("c", image: "shop/c:1.1")], commit: "c2"))
        let deadA = try #require(await runtime.instances(of: "a").first?.id)
        let deadB = try #require(await runtime.instances(of: "b").first?.id)
        await runtime.setState(deadA, .exited, exitCode: 137)
        await runtime.setState(deadB, .exited, exitCode: 137)
        await runtime.clearLog()
        await loop.request(.drift, fetch: true)
        await loop.syncOnce()

        #expect(await starts(runtime) == ["shop/a:1.0", "shop/b:1.0", "shop/c:1.1"])
        #expect(await running(runtime, "a") == ["shop/a:1.0", "shop/a:1.0"])
        #expect(await running(runtime, "b") == ["shop/b:1.0"])
        #expect(await running(runtime, "c") == ["shop/c:1.1"])
        #expect(await !runtime.instances(of: "a").contains { $0.id == deadA })
        let status = await loop.status()
        #expect(
            status.planError
                == "refusing to delete 2 of 3 running services (a, b): that is more than half. If --path or --ref is wrong, the manifests were not found; check them. To apply without deleting them, pass --no-prune; if you really mean to delete them, pass --allow-mass-delete")
        #expect(status.lastAppliedCommit == "c1")

        // Killed again: healed again, and the refusal is journaled once, not per sync.
        let again = try #require(await runtime.instances(of: "b").first?.id)
        await runtime.setState(again, .exited, exitCode: 137)
        await runtime.clearLog()
        await loop.request(.drift, fetch: true)
        await loop.syncOnce()
        #expect(await starts(runtime) == ["shop/b:1.0"])
        #expect(await running(runtime, "b") == ["shop/b:1.0"])
        #expect(await runtime.log.filter { $0.hasPrefix("remove ") } == ["remove \(again)"], "nothing else removed")
        let records = try await journal.records()
        #expect(records.filter { $0.result == .error }.map(\.errors) == [["plan: " + (status.planError ?? "")]])
        #expect(records.map(\.result) == [.partial, .partial, .error, .succeeded], "\(records.map(\.errors))")
        #expect(await loop.status().planError == status.planError)
    }

    /// `berth apply` (the pipeline's `prepare()`) still refuses such a plan as a whole: it
    /// exits with the refusal, nothing applied.
    @Test func applyStillRefusesAMassDelete() async throws {
        let source = ScriptedSource()
        let runtime = TestRuntime(delay: .milliseconds(1))
        await runtime.seed(LoopFx.spec("a"), count: 1)
        await runtime.seed(LoopFx.spec("b"), count: 1)
        source.set(LoopFx.desired([], commit: "c2"))
        let pipeline = SyncPipeline(project: "shop", provider: source, runtime: runtime, journal: nil, logger: LoopFx.quiet)
        do {
            _ = try await pipeline.prepare()
            Issue.record("berth apply planned a mass delete")
        } catch {
            guard case .plan(let planError) = error else { throw error }
            #expect((planError as? PlanError) == .massDelete(deleting: ["a", "b"], running: 2))
        }
        #expect(await runtime.log.isEmpty)
    }
}
