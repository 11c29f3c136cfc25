import BerthCore
import BerthDocker
import BerthTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension SwarmSuite {
    /// `berth apply --runtime swarm` under load through `berth proxy --runtime swarm`: an
    /// image update (Swarm's start-first rollout) and a scale-down drop no request — the
    /// proxy stops sending a task new connections as soon as Swarm wants it shut down, and
    /// Swarm only sends SIGTERM 2 s later (it first takes the task out of its own service
    /// discovery). And `berth apply` SIGKILLed in the middle of an update: the next apply
    /// converges.
    @Suite struct RolloutUnderLoadTests {
        @Test func anImageUpdateAndAScaleDownUnderLoadDropNoRequest() async throws {
            let shop = try await SwarmShop("ul")
            defer { shop.cleanup() }
            let publish = Int.random(in: 21000..<29000)
            func customer(_ image: String, replicas: Int) throws {
                try shop.service(
                    "customer", image: image, replicas: replicas,
                    spec: "  ports: [{containerPort: 8080, publish: \(publish)}]\n" + SwarmShop.fastHealth())
            }
            try customer("shop/customer:1.0", replicas: 3)
            try shop.commit("customer 1.0")
            let first = try shop.apply()
            #expect(first.status == 0, "\(first.stderr)")
            _ = try shop.startProxy()
            #expect(eventually(20) { (try? HTTP.get(port: publish)) == "customer 1.0\n" }, "\(shop.log("proxy.log"))")

            // The image update, under load.
            try customer("shop/customer:1.1", replicas: 3)
            try shop.commit("customer 1.1")
            var load = HTTP.Load(port: publish, clients: 4)
            load.start()
            try await Task.sleep(for: .seconds(1))
            let started = ContinuousClock.now
            let update = try shop.apply()
            let took = ContinuousClock.now - started
            try await Task.sleep(for: .seconds(3))
            var result = load.finish()
            #expect(update.status == 0, "\(update.stderr)")
            print("berth apply (image update) on Swarm under load through berth proxy: \(result.line), apply \(took)")
            #expect(result.failed == 0, "\(result.line); proxy log: \(shop.log("proxy.log"))")
            #expect(result.bodies["customer 1.1\n", default: 0] > 0)
            #expect(result.ok > 100)
            #expect(try await shop.instances("customer").map(\.image) == Array(repeating: "shop/customer:1.1", count: 3))

            // The replica count changes: 3 → 1 under load (Swarm stops two tasks), then 2.
            try customer("shop/customer:1.1", replicas: 1)
            try shop.commit("one customer")
            load = HTTP.Load(port: publish, clients: 4)
            load.start()
            try await Task.sleep(for: .seconds(1))
            let down = try shop.apply()
            try await Task.sleep(for: .seconds(3))
            result = load.finish()
            #expect(down.status == 0, "\(down.stderr)")
            #expect(down.stdout.contains("Plan: 0 to create, 0 to update, 1 to scale, 0 to heal, 0 to delete."), "\(down.stdout)")
            print("berth apply (scale 3 → 1) on Swarm under load through berth proxy: \(result.line)")
            #expect(result.failed == 0, "\(result.line); proxy log: \(shop.log("proxy.log"))")
            #expect(try shop.summary() == ["customer Synced Healthy 1/1"])

            try customer("shop/customer:1.1", replicas: 2)
            try shop.commit("two customers")
            let up = try shop.apply()
            #expect(up.status == 0, "\(up.stderr)")
            #expect(try shop.summary() == ["customer Synced Healthy 2/2"])
            // A scale is no rollout: the task that served all along still runs.
            #expect(try await shop.instances("customer").count == 2)
        }

        @Test func applySIGKILLedInTheMiddleOfAnUpdateThenAppliedAgainConverges() async throws {
            let shop = try await SwarmShop("ki")
            defer { shop.cleanup() }
            // Slow to become healthy (a probe every second, and Swarm waits for one to pass
            // per task): a rollout of 4 tasks takes several seconds.
            let slow = """
                  health:
                    http: {path: /healthz, port: 8080}
                    interval: 1s
                    timeout: 1s
                    failureThreshold: 2
                  update: {strategy: rolling, maxSurge: 1, maxUnavailable: 0, progressDeadline: 60s, onFailure: rollback}
                  stopGracePeriod: 2s

                """
            try shop.service("customer", image: "shop/customer:1.0", replicas: 4, spec: slow)
            try shop.commit("customer 1.0")
            #expect(try shop.apply().status == 0)

            try shop.service("customer", image: "shop/customer:1.1", replicas: 4, spec: slow)
            try shop.commit("customer 1.1")
            let stepStarted = Signal()
            let apply = try ChildProcess(
                try ProcessRunner.berthExecutable(),
                ["apply", "--auto-approve", "--repo", shop.repo.path, "--project", shop.project],
                environment: shop.environment,
                stderr: .lines { line in
                    if line.hasPrefix("customer: update: ") { stepStarted.raise() }
                })
            defer { _ = apply.terminate(SIGKILL) }
            let began = stepStarted.wait(seconds: 60)
            try #require(began)
            // Mid-update: the new spec is Swarm's, some tasks still run 1.0.
            let midway = try await eventuallyAsync(30) {
                let images = try await shop.instances("customer").compactMap(\.image)
                return images.contains("shop/customer:1.1") && images.contains("shop/customer:1.0")
            }
            #expect(midway)
            apply.signal(SIGKILL)
            #expect(apply.wait(timeout: .seconds(10)) != nil)
            #expect(apply.signalled)

            // Applied again: it finds the rollout under way (or done) and waits for it.
            let again = try shop.apply()
            #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
            #expect(try shop.summary() == ["customer Synced Healthy 4/4"])
            #expect(try await shop.instances("customer").map(\.image) == Array(repeating: "shop/customer:1.1", count: 4))
            // Converged: nothing left to do.
            let third = try shop.berth(["plan", "--detailed-exitcode"])
            #expect(third.status == 0, "\(third.stdout)")
        }
    }
}

/// A flag one thread raises and another waits for (bounded).
final class Signal: @unchecked Sendable {  // state behind `condition`
    private let condition = NSCondition()
    private var raised = false

    func raise() {
        condition.withLock {
            raised = true
            condition.broadcast()
        }
    }

    /// Whether it was raised within `seconds`.
    func wait(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        return condition.withLock {
            while !raised && condition.wait(until: deadline) {}
            return raised
        }
    }
}
