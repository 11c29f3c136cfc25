import BerthTestSupport
import Foundation

/// `berth-bench heal [KILLS] [--no-swarm] [--baseline PATH]`: self-healing latency of `berth watch` against the real
/// dockerd, next to Docker Swarm's for the same image in the same run.
///
/// - Berth: a 3-replica service (shop/customer:1.0, HTTP health check every 1 s); KILLS
///   times (default 20) one instance is `docker kill`ed. Measured from the engine's own
///   event times: `kill` → `start` of the replacement (running), and → the end of the heal
///   sync in Berth's journal (the replacement passed its health check: healthy).
///   Then commit-to-converged for a scale 3 → 10: commit, `POST /api/v1/sync`, until 10
///   run, and until the sync's journal record ends (all 10 healthy).
/// - Berth, all replicas at once while syncs run back to back: a second watch with
///   `--interval 100ms` (every sync fetches and observes, so one is nearly always in
///   flight); KILLS / 2 times (at least 5) all 3 instances are killed by one `docker kill`,
///   and each replacement's `start` is measured from its victim's `kill` (3 samples per
///   round), plus the round's last start (all 3 running again). A heal must not wait for
///   the sync in flight.
/// - The Docker floor of that phase (`HealFloor`): the same kills with the replacements
///   created and started through the Engine API at the moment of the kill, no Berth.
/// - Swarm: on the 3-node Swarm of `scripts/swarm-cluster.sh` (brought up for this phase and
///   torn down after it; never `docker swarm init` on the shared dockerd), the tasks pinned
///   to node 1 (one engine, like Berth's side), `docker service create --no-resolve-image --restart-delay 0s
///   --endpoint-mode dnsrr` (no routing mesh: the kernel has no IPVS) with a 1 s wget health
///   check, the same kills, `kill` → `start` and → `health_status: healthy`; then
///   `docker service scale` 3 → 10.
let healBenchmark = Benchmark(
    name: "heal",
    summary: "berth watch: kill → replacement running/healthy (≥ 20 kills), scale 3 → 10; vs Docker Swarm",
    run: HealBench.run)

enum HealBench {
    static let image = "shop/customer:1.0"

