import BerthDocker
import BerthTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 7's "done when": a steady load (new connection per request) against the published
/// port of a 3-replica service, served by a real `berth proxy` child process, fails no
/// request while the image is updated through `berth apply`, while the service is scaled
/// 3 → 1 through `berth apply`, and while `berth watch` is SIGKILLed and restarted.
/// apply, watch and proxy share one state folder (XDG_STATE_HOME or --state-dir in a
/// temporary folder). Every child is SIGTERMed and every container removed, also on failure.
@Suite("Zero downtime through berth proxy", .serialized)
struct ZeroDowntimeTests {
    @Test func imageUpdateThroughApplyFailsNoRequest() async throws {
        let shop = try await Shop("zdu")
        let xdg = try TemporaryDirectory(prefix: "berth-zd-xdg")
        let proxy = ProxyChild(project: shop.project, stateDir: "\(xdg.path)/berth/\(shop.project)")
        defer {
            proxy.stop()
            shop.cleanup()
            xdg.remove()
        }
        let publish = try freeHostPort()
        let env = ["XDG_STATE_HOME": xdg.path]
        try proxy.start()
        try shop.repo.write("manifests/customer.yaml", zeroDowntimeManifest(image: "shop/customer:1.0", replicas: 3, publish: publish))
        try shop.commit("customer 1.0 x3")
        let first = try await offPool { try shop.berth("apply", ["--auto-approve"], environment: env) }
        try #require(first.status == 0, "\(first.stderr)")
        try #require(eventually(within: 15) { proxy.readyCount() == 3 }, "proxy endpoints: \(proxy.endpointsText())\n\(proxy.log())")
        let before = try Docker.running(shop.project)

        let load = LoadClient(port: publish, path: "/version", limit: 20_000, seconds: 90)
        // Alongside, 6 clients whose requests stay in flight for 300 ms: the ones on a retired replica
        // are only answered if it is drained before it is stopped.
        let slow = LoadClient(port: publish, path: "/version", limit: 1_000, seconds: 90, stall: 0.3, clients: 6)
        load.start()
        slow.start()
        defer {
            load.finish()
            slow.finish()
        }
        try await Task.sleep(for: .milliseconds(500))
        try shop.repo.write("manifests/customer.yaml", zeroDowntimeManifest(image: "shop/customer:1.1", replicas: 3, publish: publish))
        try shop.commit("customer 1.1")
        let update = try await offPool { try shop.berth("apply", ["--auto-approve"], environment: env) }
        try await Task.sleep(for: .milliseconds(500))
        let result = load.finish()
        let stalled = slow.finish()
        print("zero downtime, image 1.0 → 1.1 through berth apply: \(result.sent) requests, \(result.failures.count) failed; \(stalled.sent) requests held open 300 ms, \(stalled.failures.count) failed")

        #expect(update.status == 0, "\(update.stderr)")
        #expect(result.failures == [], "failed \(result.failures.count) of \(result.sent): \(result.failures.prefix(10))\nproxy log:\n\(proxy.log())")
        #expect(result.ok >= 100)
        #expect(stalled.failures == [], "held-open requests failed \(stalled.failures.count) of \(stalled.sent): \(stalled.failures.prefix(10))")
        #expect(stalled.ok >= 15)
        #expect(result.bodies.keys.sorted() == ["customer 1.0\n", "customer 1.1\n"])
        #expect(result.last == "customer 1.1\n")
        // Each old replica went through the balancer: drained before it was stopped.
        let events = lines(update.stderr, startingWith: "customer: ").filter { !$0.contains("update") }
        #expect(events.filter { $0.hasSuffix(" draining") }.count == 3, "\(update.stderr)")
        let now = try Docker.running(shop.project)
        #expect(now.count == 3)
        #expect(Set(now).isDisjoint(with: before))
        #expect(Set(try await shop.containers().compactMap(\.Image)) == ["shop/customer:1.1"])
        #expect(eventually(within: 15) { proxy.instances() == now }, "proxy endpoints: \(proxy.endpointsText())")
        #expect(proxy.metrics().contains("berth_proxy_connections_rejected_total{project=\"\(shop.project)\",service=\"customer\"} 0\n"))
        #expect(proxy.stop() == 0)
        shop.cleanup()
        #expect(try shop.leftovers() == "")
    }

