import BerthCore
import BerthEngine
import BerthTestSupport
import Foundation
import Testing

/// Issue 17, item 5: the operator's controls (`<state-dir>/controls.json`) in the sync
/// pipeline — a suspended service is neither scaled, updated, healed nor pruned; a replica
/// override holds until a commit changes the service; a pin until a commit changes its
/// revision. Read afresh by every sync, as `berth scale` beside a running watch needs.
@Suite struct ControlsLoopTests {
    static let mark = ControlMark(by: "ops@host", at: "2026-12-07T10:00:00Z")

    /// A state folder with its controls file, a scripted git and a fake runtime.
    static func world() throws -> (TemporaryDirectory, ControlsStore, ScriptedSource, TestRuntime) {
        let folder = try TemporaryDirectory(prefix: "berth-controls")
        return (folder, ControlsStore(stateDirectory: folder.path), ScriptedSource(), TestRuntime(delay: .milliseconds(1)))
    }

    func loop(_ source: ScriptedSource, _ runtime: TestRuntime, _ store: ControlsStore) -> ReconcileLoop {
        ReconcileLoop(project: "shop", provider: source, runtime: runtime, journal: nil, logger: LoopFx.quiet, controls: store)
    }

    @Test func aSuspendedServiceIsLeftAloneAndAResumedOneIsSyncedAgain() async throws {
        let (folder, store, source, runtime) = try Self.world()
        defer { folder.remove() }
        await runtime.seed(LoopFx.spec("customer", replicas: 1), count: 1)
        await runtime.seed(LoopFx.spec("gone", replicas: 1), count: 1)
        try store.update {
            $0[service: "customer"].suspended = Self.mark
            $0[service: "gone"].suspended = Self.mark
        }
        let loop = loop(source, runtime, store)
        // Git wants 3 customers and no `gone` (the loop prunes by default): both are suspended.
        source.set(LoopFx.desired([LoopFx.spec("customer", replicas: 3)], commit: "c1"))
        await loop.syncOnce()
        #expect(await runtime.instances(of: "customer").count == 1)
        #expect(await runtime.instances(of: "gone").count == 1)
        let status = await loop.status().report
        #expect(status.services.map { $0.suspended } == [Self.mark, Self.mark])
        #expect(status.services.first?.message
            == "1 of 3 replicas ready; suspended by ops@host at 2026-12-07T10:00:00Z: berth watch leaves it alone until berth resume")

