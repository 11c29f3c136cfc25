import BerthTestSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The world `berth-bench autoscale` measures: a git repository with three autoscaled
/// services of `shop/customer:1.0` (health /healthz every 200 ms, failureThreshold 2,
/// stopGracePeriod 1s, one port each published on 127.0.0.1), a real `berth watch` on it
/// (API on a loopback port, token `bench`, interval 5m: every change here is the
/// autoscaler's) and the `berth proxy` the watch starts:
/// - `web`: min 1, max 8, target 20 req/s, scaleDownDelay 5s, starts at 1 (load steps);
/// - `steady`: min 1, max 8, target 20, scaleDownDelay 10s, starts at 3 (noisy load);
/// - `cold`: min 0, max 2, target 20, scaleDownDelay 3s (cold starts from zero).
///
/// Everything is named after a random project (`asbench…`) and removed by `close()`, also
/// on a thrown error or SIGINT/SIGTERM (`Cleanup`: the watch and the proxy by pid, the
/// project's containers and network, the floor's containers, the scratch directory).
final class AutoscaleWorld {
    static let image = "shop/customer:1.0"
    static let target = 20

    let project: String
    let root: URL
    var repo: String { root.path + "/repo" }
    var state: String { root.path + "/state" }
    let ports: [String: Int]
    let cleanup: Cleanup
    private var watch: ChildProcess?
    private(set) var apiPort = 0
    private(set) var controlPort = 0
    private(set) var monitor: AutoscaleMonitor?

    init(berth: String) throws {
        project = "asbench" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        root = FileManager.default.temporaryDirectory.appendingPathComponent("berth-\(project)")
        cleanup = Cleanup(scratch: root)
        cleanup.add(project: project)
        cleanup.add(project: project + "-floor")
        cleanup.install()
        var ports: [String: Int] = [:]
        for service in ["cold", "steady", "web"] { ports[service] = try LoopbackRegistry.freePort() }
        self.ports = ports
        do { try start(berth: berth) } catch {
            close()
            throw error
        }
    }

    static func manifest(_ name: String, publish: Int, replicas: Int, min: Int, max: Int, delay: String) -> String {
        """
        apiVersion: berth/v1
        kind: Service
        metadata: {name: \(name)}
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
          autoscale: {min: \(min), max: \(max), targetRequestsPerSecond: \(target), scaleDownDelay: \(delay)}
          stopGracePeriod: 1s

        """
    }

    private func start(berth: String) throws {
        try FileManager.default.createDirectory(atPath: repo + "/manifests", withIntermediateDirectories: true)
        let manifests = [
            "web": Self.manifest("web", publish: ports["web"]!, replicas: 1, min: 1, max: 8, delay: "5s"),
            "steady": Self.manifest("steady", publish: ports["steady"]!, replicas: 3, min: 1, max: 8, delay: "10s"),
            "cold": Self.manifest("cold", publish: ports["cold"]!, replicas: 1, min: 0, max: 2, delay: "3s"),
        ]
        for (name, text) in manifests { try text.write(toFile: repo + "/manifests/\(name).yaml", atomically: true, encoding: .utf8) }
        try HealBench.sh(["git", "init", "-q", "-b", "main", repo])
        try HealBench.sh(["git", "-C", repo, "add", "-A"])
        try HealBench.sh(["git", "-C", repo, "-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-q", "-m", "autoscaled"])
        var env = ProcessInfo.processInfo.environment
        env["BERTH_API_TOKEN"] = "bench"
        let log = root.path + "/watch.log"
        let watch = try ChildProcess(
            URL(fileURLWithPath: berth),
            ["watch", "--repo", repo, "--project", project, "--interval", "5m", "--state-dir", state,
             "--listen", "127.0.0.1:0", "--proxy-bind", "127.0.0.1"],
            environment: env, stderr: .file(log))
        self.watch = watch
        cleanup.add(pid: watch.pid)
        var port = 0
        let listening = HealBench.wait(30) {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            guard let r = text.range(of: "http.address=127.0.0.1:") else { return false }
            port = Int(text[r.upperBound...].prefix { $0.isNumber }) ?? 0
            return port > 0
        }
        guard listening else { throw BenchError("berth watch did not listen within 30 s:\n\(watchLog())") }
        apiPort = port
        // The proxy the watch started: its control port and pid (stopped by pid at the end).
        var proxy: (port: Int, pid: Int32)?
        _ = HealBench.wait(60) {
            guard let data = FileManager.default.contents(atPath: "\(state)/proxy-\(project).json"),
                let doc = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let port = doc["controlPort"] as? Int, let pid = (doc["pid"] as? NSNumber)?.int32Value
            else { return false }
            proxy = (port, pid)
            return true
        }
        guard let proxy else { throw BenchError("berth watch started no berth proxy within 60 s:\n\(watchLog())") }
        cleanup.add(pid: proxy.pid)
        controlPort = proxy.port
        let monitor = AutoscaleMonitor(apiPort: apiPort, controlPort: controlPort)
        monitor.start()
        self.monitor = monitor
        // Ready: web at 1 and steady at 3 in rotation, cold listening with none.
        let ready = monitor.wait(90) { s in
            s.ready["web"] == 1 && s.ready["steady"] == 3 && s.desired["cold"] == 0 && (s.endpoints["cold"] ?? 0) == 0
        }
        guard ready != nil else {
            throw BenchError("the services did not come up within 90 s (want web 1, steady 3 ready, cold 0); last look \(String(describing: monitor.latest)):\n\(watchLog())")
        }
    }

