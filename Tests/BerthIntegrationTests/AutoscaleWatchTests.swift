import BerthTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 12 end to end: real `berth watch`, the `berth proxy` it starts, real dockerd, and a
/// load generator inside the test (loopback only, bounded in time and count). Cleanup stops
/// the watch and its proxies by pid and removes every container, also when a test fails.
@Suite("berth watch autoscales from the balancer's counters", .serialized)
struct AutoscaleWatchTests {
    static func manifest(publish: Int, replicas: Int, min: Int, max: Int, target: Int, delay: String) -> String {
        """
        apiVersion: berth/v1
        kind: Service
        metadata:
          name: customer
        spec:
          image: shop/customer:1.0
          replicas: \(replicas)
          ports:
            - containerPort: 8080
              publish: \(publish)
          health:
            http: {path: /healthz, port: 8080}
            interval: 200ms
            timeout: 1s
            failureThreshold: 2
          autoscale: {min: \(min), max: \(max), targetRequestsPerSecond: \(target), scaleDownDelay: \(delay)}
          stopGracePeriod: 1s

        """
    }

    /// The status API's `autoscale` object of `customer`.
    func autoscale(_ h: WatchHarness) -> [String: Any]? {
        let services = (try? h.json("/api/v1/status"))?["services"] as? [[String: Any]] ?? []
        return services.first { $0["name"] as? String == "customer" }?["autoscale"] as? [String: Any]
    }

    /// Journal records with trigger `autoscale`: their scale steps' reasons, oldest first.
    /// The reasons of the scale steps (and creates from zero) in the journal, oldest first, whichever sync made them:
    /// a decision's count may be applied by an interval sync that ran first (seen 1 run in
    /// 10 under load: the last scale-down was in a `drift` record).
    func autoscaleReasons(_ h: WatchHarness) -> [String] {
        let records = (try? h.journal()) ?? []
        return records.reversed().flatMap { record in
            (record["steps"] as? [[String: Any]] ?? []).filter { step in
                // Scale steps, and the create from zero a decision makes.
                step["action"] as? String == "scale"
                    || (step["action"] as? String == "create" && (step["reason"] as? String)?.hasPrefix("autoscale ") == true)
            }.compactMap { $0["reason"] as? String }
        }
    }

    @Test func aLoadStepScalesUpWithinSecondsAndDownAfterTheDelayWithNoFailedRequest() throws {
        let h = try WatchHarness()
        defer {
            h.terminate()
            stopProxiesOf(h)
            h.stop()
        }
        let publish = try freeHostPort()
        try h.commit(
            ["manifests/customer.yaml": Self.manifest(publish: publish, replicas: 1, min: 1, max: 6, target: 10, delay: "4s")],
            "customer autoscaled 1–6")
        try h.start(interval: "2s", extraArguments: ["--proxy-bind", "127.0.0.1"])
        try #require(
            eventually(within: 60) {
                h.healthyServices() == ["customer"]
                    && (try? LoadClient.request(port: publish, path: "/version", stall: 0).get()) == "customer 1.0\n"
            }, "\(h.log())")
        #expect(try Docker.running(h.project).count == 1)

        // About 1× the target (one client, one request per ~100 ms), then about 5× (six clients).
        let base = LoadClient(port: publish, path: "/version", limit: 5_000, seconds: 90, clients: 1, pause: 0.1)
        base.start()
        defer { base.finish() }
        Thread.sleep(forTimeInterval: 3)
        #expect(try Docker.running(h.project).count == 1, "one client is about one replica's target")
        let step = LoadClient(port: publish, path: "/version", limit: 20_000, seconds: 90, clients: 5, pause: 0.1)
        let stepAt = Date()
        step.start()
        defer { step.finish() }
        var peak = 1
        let scaled = eventually(within: 40) {
            let running = (try? Docker.running(h.project).count) ?? 0
            peak = Swift.max(peak, running)
            return running >= 3 && (autoscale(h)?["replicas"] as? Int ?? 0) >= 3
        }
        let scaledAfter = Date().timeIntervalSince(stepAt)
        Thread.sleep(forTimeInterval: 3)
        let during = step.finish()
        let baseResult = base.finish()
        let stoppedAt = Date()
        let down = eventually(within: 60) {
            (try? Docker.running(h.project).count) == 1 && (autoscale(h)?["replicas"] as? Int) == 1
        }
        let downAfter = Date().timeIntervalSince(stoppedAt)
        print("autoscale: load step → ≥3 replicas running in \(String(format: "%.1f", scaledAfter)) s (peak \(peak)); after the load stopped, back to 1 in \(String(format: "%.1f", downAfter)) s (scaleDownDelay 4s); requests \(during.sent + baseResult.sent), failed \(during.failures.count + baseResult.failures.count)")

