import Foundation

/// What `berth-bench autoscale` watches while the load runs: every `period` (50 ms) the
/// watch's `/metrics` (the autoscaler's desired count and decisions by direction, per
/// service) and the balancer's `GET /v1/endpoints` (its endpoints per service, and how many
/// are ready: in rotation). Each look is a `Snapshot` with its wall-clock time; the bench
/// reads the timeline afterwards. Bounded: stops at `stop()` or after `seconds`.
final class AutoscaleMonitor: @unchecked Sendable {  // state behind `lock`
    struct Snapshot {
        var at: Double
        var desired: [String: Int] = [:]
        var ups: [String: Int] = [:]
        var downs: [String: Int] = [:]
        /// Endpoints in the balancer (any state) and those ready, per service.
        var endpoints: [String: Int] = [:]
        var ready: [String: Int] = [:]
    }

    let apiPort: Int
    let controlPort: Int
    let period: Double
    let seconds: Double
    private let lock = NSLock()
    private var snapshots: [Snapshot] = []
    private var stopping = false
    private let done = DispatchSemaphore(value: 0)

    init(apiPort: Int, controlPort: Int, period: Double = 0.05, seconds: Double = 900) {
        self.apiPort = apiPort
        self.controlPort = controlPort
        self.period = period
        self.seconds = seconds
    }

    func start() {
        Thread { [self] in
            let deadline = Date().addingTimeInterval(seconds)
            while !lock.withLock({ stopping }), Date() < deadline {
                let next = Date().addingTimeInterval(period)
                if let snapshot = look() { lock.withLock { snapshots.append(snapshot) } }
                let wait = next.timeIntervalSinceNow
                if wait > 0 { usleep(useconds_t(wait * 1_000_000)) }
            }
            done.signal()
        }.start()
    }

    func stop() {
        let first = lock.withLock {
            defer { stopping = true }
            return !stopping
        }
        if first { _ = done.wait(timeout: .now() + 10) }
    }

    /// Snapshots taken at or after `time`, oldest first.
    func since(_ time: Double) -> [Snapshot] { lock.withLock { snapshots.filter { $0.at >= time } } }

    var latest: Snapshot? { lock.withLock { snapshots.last } }

    /// Waits (bounded) for a snapshot taken after now that satisfies `condition`; its time.
    func wait(_ seconds: Double, _ condition: (Snapshot) -> Bool) -> Snapshot? {
        let from = PacedLoad.now()
        var found: Snapshot?
        _ = HealBench.wait(seconds) {
            found = since(from).first(where: condition)
            return found != nil
        }
        return found
    }

    private func look() -> Snapshot? {
        let at = PacedLoad.now()
        guard case .success(let metrics) = UpdateLoad.request(host: "127.0.0.1", port: apiPort, path: "/metrics", stall: 0),
            case .success(let endpoints) = UpdateLoad.request(host: "127.0.0.1", port: controlPort, path: "/v1/endpoints", stall: 0)
        else { return nil }
        var snapshot = Snapshot(at: at)
        for line in metrics.split(separator: "\n") where line.hasPrefix("berth_autoscale_") {
            guard let sample = Self.sample(line), let service = sample.labels["service"] else { continue }
            let value = sample.value
            switch (sample.name, sample.labels["direction"]) {
            case ("berth_autoscale_desired_replicas", _): snapshot.desired[service] = value
            case ("berth_autoscale_decisions_total", "up"?): snapshot.ups[service] = value
            case ("berth_autoscale_decisions_total", "down"?): snapshot.downs[service] = value
            default: break
            }
        }
        let document = (try? JSONSerialization.jsonObject(with: Data(endpoints.utf8))) as? [String: Any]
        for endpoint in document?["endpoints"] as? [[String: Any]] ?? [] {
            guard let service = endpoint["service"] as? String else { continue }
            snapshot.endpoints[service, default: 0] += 1
            if endpoint["state"] as? String == "ready" { snapshot.ready[service, default: 0] += 1 }
        }
        return snapshot
    }

    /// `name{a="x",b="y"} 3` → name, labels, value (whole numbers only).
    static func sample(_ line: Substring) -> (name: String, labels: [String: String], value: Int)? {
        guard let open = line.firstIndex(of: "{"), let close = line.lastIndex(of: "}") else { return nil }
        var labels: [String: String] = [:]
        for pair in line[line.index(after: open)..<close].split(separator: ",") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { labels[String(kv[0])] = kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        }
        let value = line[line.index(after: close)...].trimmingCharacters(in: .whitespaces)
        guard let number = Double(value) else { return nil }
        return (String(line[..<open]), labels, Int(number))
    }
}