    static func run(_ args: [String]) throws {
        var kills = 20
        var swarm = true
        var baseline: String?
        var rest = args[...]
        while let arg = rest.popFirst() {
            switch arg {
            // `--no-swarm`: Berth alone (the Swarm peer brings up the 3-node test Swarm).
            case "--no-swarm": swarm = false
            // `--baseline PATH`: an earlier `berth` binary measured in the same run, phase by
            // phase before this one (before/after figures of a change).
            case "--baseline":
                guard let path = rest.popFirst(), FileManager.default.isExecutableFile(atPath: path)
                else { throw BenchError("--baseline needs the path of an executable berth binary") }
                baseline = path
            default:
                guard let n = Int(arg), n > 0, n <= 1000 else {
                    throw BenchError("heal: unknown argument \(arg) (usage: heal [KILLS] [--no-swarm] [--baseline PATH])")
                }
                kills = n
            }
        }
        let berth = try berthBinary()
        print("heal: \(kills) kills per system, image \(image), 3 replicas, health check every 1 s")
        if let baseline { print("baseline: \(baseline), measured before berth in each phase") }
        let rounds = max(5, kills / 2)
        let b0 = try baseline.map { try measureBerth(berth: $0, kills: kills) }
        let b = try measureBerth(berth: berth, kills: kills)
        let burst0 = try baseline.map { try measureAllKilled(berth: $0, rounds: rounds) }
        let burst = try measureAllKilled(berth: berth, rounds: rounds)
        let floor = try HealFloor.measureAllKilled(image: image, rounds: rounds)
        var s: Figures?
        if swarm {
            do { s = try measureSwarm(kills: kills) } catch { print("swarm: not measured: \(error)") }
        } else {
            print("swarm: not measured (--no-swarm)")
        }
        print("")
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        print(pad("", 58) + "     median        p95    n")
        func row(_ label: String, _ values: [Double]) {
            guard !values.isEmpty else { return print("\(label): no samples") }
            print(pad(label, 58) + String(format: " %7.0f ms %7.0f ms %4d", median(values) * 1000, p95(values) * 1000, values.count))
        }
        if let b0 { row("before kill → running", b0.running) }
        row("berth  kill → running", b.running)
        if let s { row("swarm  kill → running", s.running) }
        if let b0 { row("before kill → healthy", b0.healthy) }
        row("berth  kill → healthy", b.healthy)
        if let s { row("swarm  kill → healthy", s.healthy) }
        if let burst0 { row("before all 3 killed, syncs back to back: kill → running", burst0.running) }
        row("berth  all 3 killed, syncs back to back: kill → running", burst.running)
        if let burst0 { row("before all 3 killed, syncs back to back: → all 3 running", burst0.allRunning) }
        row("berth  all 3 killed, syncs back to back: kill → all 3 running", burst.allRunning)
        row("docker floor: all 3 killed, replaced by hand: kill → running", floor.running)
        row("docker floor: all 3 killed, replaced by hand: → all 3 running", floor.allRunning)
        if let burst0 { print("before all 3 killed: rounds with a replacement missing after 10 s: \(burst0.stalledRounds) of \(burst0.allRunning.count)") }
        print("berth  all 3 killed: rounds with a replacement missing after 10 s: \(burst.stalledRounds) of \(burst.allRunning.count)")
        if let b0 {
            print(String(format: "before scale 3 → 10: commit → 10 running %.0f ms, → 10 healthy %.0f ms", b0.scaleRunning * 1000, b0.scaleHealthy * 1000))
        }
        print(String(format: "berth  scale 3 → 10: commit → 10 running %.0f ms, → 10 healthy %.0f ms", b.scaleRunning * 1000, b.scaleHealthy * 1000))
        if let b0, let burst0 {
            print(String(format: "ratios berth/before: kill → running median %.2f, p95 %.2f; healthy median %.2f; all killed p95 %.2f; scale running %.2f",
                         median(b.running) / median(b0.running), p95(b.running) / p95(b0.running),
                         median(b.healthy) / median(b0.healthy), p95(burst.running) / p95(burst0.running),
                         b.scaleRunning / b0.scaleRunning))
        }
        if let s {
            print(String(format: "swarm  scale 3 → 10: command → 10 running %.0f ms, → 10 healthy %.0f ms", s.scaleRunning * 1000, s.scaleHealthy * 1000))
            print(String(format: "ratios berth/swarm (median): running %.2f, healthy %.2f; scale running %.2f, healthy %.2f",
                         median(b.running) / median(s.running), median(b.healthy) / median(s.healthy),
                         b.scaleRunning / s.scaleRunning, b.scaleHealthy / s.scaleHealthy))
        }
        print("target: berth kill → running median at most 500 ms: \(median(b.running) <= 0.5 ? "met" : "NOT met")")
        print(String(format: "ratios berth/docker floor, all 3 killed, kill → running: median %.2f, p95 %.2f",
                     median(burst.running) / median(floor.running), p95(burst.running) / p95(floor.running)))
        print("target: all killed during syncs, kill → running p95 at most 1000 ms: \(p95(burst.running) <= 1 ? "met" : "NOT met")"
              + String(format: " (the docker floor's p95 in this run: %.0f ms)", p95(floor.running) * 1000))
    }

    struct Figures {
        var running: [Double] = []
        var healthy: [Double] = []
        /// All replicas killed at once: the first kill → the round's last replacement started.
        var allRunning: [Double] = []
        /// Rounds of "all killed" in which not all 3 replacements started within 10 s.
        var stalledRounds = 0
        var scaleRunning = 0.0
        var scaleHealthy = 0.0

        /// One "all killed" round: each kill → the replacement started in its turn, and the
        /// first kill → the last start.
        mutating func addRound(kills: [Int64], starts: [Int64]) {
            for (k, s) in zip(kills, starts) { running.append(Double(s - k) / 1e9) }
            allRunning.append(Double(starts.last! - kills.first!) / 1e9)
        }
    }

    // MARK: - Berth

