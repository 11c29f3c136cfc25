import BerthCore
import BerthEngine
import Foundation
import Testing

/// Issue 11: an instance killed from outside (`docker kill`) is healed at once, every time —
/// also when the one killed is a replacement still waiting for its health check. Its death
/// is not a crash of the service: it must not start the crash-loop backoff.
@Suite struct HealKilledReplacementTests {
    @Test func aReplacementKilledBeforeItIsHealthyIsHealedAtOnceEveryTime() async throws {
        let source = ScriptedSource()
        let runtime = TestRuntime(delay: .milliseconds(1))
        let web = service("web", image: "shop/web:1.0", replicas: 1)
        source.set(LoopFx.desired([web], commit: "c1"))
        let loop = ReconcileLoop(project: "shop", provider: source, runtime: runtime, journal: nil, logger: LoopFx.quiet)
        let runner = Task { await loop.run(events: false) }
        defer { runner.cancel() }
        func running() async -> [Instance] { await runtime.instances(of: "web").filter { $0.state == .running } }
        func starts() async -> Int { await runtime.log.filter { $0.hasPrefix("start web-") }.count }
        func kill(_ id: String) async {
            await runtime.setState(id, .exited, exitCode: 137)
            await loop.handle(RuntimeEvent(kind: .killed(signal: "9"), instanceID: id, service: "web", revision: nil))
            await loop.handle(RuntimeEvent(kind: .died(exitCode: 137), instanceID: id, service: "web", revision: nil))
        }
        try #require(await waitUntil { await running().count == 1 })

        // Three rounds: the running instance is killed; its replacement, still waiting for its
        // health check, is killed too. Before the fix the second round's re-heal waited 10 s.
        for round in 1...3 {
            await runtime.gate("shop/web:1.0")
            let victim = try #require(await running().first?.id)
            let before = await starts()
            await kill(victim)
            try #require(await waitUntil(within: 3) { await starts() == before + 1 }, "round \(round): no replacement")
            let replacement = try #require(await runtime.instances(of: "web").first { $0.state == .starting }?.id)
            await kill(replacement)
            let reHealed = await waitUntil(within: 3) { await starts() == before + 2 }
            let log = await runtime.log
            #expect(reHealed, "round \(round): the killed replacement was not healed at once: \(log)")
            #expect(await loop.backoff.entries.isEmpty, "round \(round): a kill from outside started the crash-loop backoff")
            await runtime.open("shop/web:1.0")
            try #require(await waitUntil { await running().count == 1 }, "round \(round): not running again")
        }
        #expect(await runtime.instances(of: "web").count == 1)
        await loop.stop()
        await runner.value
    }
}