        #expect(scaled, "running \((try? Docker.running(h.project).count) ?? -1); status autoscale \(String(describing: autoscale(h)))\n\(h.log())")
        #expect(during.failures == [], "failed \(during.failures.count) of \(during.sent): \(during.failures.prefix(5))")
        #expect(baseResult.failures == [], "failed \(baseResult.failures.count) of \(baseResult.sent): \(baseResult.failures.prefix(5))")
        #expect(during.bodies.keys.sorted() == ["customer 1.0\n"])
        #expect(down, "running \((try? Docker.running(h.project).count) ?? -1)\n\(h.log())")
        let reasons = autoscaleReasons(h)
        // Every step a decision caused says so, also one planned afresh behind an earlier one.
        #expect(!reasons.isEmpty && reasons.allSatisfy { $0.hasPrefix("autoscale ") }, "\(reasons)")
        #expect(reasons.first?.hasPrefix("autoscale 1 → ") == true, "\(reasons)")
        #expect(reasons.first?.contains(" req/s over ") == true, "\(reasons)")
        #expect(reasons.last?.contains(" → 1: 0.0 req/s over ") == true, "\(reasons)")
        let status = try #require(autoscale(h))
        #expect(status["min"] as? Int == 1)
        #expect(status["max"] as? Int == 6)
        #expect(status["targetRequestsPerSecond"] as? Int == 10)
        #expect(status["scaleDownDelayMs"] as? Int == 4000)
        // `berth status` shows the count and the bounds in a REPLICAS column.
        let text = try sh([WatchHarness.binary.path, "status", "--repo", h.repo.path, "--project", h.project]).out
        #expect(text.contains("REPLICAS"), "\(text)")
        #expect(text.contains("1 (autoscaled 1–6, target 10)"), "\(text)")
        #expect(h.terminate() == 0)
    }

    @Test func minZeroGoesToZeroWhenIdleAndFiftyConcurrentFirstRequestsAreAllAnswered() throws {
        let h = try WatchHarness()
        defer {
            h.terminate()
            stopProxiesOf(h)
            h.stop()
        }
        let publish = try freeHostPort()
        try h.commit(
            ["manifests/customer.yaml": Self.manifest(publish: publish, replicas: 1, min: 0, max: 3, target: 10, delay: "3s")],
            "customer autoscaled 0–3")
        // The floor, in the same run: one container of the image started and answering its
        // health check (docker run, then /healthz every 20 ms on the bridge address).
        let floor = try startAndHealthSeconds(project: h.project)
        try h.start(interval: "2s", extraArguments: ["--proxy-bind", "127.0.0.1"])
        // Nothing runs, and the balancer listens on the published port anyway (asked through
        // its control API: a connection to the port would be a first request).
        try #require(eventually(within: 60) { proxyListens(h, publish) }, "\(h.log())")
        #expect(try Docker.running(h.project) == [])
        #expect(h.healthyServices() == ["customer"])

        // 50 concurrent first requests (each may wait up to 30 s): all answered.
        let started = Date()
        let answers = LockedBox<[Swift.Result<String, TestFailure>]>([])
        let firstAnswer = LockedBox<Double?>(nil)
        let threads = (0..<50).map { _ in
            Thread {
                let r = LoadClient.request(port: publish, path: "/version", stall: 0, timeout: 30)
                firstAnswer.update { if $0 == nil, case .success = r { $0 = Date().timeIntervalSince(started) } }
                answers.update { $0.append(r) }
            }
        }
        threads.forEach { $0.start() }
        let all = eventually(within: 45) { answers.value.count == 50 }
        let bodies = answers.value.map { (try? $0.get()) ?? "failed: \($0)" }
        print("autoscale: from zero, first of 50 concurrent requests answered after \(String(format: "%.2f", firstAnswer.value ?? -1)) s, all 50 after \(String(format: "%.2f", Date().timeIntervalSince(started))) s; floor (one container started and healthy, same run) \(String(format: "%.2f", floor)) s")
        #expect(all)
        #expect(bodies == Array(repeating: "customer 1.0\n", count: 50), "\(bodies.filter { $0 != "customer 1.0\n" }.prefix(3))\n\(h.log())")
        #expect(try Docker.running(h.project).count >= 1)
        #expect(autoscaleReasons(h).first == "autoscale 0 → 1: a client waited at the balancer with no replica running")

        // Idle for scaleDownDelay: back to zero, and the port still listens.
        #expect(eventually(within: 45) { (try? Docker.running(h.project)) == [] }, "\(h.log())")
        #expect(proxyListens(h, publish))
        #expect(autoscaleReasons(h).last?.contains(" → 0: 0.0 req/s over ") == true, "\(autoscaleReasons(h))")
        #expect(h.terminate() == 0)
    }
}

/// Seconds from `docker run` of shop/customer:1.0 to its first healthy `/healthz` (the
/// physical floor of a cold start); the container is removed before this returns.
func startAndHealthSeconds(project: String) throws -> Double {
    let started = Date()
    let id = try sh(["docker", "run", "-d", "--label", "berth.project=\(project)-floor", "shop/customer:1.0"]).out
    defer { _ = try? sh(["docker", "rm", "-f", id]) }
    let ip = try sh(["docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", id]).out
    let healthy = eventually(within: 30) {
        (try? sh(["curl", "-s", "-m", "1", "-o", "/dev/null", "-w", "%{http_code}", "http://\(ip):8080/healthz"]).out) == "200"
    }
    guard healthy else { throw TestFailure("shop/customer:1.0 at \(ip) did not answer /healthz within 30 s") }
    return Date().timeIntervalSince(started)
}

/// Whether the harness's `berth proxy` listens on `publish` (its `GET /v1/endpoints`).
func proxyListens(_ h: WatchHarness, _ publish: Int) -> Bool {
    guard let data = FileManager.default.contents(atPath: "\(h.state.path)/proxy-\(h.project).json"),
        let state = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
        let port = state["controlPort"] as? Int,
        let text = try? sh(["curl", "-s", "-m", "5", "http://127.0.0.1:\(port)/v1/endpoints"]).out,
        let doc = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
    else { return false }
    return (doc["listeners"] as? [[String: Any]] ?? []).contains { $0["publish"] as? Int == publish }
}

/// A value shared by the test's threads, behind a lock.
final class LockedBox<Value>: @unchecked Sendable {  // state behind `lock`
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value { lock.withLock { stored } }
    func update(_ change: (inout Value) -> Void) { lock.withLock { change(&stored) } }
}