    static func measureBerth(berth: String, kills: Int) throws -> Figures {
        let world = try HealWorld(berth: berth, prefix: "bench", interval: "5m", extra: [])
        defer { world.close() }
        let (project, events, port) = (world.project, world.events, world.port)
        guard wait(60, { running(label: "berth.project=\(project)").count == 3 && lastJournalEnd(port) != nil })
        else { throw BenchError("berth did not start 3 replicas") }

        var figures = Figures()
        for i in 0..<kills {
            let before = Set(running(label: "berth.project=\(project)"))
            guard let victim = before.sorted()[safe: i % before.count] else { break }
            let mark = events.count
            try sh(["docker", "kill", victim])
            guard let killed = events.wait(after: mark, 10, { $0.id == victim && $0.action == "kill" }),
                  let started = events.wait(after: mark, 10, { $0.action == "start" && !before.contains($0.id) })
            else { throw BenchError("kill \(i + 1): no replacement started within 10 s") }
            figures.running.append(Double(started.nano - killed.nano) / 1e9)
            let killTime = Double(killed.nano) / 1e9
            var healthyAt: Double?
            _ = wait(15) {
                guard let end = lastJournalEnd(port), end.started >= killTime - 0.001 else { return false }
                healthyAt = end.ended
                return true
            }
            guard let healthyAt else { throw BenchError("kill \(i + 1): no heal recorded within 15 s") }
            figures.healthy.append(healthyAt - killTime)
            _ = wait(10) { running(label: "berth.project=\(project)").count == 3 }
            Thread.sleep(forTimeInterval: 0.5)
        }

        // Scale 3 → 10: commit, then the webhook.
        let mark = events.count
        let before = Set(running(label: "berth.project=\(project)"))
        let t0 = Date().timeIntervalSince1970
        try world.commit(replicas: 10)
        try sh(["curl", "-s", "-o", "/dev/null", "-X", "POST", "-H", "Authorization: Bearer bench", "http://127.0.0.1:\(port)/api/v1/sync"])
        guard wait(60, { events.all(after: mark).filter { $0.action == "start" && !before.contains($0.id) }.count >= 7 })
        else { throw BenchError("scale: 10 replicas did not start within 60 s") }
        let starts = events.all(after: mark).filter { $0.action == "start" && !before.contains($0.id) }
        figures.scaleRunning = Double(starts.prefix(7).map(\.nano).max()!) / 1e9 - t0
        var scaled: Double?
        _ = wait(60) {
            guard let end = lastJournalEnd(port), end.started >= t0 else { return false }
            scaled = end.ended
            return true
        }
        figures.scaleHealthy = (scaled ?? .nan) - t0
        return figures
    }

    /// All replicas killed at once while a watch with a 100 ms interval syncs back to back.
    /// `running`: each victim's kill → its replacement's start (paired in time order);
    /// `allRunning`: the first kill → the round's last replacement started.
    static func measureAllKilled(berth: String, rounds: Int) throws -> Figures {
        let world = try HealWorld(berth: berth, prefix: "benchall", interval: "100ms", extra: ["--no-proxy"])
        defer { world.close() }
        let (project, events) = (world.project, world.events)
        guard wait(60, { running(label: "berth.project=\(project)").count == 3 })
        else { throw BenchError("berth did not start 3 replicas (interval 100ms)") }
        Thread.sleep(forTimeInterval: 2)

        var figures = Figures()
        for round in 0..<rounds {
            guard wait(20, { running(label: "berth.project=\(project)").count == 3 }) else {
                throw BenchError("all killed, round \(round + 1): 3 replicas did not run again within 20 s")
            }
            Thread.sleep(forTimeInterval: 0.5)
            let victims = Set(running(label: "berth.project=\(project)"))
            let mark = events.count
            try sh(["docker", "kill"] + victims.sorted())
            let replaced = wait(10, { events.all(after: mark).filter { $0.action == "start" && !victims.contains($0.id) }.count >= 3 })
            let after = events.all(after: mark)
            let (kills, starts) = killsAndStarts(after, victims: victims)
            if !replaced {
                // A stalled round is a result, not a reason to lose the run: each missing
                // replacement counts as 10 s (a lower bound), and the round is reported.
                print("all killed, round \(round + 1): \(starts.count) of 3 replacements started within 10 s (counted as 10 s)")
                figures.stalledRounds += 1
                for (i, k) in kills.prefix(3).enumerated() {
                    figures.running.append(i < starts.count ? Double(starts[i] - k) / 1e9 : 10)
                }
                figures.allRunning.append(10)
                continue
            }
            guard kills.count == 3 else { throw BenchError("all killed, round \(round + 1): \(kills.count) kill events") }
            figures.addRound(kills: kills, starts: starts)
        }
        return figures
    }

