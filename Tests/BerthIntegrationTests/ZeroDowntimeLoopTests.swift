import BerthTestSupport
import Foundation
import Testing

/// Issue 18, finding 12: zero downtime held in one run of two on a scale-down (1 of 5,511
/// requests dropped under 4 clients of new connections). One run proves little: these do
/// it `BERTH_ZD_ROUNDS` times (20 by default) under a steady load of 4 clients plus 2 whose
/// requests stay in flight 300 ms, through the real dockerd and a real `berth proxy`:
/// scale 3 → 1 (and back to 3 between rounds), and rolling updates 1.0 ↔ 1.1. Every request
/// of every round must be answered. Bounded: a round that does not converge in its apply's
/// own deadline fails the test, and the load stops after 240 s.
@Suite("Zero downtime, repeated", .serialized)
struct ZeroDowntimeLoopTests {
    static var rounds: Int { Int(ProcessInfo.processInfo.environment["BERTH_ZD_ROUNDS"] ?? "") ?? 20 }

    @Test func twentyScaleDownsAndTwentyUpdatesUnderLoadFailNoRequest() async throws {
        let shop = try await Shop("zdl")
        let xdg = try TemporaryDirectory(prefix: "berth-zdl-xdg")
        let proxy = ProxyChild(project: shop.project, stateDir: "\(xdg.path)/berth/\(shop.project)")
        defer {
            proxy.stop()
            shop.cleanup()
            xdg.remove()
        }
        let publish = try freeHostPort()
        let env = ["XDG_STATE_HOME": xdg.path]
        try proxy.start()
        func apply(_ image: String, _ replicas: Int, _ message: String) async throws {
            try shop.repo.write("manifests/customer.yaml", zeroDowntimeManifest(image: image, replicas: replicas, publish: publish))
            try shop.commit(message)
            let run = try await offPool { try shop.berth("apply", ["--auto-approve"], environment: env) }
            try #require(run.status == 0, "\(message): \(run.stderr)")
        }
        try await apply("shop/customer:1.0", 3, "customer x3")
        try #require(eventually(within: 15) { proxy.readyCount() == 3 }, "proxy endpoints: \(proxy.endpointsText())\n\(proxy.log())")

        let load = LoadClient(port: publish, path: "/version", limit: 1_000_000, seconds: 240, clients: 4)
        let slow = LoadClient(port: publish, path: "/version", limit: 100_000, seconds: 240, stall: 0.3, clients: 2)
        load.start()
        slow.start()
        defer {
            load.finish()
            slow.finish()
        }
        let started = Date()
        var image = "shop/customer:1.0"
        for round in 1...Self.rounds {
            try await apply(image, 1, "round \(round): customer x1")
            try await apply(image, 3, "round \(round): customer x3")
            image = image.hasSuffix("1.0") ? "shop/customer:1.1" : "shop/customer:1.0"
            try await apply(image, 3, "round \(round): customer \(image)")
            let seen = load.progress()
            try #require(seen.failures.isEmpty, "round \(round): \(seen.failures.count) of \(seen.sent) failed: \(seen.failures.prefix(5))\nproxy log:\n\(proxy.log().suffix(4000))")
        }
        let seconds = Date().timeIntervalSince(started)
        let result = load.finish()
        let stalled = slow.finish()
        print("zero downtime, \(Self.rounds) rounds of scale 3 → 1 → 3 and an update in \(Int(seconds)) s: \(result.sent) requests, \(result.failures.count) failed; \(stalled.sent) held open 300 ms, \(stalled.failures.count) failed")
        #expect(result.failures == [], "failed \(result.failures.count) of \(result.sent): \(result.failures.prefix(10))")
        #expect(stalled.failures == [], "held-open requests failed \(stalled.failures.count) of \(stalled.sent): \(stalled.failures.prefix(10))")
        #expect(result.ok >= 100 * Self.rounds, "the load ran throughout: \(result.ok) answered")
        #expect(result.bodies.keys.sorted() == ["customer 1.0\n", "customer 1.1\n"])
        #expect(proxy.stop() == 0)
        shop.cleanup()
        #expect(try shop.leftovers() == "")
    }
}