    @Test func scaleDown3To1ThroughApplyFailsNoRequest() async throws {
        let shop = try await Shop("zds")
        let xdg = try TemporaryDirectory(prefix: "berth-zd-xdg")
        let proxy = ProxyChild(project: shop.project, stateDir: "\(xdg.path)/berth/\(shop.project)")
        defer {
            proxy.stop()
            shop.cleanup()
            xdg.remove()
        }
        let publish = try freeHostPort()
        let env = ["XDG_STATE_HOME": xdg.path]
        try proxy.start()
        try shop.repo.write("manifests/customer.yaml", zeroDowntimeManifest(image: "shop/customer:1.0", replicas: 3, publish: publish))
        try shop.commit("customer x3")
        let first = try await offPool { try shop.berth("apply", ["--auto-approve"], environment: env) }
        try #require(first.status == 0, "\(first.stderr)")
        try #require(eventually(within: 15) { proxy.readyCount() == 3 }, "proxy endpoints: \(proxy.endpointsText())\n\(proxy.log())")
        let before = try Docker.running(shop.project)

        let load = LoadClient(port: publish, path: "/version", limit: 20_000, seconds: 60)
        // Alongside, 6 clients whose requests stay in flight for 300 ms: the ones on a retired replica
        // are only answered if it is drained before it is stopped.
        let slow = LoadClient(port: publish, path: "/version", limit: 1_000, seconds: 60, stall: 0.3, clients: 6)
        load.start()
        slow.start()
        defer {
            load.finish()
            slow.finish()
        }
        try await Task.sleep(for: .milliseconds(500))
        try shop.repo.write("manifests/customer.yaml", zeroDowntimeManifest(image: "shop/customer:1.0", replicas: 1, publish: publish))
        try shop.commit("customer x1")
        let scale = try await offPool { try shop.berth("apply", ["--auto-approve"], environment: env) }
        try await Task.sleep(for: .milliseconds(500))
        let result = load.finish()
        let stalled = slow.finish()
        print("zero downtime, scale 3 → 1 through berth apply: \(result.sent) requests, \(result.failures.count) failed; \(stalled.sent) requests held open 300 ms, \(stalled.failures.count) failed")

        #expect(scale.status == 0, "\(scale.stderr)")
        #expect(result.failures == [], "failed \(result.failures.count) of \(result.sent): \(result.failures.prefix(10))\nproxy log:\n\(proxy.log())")
        #expect(result.ok >= 50)
        #expect(stalled.failures == [], "held-open requests failed \(stalled.failures.count) of \(stalled.sent): \(stalled.failures.prefix(10))")
        #expect(stalled.ok >= 15)
        #expect(result.bodies.keys.sorted() == ["customer 1.0\n"])
        #expect(lines(scale.stderr, startingWith: "customer: ").filter { $0.hasSuffix(" draining") }.count == 2, "\(scale.stderr)")
        let now = try Docker.running(shop.project)
        #expect(now.count == 1)
        #expect(Set(now).isSubset(of: before))
        #expect(eventually(within: 15) { proxy.instances() == now }, "proxy endpoints: \(proxy.endpointsText())")
        #expect(proxy.stop() == 0)
        shop.cleanup()
        #expect(try shop.leftovers() == "")
    }

    @Test func watchSigkilledAndRestartedWhileTheProxyServesFailsNoRequest() throws {
        let h = try WatchHarness()
        let proxy = ProxyChild(project: h.project, stateDir: h.state.path)
        defer {
            proxy.stop()
            h.stop()
        }
        let publish = try freeHostPort()
        try proxy.start()
        try h.commit(["manifests/customer.yaml": zeroDowntimeManifest(image: "shop/customer:1.0", replicas: 3, publish: publish)], "customer x3")
        try h.start(interval: "1s")
        try #require(eventually(within: 30) { (try? Docker.running(h.project).count) == 3 && proxy.readyCount() == 3 },
                     "proxy endpoints: \(proxy.endpointsText())\nwatch log:\n\(h.log())")
        try #require(eventually(within: 15) { h.healthyServices() == ["customer"] }, "\(h.log())")
        let before = try Docker.running(h.project)

        let load = LoadClient(port: publish, path: "/version", limit: 20_000, seconds: 60)
        load.start()
        defer { load.finish() }
        Thread.sleep(forTimeInterval: 0.5)
        h.terminate(signal: SIGKILL)
        let atKill = load.progress()
        // The control plane is gone for 2 s: the data plane keeps serving.
        Thread.sleep(forTimeInterval: 2)
        let atRestart = load.progress()
        try h.start(interval: "1s")
        let converged = eventually(within: 20) { h.healthyServices() == ["customer"] }
        // A few reconcile intervals after the restart: nothing to do, nothing touched.
        Thread.sleep(forTimeInterval: 2.5)
        let result = load.finish()
        print("zero downtime, berth watch SIGKILLed and restarted: \(result.sent) requests (\(atRestart.sent - atKill.sent) in the 2 s gap), \(result.failures.count) failed")