    /// Of the events after a round's kill: the victims' `kill` times and the first 3 other
    /// containers' `start` times (their replacements), each sorted.
    static func killsAndStarts(_ after: [EventLog.Event], victims: Set<String>) -> (kills: [Int64], starts: [Int64]) {
        let kills = after.filter { $0.action == "kill" && victims.contains($0.id) }.map(\.nano).sorted()
        let starts = after.filter { $0.action == "start" && !victims.contains($0.id) }.prefix(3).map(\.nano).sorted()
        return (kills, starts)
    }

    /// A repository with `web` at 3 replicas and a `berth watch` on it (API token `bench`),
    /// the project's engine events recorded; `close()` stops the watch and removes it all.
    final class HealWorld {
        let project: String
        let root: String
        var repo: String { root + "/repo" }
        let events: EventLog
        private var watch: ChildProcess?
        private(set) var port = 0

        init(berth: String, prefix: String, interval: String, extra: [String]) throws {
            project = prefix + String(UInt32.random(in: 0...UInt32.max), radix: 36)
            root = FileManager.default.temporaryDirectory.appendingPathComponent("berth-heal-\(project)").path
            try FileManager.default.createDirectory(atPath: root + "/repo/manifests", withIntermediateDirectories: true)
            events = try EventLog(filters: ["label=berth.project=\(project)"])
            do { try start(berth: berth, interval: interval, extra: extra) } catch {
                close()
                throw error
            }
        }

        private func start(berth: String, interval: String, extra: [String]) throws {
            try sh(["git", "init", "-q", "-b", "main", repo])
            try commit(replicas: 3)
            var env = ProcessInfo.processInfo.environment
            env["BERTH_API_TOKEN"] = "bench"
            let logPath = root + "/watch.log"
            watch = try ChildProcess(
                URL(fileURLWithPath: berth),
                ["watch", "--repo", repo, "--project", project, "--interval", interval, "--state-dir", root + "/state",
                 "--listen", "127.0.0.1:0"] + extra,
                environment: env, stderr: .file(logPath))
            var port = 0
            let listening = HealBench.wait(20) {
                let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
                guard let r = log.range(of: "http.address=127.0.0.1:") else { return false }
                port = Int(log[r.upperBound...].prefix { $0.isNumber }) ?? 0
                return port > 0
            }
            self.port = port
            if !listening { throw BenchError("berth watch did not start") }
        }

        func commit(replicas: Int) throws {
            try manifest(replicas: replicas).write(toFile: repo + "/manifests/web.yaml", atomically: true, encoding: .utf8)
            try sh(["git", "-C", repo, "add", "-A"])
            try sh(["git", "-C", repo, "-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-q", "-m", "web x\(replicas)"])
        }

        func close() {
            watch?.terminate(SIGTERM, grace: .seconds(60))
            events.stop()
            cleanBerth(project)
            try? FileManager.default.removeItem(atPath: root)
        }
    }

    static func manifest(replicas: Int) -> String {
        """
        apiVersion: berth/v1
        kind: Service
        metadata: {name: web}
        spec:
          image: \(image)
          replicas: \(replicas)
          health:
            http: {path: /healthz, port: 8080}
            interval: 1s
          stopGracePeriod: 1s

        """
    }

