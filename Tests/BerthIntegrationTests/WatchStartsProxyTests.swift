import BerthTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 7 item 2: `berth watch` starts the project's `berth proxy` (detached) or joins the
/// one already running. Real `berth` binaries, real dockerd, a steady load on the published
/// port. Cleanup SIGTERMs (then SIGKILLs) every proxy of the test's state folder by pid and
/// removes every container, also when the test fails.
@Suite("berth watch starts or joins berth proxy", .serialized)
struct WatchStartsProxyTests {
    @Test func watchStartsAProxyThatOutlivesItsSigkillAndIsJoinedAfterRestart() throws {
        let h = try WatchHarness()
        defer {
            h.terminate()
            stopProxiesOf(h)
            h.stop()
        }
        let publish = try freeHostPort()
        try h.commit(["manifests/customer.yaml": zeroDowntimeManifest(image: "shop/customer:1.0", replicas: 3, publish: publish)], "customer x3")
        #expect(proxyPIDs(h) == [])
        try h.start(interval: "1s", extraArguments: ["--proxy-bind", "127.0.0.1"])

        // Started: one log line with its pid; the state file names the same pid; it leads its own session.
        try #require(eventually(within: 40) { logPIDs(h, "berth proxy started").count == 1 }, "\(h.log())")
        let pid = logPIDs(h, "berth proxy started")[0]
        let state = try #require(proxyState(h), "no state file; watch log:\n\(h.log())")
        #expect(state.pid == pid)
        #expect(getsid(pid) == pid)
        #expect(proxyPIDs(h) == [pid])
        #expect(h.log().contains("proxy.log=\(h.state.path)/proxy-\(h.project).log"))
        try #require(eventually(within: 30) { h.healthyServices() == ["customer"] && readyEndpoints(state.port) == 3 },
                     "endpoints: \(endpointsText(state.port))\nwatch log:\n\(h.log())")
        let before = try Docker.running(h.project)
        #expect(before.count == 3)
        // The published port serves the service.
        let first = LoadClient.request(port: publish, path: "/version", stall: 0)
        #expect((try? first.get()) == "customer 1.0\n")
        // One scrape of watch: its series by service, then its proxy's (issue 17, item 3).
        let ready = "berth_service_replicas_ready{project=\"\(h.project)\",service=\"customer\"} 3\n"
        #expect(eventually(within: 10) { (try? h.http("GET", "/metrics").body.contains(ready)) == true })
        let metrics = try h.http("GET", "/metrics").body
        #expect(metrics.contains("berth_service_health{project=\"\(h.project)\",health=\"Healthy\",service=\"customer\"} 1\n"), "\(metrics)")
        #expect(metrics.contains("# TYPE berth_proxy_connections_total counter\n"), "\(metrics)")

        let load = LoadClient(port: publish, path: "/version", limit: 20_000, seconds: 60)
        load.start()
        defer { load.finish() }
        Thread.sleep(forTimeInterval: 0.5)
        h.terminate(signal: SIGKILL)
        let atKill = load.progress()
        // watch is gone for 2 s: its proxy keeps serving.
        Thread.sleep(forTimeInterval: 2)
        let atRestart = load.progress()
        #expect(proxyPIDs(h) == [pid])

        try h.start(interval: "1s", extraArguments: ["--proxy-bind", "127.0.0.1"])
        let joined = eventually(within: 30) { logPIDs(h, "berth proxy joined") == [pid] }
        let converged = eventually(within: 20) { h.healthyServices() == ["customer"] }
        Thread.sleep(forTimeInterval: 2)
        let result = load.finish()
        print("berth watch started berth proxy (pid \(pid)); watch SIGKILLed and restarted: \(result.sent) requests (\(atRestart.sent - atKill.sent) in the 2 s gap), \(result.failures.count) failed")

        #expect(joined, "\(h.log())")
        // The harness started a fresh log for the restarted watch: it started no proxy.
        #expect(logPIDs(h, "berth proxy started") == [])
        #expect(proxyPIDs(h) == [pid])
        #expect(proxyState(h)?.pid == pid)
        #expect(result.failures == [], "failed \(result.failures.count) of \(result.sent): \(result.failures.prefix(10))")
        #expect(atRestart.ok - atKill.ok >= 20, "requests served while watch was down: \(atRestart.ok - atKill.ok)")
        #expect(atRestart.failures == atKill.failures)
        #expect(result.bodies.keys.sorted() == ["customer 1.0\n"])
        #expect(converged, "\(h.log())")
        #expect(try Docker.running(h.project) == before)

