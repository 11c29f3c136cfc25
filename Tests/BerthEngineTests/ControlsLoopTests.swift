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
}