        #expect(result.failures == [], "failed \(result.failures.count) of \(result.sent): \(result.failures.prefix(10))\nproxy log:\n\(proxy.log())")
        #expect(atRestart.ok - atKill.ok >= 20, "requests served while watch was down: \(atRestart.ok - atKill.ok)")
        #expect(atRestart.failures == atKill.failures)
        #expect(result.bodies.keys.sorted() == ["customer 1.0\n"])
        #expect(converged, "\(h.log())")
        #expect(try Docker.running(h.project) == before)
        #expect(try Docker.all(h.project) == before)
        #expect(proxy.instances() == before)
        #expect(h.terminate() == 0)
        #expect(proxy.stop() == 0)
    }
}

/// One service `customer` with a published port, 200 ms health checks and a short stop grace.
func zeroDowntimeManifest(image: String, replicas: Int, publish: Int) -> String {
    """
    apiVersion: berth/v1
    kind: Service
    metadata:
      name: customer
    spec:
      image: \(image)
      replicas: \(replicas)
      ports:
        - containerPort: 8080
          publish: \(publish)
      health:
        http: {path: /healthz, port: 8080}
        interval: 200ms
        timeout: 1s
        failureThreshold: 2
      update:
        strategy: rolling
        maxSurge: 1
        maxUnavailable: 0
        progressDeadline: 20s
        onFailure: rollback
      stopGracePeriod: 1s

    """
}

extension WatchHarness {
    /// Names of the services the watch's API reports Healthy and Synced, sorted.
    func healthyServices() -> [String] {
        guard let status = try? json("/api/v1/status") else { return [] }
        let services = status["services"] as? [[String: Any]] ?? []
        return services.filter { $0["health"] as? String == "Healthy" && $0["sync"] as? String == "Synced" }
            .compactMap { $0["name"] as? String }.sorted()
    }
}

/// A free TCP port in 20000–32000 on the host (below Linux's ephemeral range, so the load
/// client's own outgoing connections never take it): one that binds right now.
func freeHostPort() throws -> Int {
    for _ in 0..<200 {
        let port = Int.random(in: 20000..<32000)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { continue }
        defer { close(fd) }
        var address = LoopbackSocket.address(port: port)
        address.sin_addr.s_addr = 0  // 0.0.0.0, as the proxy's default bind would need it
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if bound == 0 { return port }
    }
    throw TestFailure("no free TCP port in 20000–32000")
}

/// `berth proxy --project P --state-dir DIR --bind 127.0.0.1` as a child process, logging to
/// a file in DIR; found through its state file like the executor finds it.
final class ProxyChild: @unchecked Sendable {  // used from one test at a time
    let project: String
    let stateDir: String
    private var process: ChildProcess?
    private(set) var controlPort = 0

    init(project: String, stateDir: String) {
        self.project = project
        self.stateDir = stateDir
    }

    var logPath: String { "\(stateDir)/proxy.log" }
    var statePath: String { "\(stateDir)/proxy-\(project).json" }

    func start() throws {
        try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
        let p = try ChildProcess(
            try ProcessRunner.berthExecutable(),
            ["proxy", "--project", project, "--state-dir", stateDir, "--bind", "127.0.0.1"], stderr: .file(logPath))
        process = p
        let found = eventually(within: 15) {
            guard let data = FileManager.default.contents(atPath: statePath),
                let doc = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let port = doc["controlPort"] as? Int, doc["pid"] as? Int == Int(p.pid)
            else { return false }
            controlPort = port
            return true
        }
        if !found { throw TestFailure("berth proxy wrote no state file at \(statePath); log:\n\(log())") }
    }

    func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// SIGTERM, bounded wait, then SIGKILL; the exit status when it exited on SIGTERM.
    @discardableResult
    func stop() -> Int32? {
        guard let p = process else { return nil }
        process = nil
        return p.terminate(SIGTERM, grace: .seconds(15))
    }

    private func get(_ path: String) -> String {
        (try? sh(["curl", "-s", "-m", "5", "http://127.0.0.1:\(controlPort)\(path)"]).out) ?? ""
    }

    func endpointsText() -> String { get("/v1/endpoints") }
    func metrics() -> String { get("/metrics") + "\n" }