        // A watch stopped cleanly leaves the proxy serving too; SIGTERM ends the proxy.
        #expect(h.terminate() == 0)
        #expect(proxyPIDs(h) == [pid])
        #expect((try? LoadClient.request(port: publish, path: "/version", stall: 0).get()) == "customer 1.0\n")
        kill(pid, SIGTERM)
        #expect(eventually(within: 15) { proxyPIDs(h) == [] })
        #expect(eventually(within: 5) { proxyState(h) == nil })
        h.stop()
        #expect(try Docker.all(h.project) == [])
    }

    @Test func aProxyThatDiesIsStartedAgainAtTheNextSync() throws {
        let h = try WatchHarness()
        defer {
            h.terminate()
            stopProxiesOf(h)
            h.stop()
        }
        let publish = try freeHostPort()
        try h.commit(["manifests/customer.yaml": zeroDowntimeManifest(image: "shop/customer:1.0", replicas: 1, publish: publish)], "customer x1")
        try h.start(interval: "1s", extraArguments: ["--proxy-bind", "127.0.0.1"])
        try #require(eventually(within: 40) { logPIDs(h, "berth proxy started").count == 1 }, "\(h.log())")
        let first = logPIDs(h, "berth proxy started")[0]
        try #require(eventually(within: 30) { (try? LoadClient.request(port: publish, path: "/version", stall: 0).get()) == "customer 1.0\n" })

        kill(first, SIGKILL)
        // The next syncs (every second) find no proxy answering and start another one.
        let restarted = eventually(within: 30) { logPIDs(h, "berth proxy started").count == 2 }
        #expect(restarted, "\(h.log())")
        let second = logPIDs(h, "berth proxy started").last ?? 0
        #expect(second != first)
        #expect(proxyPIDs(h) == [second])
        #expect(proxyState(h)?.pid == second)
        #expect(eventually(within: 30) { (try? LoadClient.request(port: publish, path: "/version", stall: 0).get()) == "customer 1.0\n" })
        #expect(h.terminate() == 0)
    }

    @Test func withNoProxyWatchStartsNone() throws {
        let h = try WatchHarness()
        defer {
            h.terminate()
            stopProxiesOf(h)
            h.stop()
        }
        let publish = try freeHostPort()
        try h.commit(["manifests/customer.yaml": zeroDowntimeManifest(image: "shop/customer:1.0", replicas: 1, publish: publish)], "customer x1")
        try h.start(interval: "1s", extraArguments: ["--no-proxy"])
        try #require(eventually(within: 30) { h.healthyServices() == ["customer"] }, "\(h.log())")
        // A few intervals later, still no proxy.
        Thread.sleep(forTimeInterval: 2.5)
        #expect(proxyPIDs(h) == [])
        #expect(proxyState(h) == nil)
        #expect(!h.log().contains("berth proxy"), "\(h.log())")
        #expect(!(try h.http("GET", "/metrics").body.contains("berth_proxy_")))
        #expect(h.terminate() == 0)
    }
}

@Suite struct WatchProxyFlagTests {
    @Test func anEmptyProxyBindIsAUsageError() throws {
        let r = try ProcessRunner.run(WatchHarness.binary, ["watch", "--proxy-bind", ""])
        #expect(r.status == 64)
        #expect(r.stderr.contains("Error: --proxy-bind: expected an address such as 0.0.0.0 or 127.0.0.1, got \"\"\n"), "\(r.stderr)")
        #expect(r.stdout == "")
    }
}

/// The pids named by log lines with `message` (msg="…" proxy.pid=N), in order.
func logPIDs(_ h: WatchHarness, _ message: String) -> [Int32] {
    h.log().split(separator: "\n").filter { $0.contains("msg=\"\(message)\"") }.compactMap { line in
        guard let range = line.range(of: "proxy.pid=") else { return nil }
        return Int32(line[range.upperBound...].prefix { $0.isNumber })
    }
}

private struct ProxyState: Equatable {
    var pid: Int32
    var port: Int
}

/// `<state-dir>/proxy-<project>.json`, or nil.
private func proxyState(_ h: WatchHarness) -> ProxyState? {
    guard let data = FileManager.default.contents(atPath: "\(h.state.path)/proxy-\(h.project).json"),
        let doc = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
        let pid = doc["pid"] as? Int, let port = doc["controlPort"] as? Int
    else { return nil }
    return ProxyState(pid: Int32(pid), port: port)
}

private func endpointsText(_ port: Int) -> String {
    (try? sh(["curl", "-s", "-m", "5", "http://127.0.0.1:\(port)/v1/endpoints"]).out) ?? ""
}

private func readyEndpoints(_ port: Int) -> Int {
    let doc = try? JSONSerialization.jsonObject(with: Data(endpointsText(port).utf8)) as? [String: Any]
    return (doc?["endpoints"] as? [[String: Any]] ?? []).filter { $0["state"] as? String == "ready" }.count
}

/// Pids of the live `berth proxy` processes whose command line names the harness's state folder.
func proxyPIDs(_ h: WatchHarness) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { Int32($0) }.filter { pid in
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        guard arguments.count > 1, arguments[1] == "proxy", arguments.contains(h.state.path) else { return false }
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return !(stat.split(separator: ")").last?.hasPrefix(" Z") ?? true)
    }.sorted()
}

/// SIGTERM to the harness's proxies (by pid), SIGKILL after 10 s.
func stopProxiesOf(_ h: WatchHarness) {
    for pid in proxyPIDs(h) { kill(pid, SIGTERM) }
    _ = eventually(within: 10) { proxyPIDs(h).isEmpty }
    for pid in proxyPIDs(h) { kill(pid, SIGKILL) }
    _ = eventually(within: 5) { proxyPIDs(h).isEmpty }
}