        // Resumed (the file changed; no restart): the next sync does what git says.
        try store.update { $0 = ProjectControls() }
        await loop.request(.drift, fetch: true)
        await loop.syncOnce()
        #expect(await runtime.instances(of: "customer").count == 3)
        #expect(await runtime.instances(of: "gone").count == 0)
    }

    @Test func aWholeProjectSuspensionFreezesEveryService() async throws {
        let (folder, store, source, runtime) = try Self.world()
        defer { folder.remove() }
        try store.update { $0.suspended = Self.mark }
        let loop = loop(source, runtime, store)
        source.set(LoopFx.desired([LoopFx.spec("customer", replicas: 2)], commit: "c1"))
        await loop.syncOnce()
        #expect(await runtime.instances(of: "customer").isEmpty)
        #expect(await loop.status().report.suspended == Self.mark)
    }

    @Test func aReplicaOverrideHoldsUntilACommitChangesTheServiceAndIsThenRemovedFromTheFile() async throws {
        let (folder, store, source, runtime) = try Self.world()
        defer { folder.remove() }
        let git = LoopFx.spec("customer", replicas: 1)
        try store.update { $0[service: "customer"].scale = ReplicaOverride(replicas: 4, gitSpec: git, mark: Self.mark) }
        let loop = loop(source, runtime, store)
        source.set(LoopFx.desired([git, LoopFx.spec("other")], commit: "c1"))
        await loop.syncOnce()
        #expect(await runtime.instances(of: "customer").count == 4)

        // Another service changes: the override stays.
        source.set(LoopFx.desired([git, LoopFx.spec("other", replicas: 2)], commit: "c2"))
        await loop.request(.commit, fetch: true)
        await loop.syncOnce()
        #expect(await runtime.instances(of: "customer").count == 4)
        #expect(try store.read()[service: "customer"].scale?.replicas == 4)

        // customer changes: released, and git's count runs.
        source.set(LoopFx.desired([LoopFx.spec("customer", replicas: 2), LoopFx.spec("other", replicas: 2)], commit: "c3"))
        await loop.request(.commit, fetch: true)
        await loop.syncOnce()
        #expect(await runtime.instances(of: "customer").count == 2)
        #expect(try store.read().isEmpty)
    }

    @Test func aPinRunsItsRevisionAtGitsCountUntilACommitChangesTheRevision() async throws {
        let (folder, store, source, runtime) = try Self.world()
        defer { folder.remove() }
        let old = LoopFx.spec("customer", image: "shop/customer:1.0", replicas: 9)
        let git = LoopFx.spec("customer", image: "shop/customer:1.1", replicas: 2)
        try store.update {
            $0[service: "customer"].pin = Pin(spec: old, commit: "c0", gitRevision: git.revision.id, mark: Self.mark)
        }
        let loop = loop(source, runtime, store)
        source.set(LoopFx.desired([git], commit: "c1"))
        await loop.syncOnce()
        // The pinned spec, at git's count (not the pinned commit's 9).
        #expect(await runtime.instances(of: "customer").map(\.image) == ["shop/customer:1.0", "shop/customer:1.0"])

        // Scaling in git keeps the pin (same revision).
        var scaled = git
        scaled.replicas = 3
        source.set(LoopFx.desired([scaled], commit: "c2"))
        await loop.request(.commit, fetch: true)
        await loop.syncOnce()
        #expect(await runtime.instances(of: "customer").map(\.image) == Array(repeating: "shop/customer:1.0", count: 3))

        // A new revision ends the pin.
        let newer = LoopFx.spec("customer", image: "shop/customer:1.2", replicas: 3)
        source.set(LoopFx.desired([newer], commit: "c3"))
        await loop.request(.commit, fetch: true)
        await loop.syncOnce()
        #expect(await runtime.instances(of: "customer").map(\.image) == Array(repeating: "shop/customer:1.2", count: 3))
        #expect(try store.read().isEmpty)
    }

    /// `berth plan`'s pipeline (`Options.readOnly`) plans through the controls as apply does,
    /// and says in notes why a service gets no step and which control a commit would end —
    /// without ending it: the controls file and the journal are left as they were. The same
    /// plan by apply's pipeline releases it.
    @Test func aReadOnlyPipelinePlansThroughTheControlsAndWritesNothing() async throws {
        let (folder, store, _, runtime) = try Self.world()
        defer { folder.remove() }
        let git = LoopFx.spec("customer", replicas: 1)
        await runtime.seed(git, count: 4)
        await runtime.seed(LoopFx.spec("other"), count: 1)
        try store.update {
            $0[service: "customer"].scale = ReplicaOverride(replicas: 4, gitSpec: git, mark: Self.mark)
            $0[service: "other"].suspended = Self.mark
        }
        let controls = try #require(FileManager.default.contents(atPath: store.path))
        let journal = try Journal(path: folder.path + "/journal.sqlite")
        // Commit c2 changes both: customer to 2 replicas (ending its override), other to 3.
        let desired = LoopFx.desired([LoopFx.spec("customer", replicas: 2), LoopFx.spec("other", replicas: 3)], commit: "c2")
        func prepare(readOnly: Bool) async throws -> Plan {
            var options = SyncPipeline.Options()
            options.readOnly = readOnly
            let pipeline = SyncPipeline(
                project: "shop", provider: ReadDesiredState(desired),
                runtime: ObservedSnapshot(try await runtime.observe(project: "shop")), journal: journal,
                logger: LoopFx.quiet, options: options, controls: store)
            return try await pipeline.prepare().plan
        }
        let suspended = "suspended by ops@host at 2026-12-07T10:00:00Z: berth apply and berth watch leave it alone until berth resume other"

        let plan = try await prepare(readOnly: true)
        #expect(plan.steps.map { "\($0.action) \($0.service) \($0.from?.replicas ?? 0)→\($0.to?.replicas ?? 0)" } == ["scale customer 4→2"])
        #expect(plan.notes == [
            PlanNote(kind: .released, service: "customer", instances: [],
                     message: "replica override would be released by berth apply or berth watch: commit c2 changes customer"),
            PlanNote(kind: .suspended, service: "other", instances: [], message: suspended),
        ])
        #expect(FileManager.default.contents(atPath: store.path) == controls)
        #expect(try await journal.records().isEmpty)

        // The whole project suspended: no step at all, one note per service git changed.
        try store.update { $0.suspended = Self.mark }
        let frozen = try await prepare(readOnly: true)
        #expect(frozen.steps.isEmpty)
        #expect(frozen.notes.map { "\($0.kind.rawValue) \($0.service): \($0.message)" } == [
            "released customer: replica override would be released by berth apply or berth watch: commit c2 changes customer",
            "suspended customer: the project is suspended by ops@host at 2026-12-07T10:00:00Z: berth apply and berth watch leave it alone until berth resume",
            "suspended other: \(suspended)",
        ])
        try store.update { $0.suspended = nil }

        // apply's pipeline releases the override (file and journal) and says so.
        let applied = try await prepare(readOnly: false)
        #expect(applied.notes.first == PlanNote(
            kind: .released, service: "customer", instances: [], message: "replica override released: commit c2 changes customer"))
        #expect(try store.read()[service: "customer"].scale == nil)
        #expect(try await journal.records().map { $0.steps.map { "\($0.action) \($0.service)" } } == [["unscale customer"]])
    }

    /// The watch's own plan (`GET /api/v1/plan`, the web UI's plan page) is the plan its next
    /// sync makes: with an override in force it has no scale back to git's count, and says
    /// why; a suspended service git changed gets no step, with a note.
    @Test func theWatchsPlanGoesThroughTheControlsAsItsSyncsDo() async throws {
        let (folder, store, source, runtime) = try Self.world()
        defer { folder.remove() }
        let git = LoopFx.spec("customer", replicas: 1)
        let override = ReplicaOverride(replicas: 3, gitSpec: git, mark: Self.mark)
        try store.update { $0[service: "customer"].scale = override }
        let loop = loop(source, runtime, store)
        source.set(LoopFx.desired([git, LoopFx.spec("other")], commit: "c1"))
        await loop.syncOnce()
        #expect(await runtime.instances(of: "customer").count == 3)
        let plan = try await loop.currentPlan()
        #expect(plan.steps.isEmpty)
        #expect(plan.notes == [PlanNote(kind: .scaled, service: "customer", instances: [], message: override.sentence)])

        try store.update { $0[service: "other"].suspended = Self.mark }
        source.set(LoopFx.desired([git, LoopFx.spec("other", replicas: 2)], commit: "c2"))
        await loop.request(.commit, fetch: true)
        await loop.syncOnce()
        #expect(await runtime.instances(of: "other").count == 1)
        let frozen = try await loop.currentPlan()
        #expect(frozen.steps.isEmpty)
        #expect(frozen.notes.map { "\($0.kind.rawValue) \($0.service)" } == ["scaled customer", "suspended other"])
    }
}