    private func endpoints() -> [[String: Any]] {
        let doc = try? JSONSerialization.jsonObject(with: Data(endpointsText().utf8)) as? [String: Any]
        return doc?["endpoints"] as? [[String: Any]] ?? []
    }

    func readyCount() -> Int { endpoints().filter { $0["state"] as? String == "ready" }.count }
    /// Instance ids the proxy knows, sorted.
    func instances() -> [String] { endpoints().compactMap { $0["instance"] as? String }.sorted() }
}

/// A steady client on its own threads (never starved by the cooperative pool): each of
/// `clients` threads sends one `GET PATH HTTP/1.0` per new connection, every `pause` (5 ms), until `finish()`, `limit` requests or
/// `seconds` pass; with `stall`, each request is held open that long before it is complete.
/// A request fails when the connect fails, the answer is not a 200 with a
/// body, or nothing arrives within 5 s.
final class LoadClient: @unchecked Sendable {  // state behind `lock`
    struct Result: Sendable, Equatable {
        var ok = 0
        var failures: [String] = []
        var bodies: [String: Int] = [:]
        var last = ""
        var sent: Int { ok + failures.count }
    }

    let port: Int
    let path: String
    let limit: Int
    let seconds: Double
    let stall: Double
    let clients: Int
    /// Between two requests of one client.
    let pause: Double
    private let lock = NSLock()
    private var result = Result()
    private var stopping = false
    private let done = DispatchSemaphore(value: 0)
    private var threads: [Thread] = []

    init(port: Int, path: String, limit: Int, seconds: Double, stall: Double = 0, clients: Int = 1, pause: Double = 0.005) {
        self.pause = pause
        self.port = port
        self.stall = stall
        self.clients = clients
        self.path = path
        self.limit = limit
        self.seconds = seconds
    }

    func start() {
        for _ in 0..<clients {
            let thread = Thread { [self] in
                let deadline = Date().addingTimeInterval(seconds)
                while lock.withLock({ !stopping && result.sent < limit }), Date() < deadline {
                    let outcome = Self.request(port: port, path: path, stall: stall)
                    lock.withLock {
                        switch outcome {
                        case .success(let body):
                            result.ok += 1
                            result.bodies[body, default: 0] += 1
                            result.last = body
                        case .failure(let failure):
                            result.failures.append(failure.description)
                        }
                    }
                    usleep(useconds_t(pause * 1_000_000))
                }
                done.signal()
            }
            threads.append(thread)
            thread.start()
        }
    }

    func progress() -> Result { lock.withLock { result } }

    /// Stops the client (bounded wait for the request in flight) and returns what it saw.
    @discardableResult
    func finish() -> Result {
        let running = lock.withLock {
            let wasRunning = !threads.isEmpty && !stopping
            stopping = true
            return wasRunning
        }
        if running {
            let deadline = DispatchTime.now() + 15
            for _ in threads { _ = done.wait(timeout: deadline) }
        }
        return progress()
    }

    static func request(port: Int, path: String, stall: Double, timeout seconds: Int = 5) -> Swift.Result<String, TestFailure> {
        let fd = LoopbackSocket.connect(port: port, sendTimeout: seconds, receiveTimeout: seconds)
        if fd < 0 { return .failure(TestFailure("connect: \(String(cString: strerror(errno)))")) }
        defer { close(fd) }
        // With a stall, the request line goes first and the rest after it: a request in
        // flight on its replica for that long (one a retired replica must be let finish).
        for (index, part) in ["GET \(path) HTTP/1.0\r\n", "Host: berth\r\n\r\n"].enumerated() {
            if index == 1, stall > 0 { usleep(useconds_t(stall * 1_000_000)) }
            let bytes = Array(part.utf8)
            var written = 0
            while written < bytes.count {
                let n = bytes[written...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { return .failure(TestFailure("send: \(String(cString: strerror(errno)))")) }
                written += n
            }
        }
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            if n < 0 {
                return .failure(TestFailure("recv after \(reply.count) bytes: \(String(cString: strerror(errno)))"))
            }
            reply += buffer[..<n]
        }
        let text = String(decoding: reply, as: UTF8.self)
        guard text.hasPrefix("HTTP/1.0 200 OK\r\n") || text.hasPrefix("HTTP/1.1 200 OK\r\n"),
            let split = text.range(of: "\r\n\r\n"), split.upperBound < text.endIndex
        else { return .failure(TestFailure("answer: \(text.prefix(60).debugDescription)")) }
        return .success(String(text[split.upperBound...]))
    }
}