    func watchLog() -> String {
        let text = (try? String(contentsOfFile: root.path + "/watch.log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(20).joined(separator: "\n")
    }

    /// Containers of `service` running now (docker ps).
    func running(_ service: String) -> Int {
        ((try? HealBench.sh(["docker", "ps", "-q", "--filter", "label=berth.project=\(project)",
                              "--filter", "label=berth.service=\(service)", "--filter", "status=running"])) ?? "")
            .split(separator: "\n").count
    }

    /// A scale step of an autoscale sync in the journal.
    struct Sync {
        var started: Double
        var ended: Double
        var from: Int
        var to: Int
        /// `autoscale 1 → 6: 62.0 req/s over 1s, target 20 per replica`
        var reason: String
    }

    /// Scale steps of autoscale journal records of `service` that started at or after
    /// `time`, oldest first.
    func autoscaleSyncs(_ service: String, since time: Double) -> [Sync] {
        guard case .success(let text) = UpdateLoad.request(
                host: "127.0.0.1", port: apiPort, path: "/api/v1/journal?service=\(service)&limit=500", stall: 0),
            let doc = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        else { return [] }
        var out: [Sync] = []
        for record in doc["records"] as? [[String: Any]] ?? [] where record["trigger"] as? String == "autoscale" {
            guard let started = (record["started"] as? String).flatMap(HealBench.parseTime),
                let ended = (record["ended"] as? String).flatMap(HealBench.parseTime), started >= time
            else { continue }
            for step in record["steps"] as? [[String: Any]] ?? [] where step["service"] as? String == service {
                guard let reason = step["reason"] as? String, reason.hasPrefix("autoscale ") else { continue }
                let parts = reason.dropFirst("autoscale ".count).components(separatedBy: " → ")
                guard parts.count >= 2, let from = Int(parts[0]), let to = Int(parts[1].prefix { $0.isNumber }) else { continue }
                out.append(Sync(started: started, ended: ended, from: from, to: to, reason: reason))
            }
        }
        return out.sorted { $0.started < $1.started }
    }

    /// Seconds from `docker run` of `count` containers of the image at once to the last of
    /// them answering `/healthz` (polled every 20 ms on its bridge address): the physical
    /// floor of starting that many replicas. The containers are removed before it returns.
    func floor(_ count: Int) throws -> Double {
        let ids = LockedList()
        let (project, image) = (project, Self.image)
        let started = PacedLoad.now()
        let answered = LockedList()
        onThreads(count) {
            guard let id = try? HealBench.sh(["docker", "run", "-d", "--label", "berth.project=\(project)-floor", image]) else { return }
            ids.append(id)
            guard let ip = try? HealBench.sh(["docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", id])
            else { return }
            let healthy = HealBench.wait(30) {
                guard case .success = UpdateLoad.request(host: ip, port: 8080, path: "/healthz", stall: 0) else { return false }
                return true
            }
            if healthy {
                answered.append(String(PacedLoad.now() - started))
            }
        }
        let seconds = answered.values.compactMap(Double.init).max() ?? .nan
        if !ids.values.isEmpty { _ = try? HealBench.sh(["docker", "rm", "-f"] + ids.values) }
        guard answered.values.count == count else { throw BenchError("floor: \(answered.values.count) of \(count) containers answered /healthz within 30 s") }
        return seconds
    }

    func close() {
        monitor?.stop()
        cleanup.run()
    }
}

/// Runs `body` on `count` threads of its own at once (not the cooperative pool, not
/// `concurrentPerform`, whose width is the core count) and waits for all, at most 60 s.
func onThreads(_ count: Int, _ body: @escaping @Sendable () -> Void) {
    let done = DispatchSemaphore(value: 0)
    for _ in 0..<count {
        Thread {
            body()
            done.signal()
        }.start()
    }
    let deadline = DispatchTime.now() + 60
    for _ in 0..<count { _ = done.wait(timeout: deadline) }
}

/// Strings appended from several threads.
final class LockedList: @unchecked Sendable {  // `items` behind `lock`
    private let lock = NSLock()
    private var items: [String] = []
    func append(_ item: String) { lock.withLock { items.append(item) } }
    var values: [String] { lock.withLock { items } }
}