    /// Start and end (epoch seconds) of the newest journal record, via the API.
    static func lastJournalEnd(_ port: Int) -> (started: Double, ended: Double)? {
        guard let out = try? sh(["curl", "-s", "http://127.0.0.1:\(port)/api/v1/journal?limit=1"]),
              let doc = try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any],
              let record = (doc["records"] as? [[String: Any]])?.first,
              let started = (record["started"] as? String).flatMap(parseTime),
              let ended = (record["ended"] as? String).flatMap(parseTime)
        else { return nil }
        return (started, ended)
    }

    static func parseTime(_ text: String) -> Double? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: text)?.timeIntervalSince1970
    }

    static func cleanBerth(_ project: String) {
        let ids = (try? sh(["docker", "ps", "-aq", "--filter", "label=berth.project=\(project)"]))?.split(separator: "\n").map(String.init) ?? []
        if !ids.isEmpty { _ = try? sh(["docker", "rm", "-f"] + ids) }
        _ = try? sh(["docker", "network", "rm", "berth-\(project)"])
    }

    // MARK: - Swarm

    static func measureSwarm(kills: Int) throws -> Figures {
        // The 3-node Swarm of scripts/swarm-cluster.sh, never the shared dockerd (other work
        // runs there, and it must never join a swarm). The tasks are pinned to node 1 — one
        // dockerd, as Berth's side has — so every kill and start is in that engine's events.
        let cluster = try SwarmCluster.up()
        defer { SwarmCluster.down() }
        let node = cluster.node(1)
        let docker = ["docker", "-H", node.dockerHost]
        print("swarm: the 3-node Swarm of scripts/swarm-cluster.sh, tasks pinned to \(node.hostname) (a manager)")
        let name = "berth-bench-" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        defer {
            _ = try? sh(docker + ["service", "rm", name])
            _ = wait(20) { running(label: "com.docker.swarm.service.name=\(name)", host: node.dockerHost).isEmpty }
        }
        let label = "com.docker.swarm.service.name=\(name)"
        let events = try EventLog(filters: ["label=\(label)"], host: node.dockerHost)
        defer { events.stop() }
        try sh(docker + [
            "service", "create", "--constraint", "node.hostname==\(node.hostname)", "--detach", "--quiet", "--name", name, "--replicas", "3", "--no-resolve-image",
            "--restart-delay", "0s", "--endpoint-mode", "dnsrr", "--stop-grace-period", "1s",
            "--health-cmd", "wget -q -O /dev/null http://127.0.0.1:8080/healthz || exit 1", "--health-interval", "1s",
            "--health-timeout", "1s", "--health-retries", "3", image,
        ])
        guard wait(90, { events.all(after: 0).filter { $0.action.hasPrefix("health_status: healthy") }.count >= 3 })
        else { throw BenchError("swarm did not start 3 healthy tasks within 90 s") }
        var figures = Figures()
        for i in 0..<kills {
            _ = wait(20) { running(label: label, host: node.dockerHost).count == 3 }
            let before = Set(running(label: label, host: node.dockerHost))
            guard let victim = before.sorted()[safe: i % max(1, before.count)] else { break }
            let mark = events.count
            try sh(docker + ["kill", victim])
            guard let killed = events.wait(after: mark, 10, { $0.id == victim && $0.action == "kill" }),
                  let started = events.wait(after: mark, 20, { $0.action == "start" && !before.contains($0.id) })
            else { throw BenchError("swarm kill \(i + 1): no replacement started within 20 s") }
            figures.running.append(Double(started.nano - killed.nano) / 1e9)
            if let healthy = events.wait(after: mark, 20, { $0.id == started.id && $0.action.hasPrefix("health_status: healthy") }) {
                figures.healthy.append(Double(healthy.nano - killed.nano) / 1e9)
            }
            Thread.sleep(forTimeInterval: 0.5)
        }
        _ = wait(20) { running(label: label, host: node.dockerHost).count == 3 }
        let before = Set(running(label: label, host: node.dockerHost))
        let mark = events.count
        let t0 = Date().timeIntervalSince1970
        try sh(docker + ["service", "scale", "--detach", "\(name)=10"])
        guard wait(60, { events.all(after: mark).filter { $0.action == "start" && !before.contains($0.id) }.count >= 7 })
        else { throw BenchError("swarm scale: 10 tasks did not start within 60 s") }
        let starts = events.all(after: mark).filter { $0.action == "start" && !before.contains($0.id) }.prefix(7)
        figures.scaleRunning = Double(starts.map(\.nano).max()!) / 1e9 - t0
        let ids = Set(starts.map(\.id))
        _ = wait(60) { events.all(after: mark).filter { ids.contains($0.id) && $0.action.hasPrefix("health_status: healthy") }.count >= 7 }
        let healthy = events.all(after: mark).filter { ids.contains($0.id) && $0.action.hasPrefix("health_status: healthy") }
        figures.scaleHealthy = healthy.count >= 7 ? Double(healthy.map(\.nano).max()!) / 1e9 - t0 : .nan
        return figures
    }

    // MARK: - Helpers

    static func berthBinary() throws -> String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let path = (exe as NSString).deletingLastPathComponent + "/berth"
        if !FileManager.default.isExecutableFile(atPath: path) || isStale(path, than: exe) {
            print("building berth next to berth-bench (swift build -c release --product berth) …")
            let release = exe.contains("/release/")
            try sh(["swift", "build", "-c", release ? "release" : "debug", "--product", "berth"], quiet: false)
        }
        guard FileManager.default.isExecutableFile(atPath: path) else { throw BenchError("no berth binary at \(path)") }
        return path
    }

    static func isStale(_ path: String, than other: String) -> Bool {
        let a = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? .distantPast
        let b = (try? FileManager.default.attributesOfItem(atPath: other)[.modificationDate] as? Date) ?? .distantPast
        return a < b.addingTimeInterval(-3600)
    }

    static func running(label: String, host: String? = nil) -> [String] {
        ((try? sh(["docker"] + (host.map { ["-H", $0] } ?? []) + ["ps", "-q", "--no-trunc", "--filter", "label=\(label)", "--filter", "status=running"])) ?? "")
            .split(separator: "\n").map(String.init)
    }

    @discardableResult
    static func sh(_ args: [String], quiet: Bool = true) throws -> String {
        let r = try ProcessRunner.program(args, timeout: .seconds(3600))
        if !quiet { FileHandle.standardError.write(Data(r.stderr.utf8)) }
        guard r.status == 0 else { throw BenchError("\(args.joined(separator: " ")) exited with \(r.status)") }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func wait(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return condition()
    }

    static func median(_ v: [Double]) -> Double {
        guard !v.isEmpty else { return .nan }
        let s = v.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// Nearest rank.
    static func p95(_ v: [Double]) -> Double {
        guard !v.isEmpty else { return .nan }
        let s = v.sorted()
        return s[min(s.count - 1, Int((0.95 * Double(s.count)).rounded(.up)) - 1)]
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

extension Array {
    subscript(safe i: Int) -> Element? { indices.contains(i) ? self[i] : nil }
}

/// `docker events --format '{{json .}}'` in the background: container events with the
/// engine's own nanosecond times.
final class EventLog: @unchecked Sendable {  // `events` is guarded by `lock`
    struct Event { var nano: Int64; var action: String; var id: String }
    private let lock = NSLock()
    private var events: [Event] = []
    private var process: ChildProcess?

    init(filters: [String], host: String? = nil) throws {
        process = try ChildProcess.program(
            ["docker"] + (host.map { ["-H", $0] } ?? []) + ["events", "--format", "{{json .}}", "--filter", "type=container"] + filters.flatMap { ["--filter", $0] },
            stdout: .lines { [weak self] line in
                guard let self,
                    let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                    let nano = (obj["timeNano"] as? NSNumber)?.int64Value, let action = obj["Action"] as? String,
                    let id = obj["id"] as? String ?? (obj["Actor"] as? [String: Any])?["ID"] as? String
                else { return }
                self.lock.withLock { self.events.append(Event(nano: nano, action: action, id: id)) }
            })
        Thread.sleep(forTimeInterval: 0.3)
    }

    var count: Int { lock.withLock { events.count } }
    func all(after mark: Int) -> [Event] { lock.withLock { Array(events.dropFirst(mark)) } }

    func wait(after mark: Int, _ seconds: Double, _ match: (Event) -> Bool) -> Event? {
        var found: Event?
        _ = HealBench.wait(seconds) {
            found = all(after: mark).first(where: match)
            return found != nil
        }
        return found
    }

    func stop() {
        process?.terminate()
    }
}
