import BerthCore
import BerthEngine
import Synchronization
import Testing

/// SIGTERM during a sync: the wave in flight finishes, the rest is skipped.
@Suite struct StopTests {
    @Test func stoppingFinishesTheWaveInFlightAndSkipsTheRest() async throws {
        let runtime = TestRuntime(delay: .milliseconds(1))
        let state = desired(
            service("db", image: "shop/db:1.0"),
            service("api", image: "shop/api:1.0", dependsOn: ["db"]),
            service("web", image: "shop/web:1.0", dependsOn: ["api"]))
        let observed = try await runtime.observe(project: "shop")
        let plan = try Planner.plan(desired: state, observed: observed)
        #expect(Set(plan.steps.map(\.wave)).count == 3)
        // SIGTERM arrives while the first wave runs.
        let asked = Mutex(0)
        let executor = Executor(runtime: runtime, project: "shop")
        let steps = await executor.apply(plan, desired: state, observed: observed, shouldStop: {
            asked.withLock { $0 += 1; return $0 > 1 }
        }).steps
        #expect(steps.map { "\($0.step.service) \($0.outcome.word) \($0.outcome.message ?? "")" } == [
            "db succeeded ", "api skipped berth is stopping", "web skipped berth is stopping",
        ])
        #expect(await runtime.instances(of: "db").count == 1)
        #expect(await runtime.instances(of: "api").isEmpty)
        #expect(await runtime.instances(of: "web").isEmpty)
    }
}
