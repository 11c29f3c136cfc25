import BerthTestSupport
import Foundation
import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#endif

let swarmBenchmark = Benchmark(
    name: "swarm",
    summary: "berth --runtime swarm on the 3-node Swarm vs docker stack deploy / service update: apply, exit codes, update under load, node kill",
    run: SwarmRuntimeBench.run)

/// `swift run -c release berth-bench swarm [--replicas 10] [--rounds 3] [--clients 4] [--slow 4]`
///
/// Berth driving the 3-node Swarm of `scripts/swarm-cluster.sh` (brought up for the run, torn
/// down at the end, also on failure or SIGINT/SIGTERM; never the shared dockerd), next to
/// Docker's own tools on the same cluster in the same run:
///
/// 1. **Apply from nothing**: one service of `--replicas` replicas of shop/customer:1.0
///    (health http /healthz every 200 ms, 2 retries, start-first updates, host-mode port
///    8080). Berth: `berth apply --runtime swarm` (returns once every task runs and passed
///    its check). Docker: `docker stack deploy` of the equivalent compose file (the same
///    health check, `endpoint_mode: dnsrr`, update and restart config, host-mode port): the
///    time the command takes (it does not wait), the time until `docker service ls` shows
///    every replica running (polled every 100 ms), and `docker stack deploy --detach=false`
///    (the CLI's own wait). Rounds alternate; every run starts from nothing.
/// 2. **Exit codes** of an update to shop/booking:broken (its check never passes; Swarm
///    rolls back): `berth apply`, `docker stack deploy --detach=false`, `docker service
///    update --detach=false`. Right means ≠ 0 (the change did not happen).
/// 3. **Update under load** 1.0 → 1.1 of 3 replicas: Berth's `berth apply` through
///    `berth proxy --runtime swarm` (loopback) vs `docker service update --update-order
///    start-first` behind HAProxy (the `update` bench's Swarm side, see SwarmBench.swift):
///    failed requests and the command's duration.
/// 4. **Node kill**: 6 replicas through `berth proxy --runtime swarm` under load; node 3 is
///    hard-killed (its dockerd, containerd and containers). Time from the kill to the last
///    failed request (then 0 errors), to Swarm reporting the node down, and to all 6 tasks
///    running on the other nodes; failed requests, and how many of them started after the
///    kill (the ones in flight on the dead node cannot be replayed by a TCP balancer).
enum SwarmRuntimeBench {
    static let project = "swarmrt"

    static func run(_ args: [String]) throws {
        func option(_ name: String, _ fallback: Int) -> Int {
            args.firstIndex(of: name).flatMap { i in i + 1 < args.count ? Int(args[i + 1]) : nil } ?? fallback
        }
        let replicas = option("--replicas", 10)
        let rounds = option("--rounds", 3)
        let clients = option("--clients", 4)
        let slow = option("--slow", 4)
        let berth = try ApplyBench.berthBinary()
        for image in ["shop/customer:1.0", "shop/customer:1.1", "shop/booking:1.0", "shop/booking:broken"] {
            guard try SwarmBench.sh([SwarmBench.docker, "image", "inspect", image]).status == 0 else {
                throw ApplyBench.BenchError("image \(image) is missing: run samples/build-images.sh")
            }
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("swarmrt-\(getpid())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let cleanup = Cleanup(scratch: scratch)
        cleanup.install()
        defer { cleanup.run() }
        try SwarmBench.buildBalancerImage(scratch: scratch)

        let started = Date()
        cleanup.swarm = true
        let cluster = try SwarmCluster.up()
        SwarmBench.swarmHost = cluster.managerHost
        let driver = (try? SwarmBench.swarm(["info", "--format", "{{.Driver}} {{.ServerVersion}}"]).out) ?? "?"
        print("== swarm: berth --runtime swarm vs docker stack deploy / service update, 3-node Swarm (scripts/swarm-cluster.sh, up in \(String(format: "%.1f", Date().timeIntervalSince(started))) s; engine \(driver)), load average \(SwarmBench.loadAverage())")
        let side = Side(berth: berth, scratch: scratch, cluster: cluster)

        // 1. Apply from nothing.
        print("-- apply of \(replicas) replicas of shop/customer:1.0 from nothing (health http every 200 ms), \(rounds) round(s)")
        var berthApply: [Double] = [], stackReturn: [Double] = [], stackRunning: [Double] = [], stackWaited: [Double] = []
        for round in 1...rounds {
            let b = try side.berthApplyFromNothing(replicas: replicas, round: round)
            let (returned, running) = try side.stackDeployFromNothing(replicas: replicas, detach: true)
            let (waited, _) = try side.stackDeployFromNothing(replicas: replicas, detach: false)
            print(String(format: "   round %d: berth apply %.2f s | stack deploy returns %.2f s, all running %.2f s | stack deploy --detach=false %.2f s", round, b, returned, running, waited))
            berthApply.append(b)
            stackReturn.append(returned)
            stackRunning.append(running)
            stackWaited.append(waited)
        }
        func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
        print(String(format: "   median: berth apply (waits for all healthy) %.2f s; docker stack deploy %.2f s (returns before any task runs), + waiting until all run %.2f s; --detach=false %.2f s", median(berthApply), median(stackReturn), median(stackRunning), median(stackWaited)))
        print("   target: berth's apply-and-wait no slower than stack deploy-and-wait: \(median(berthApply) <= median(stackRunning) ? "met" : "NOT met") (\(String(format: "%.2f", median(berthApply) / median(stackRunning)))×)")

        // 2. Exit codes of a broken update.
        print("-- exit code of an update to shop/booking:broken (health check never passes; Swarm rolls it back)")
        let codes = try side.brokenUpdateExitCodes()
        for (name, code, detail) in codes {
            print("   \(name.padding(toLength: 44, withPad: " ", startingAt: 0)) exit \(code) \(code != 0 ? "(right)" : "(WRONG: the update did not happen)") \(detail)")
        }
        let berthRight = codes.first.map { $0.1 != 0 } ?? false
        print("   target: berth's exit code right where stack deploy's is wrong: \(berthRight ? "met" : "NOT met")")

        // 3. Update under load.
        print("-- update 1.0 → 1.1 of 3 replicas under load (\(clients) clients, new connection per request; \(slow) holding each request 300 ms), \(rounds) round(s)")
        let haproxy = try SwarmBench.SwarmSetup.start(cleanup: cleanup, scratch: scratch, resolveMs: 200, cluster: cluster)
        var berthFailed = 0, berthSent = 0, swarmFailed = 0, swarmSent = 0
        for round in 1...rounds {
            let b = try side.berthUpdateUnderLoad(round: round, clients: clients, slow: slow, cleanup: cleanup)
            let s = try haproxy.round(clients: clients, slow: slow)
            print("   round \(round): berth apply + berth proxy: \(b.load.line) | held: \(b.slow.line) | \(String(format: "%.1f", b.seconds)) s;  service update start-first + haproxy: \(s.load.line) | held: \(s.slow.line) | \(String(format: "%.1f", s.seconds)) s")
            berthFailed += b.load.failed + b.slow.failed
            berthSent += b.load.sent + b.slow.sent
            swarmFailed += s.load.failed + s.slow.failed
            swarmSent += s.load.sent + s.slow.sent
        }
        print("   failed requests: berth \(berthFailed) of \(berthSent), docker service update start-first \(swarmFailed) of \(swarmSent)")
        print("   target: zero failed requests for berth: \(berthFailed == 0 ? "met" : "NOT met")")

        // 4. Node kill (last: the cluster stays one node short until it is torn down).
        print("-- node 3 hard-killed under load through berth proxy --runtime swarm (6 replicas)")
        let kill = try side.nodeKill(clients: clients, cleanup: cleanup)
        print(kill)
        print("load average at the end: \(SwarmBench.loadAverage())")
    }
}

/// The sides of the bench: a Berth project or a stack on the cluster, named from `swarmrt`.
struct Side {
    let berth: URL
    let scratch: URL
    let cluster: SwarmCluster

    var environment: [String: String] {
        ["DOCKER_HOST": cluster.managerHost, "BERTH_RUNTIME": "swarm", "XDG_STATE_HOME": scratch.appendingPathComponent("state").path]
    }

    // MARK: - Berth

    /// A fresh Berth project (git repository) holding `manifests`, and its name.
    func berthProject(_ name: String, _ manifests: [String: String]) throws -> (URL, String) {
        let project = "\(SwarmRuntimeBench.project)-\(name)"
        let repo = scratch.appendingPathComponent(project)
        try? FileManager.default.removeItem(at: repo)
        try FileManager.default.createDirectory(at: repo.appendingPathComponent("manifests"), withIntermediateDirectories: true)
        try ApplyBench.git(repo, ["init", "-q"])
        try commit(repo, manifests, "first")
        return (repo, project)
    }

    func commit(_ repo: URL, _ manifests: [String: String], _ message: String) throws {
        for (name, yaml) in manifests {
            try yaml.write(to: repo.appendingPathComponent("manifests/\(name).yaml"), atomically: true, encoding: .utf8)
        }
        try ApplyBench.git(repo, ["add", "-A"])
        try ApplyBench.git(repo, ["commit", "-qm", message])
    }

    func apply(_ repo: URL, _ project: String) throws -> SwarmBench.Output {
        try SwarmBench.run(berth.path, ["apply", "--auto-approve", "--repo", repo.path, "--project", project], environment: environment)
    }

    static func manifest(_ name: String, image: String, replicas: Int, publish: Int? = nil) -> String {
        """
        apiVersion: berth/v1
        kind: Service
        metadata:
          name: \(name)
        spec:
          image: \(image)
          replicas: \(replicas)
          ports:
            - containerPort: 8080\(publish.map { "\n      publish: \($0)" } ?? "")
          health:
            http: {path: /healthz, port: 8080}
            interval: 200ms
            timeout: 1s
            failureThreshold: 2
          update: {strategy: rolling, maxSurge: 1, maxUnavailable: 0, progressDeadline: 60s, onFailure: rollback}
          stopGracePeriod: 1s

        """
    }

    func berthApplyFromNothing(replicas: Int, round: Int) throws -> Double {
        let (repo, project) = try berthProject("apply\(round)", ["customer": Self.manifest("customer", image: "shop/customer:1.0", replicas: replicas)])
        defer { removeEverything(project) }
        var result = SwarmBench.Output(status: -1, out: "", err: "")
        let seconds = try ApplyBench.timed { result = try apply(repo, project) }
        guard result.status == 0 else { throw ApplyBench.BenchError("berth apply failed: \(result.err)") }
        let running = try runningTasks(project)
        guard running == replicas else { throw ApplyBench.BenchError("berth apply returned with \(running) of \(replicas) tasks running") }
        return seconds
    }

    // MARK: - docker stack deploy

    /// The compose file equivalent to `manifest` (as SwarmServiceMapping maps it).
    static func compose(image: String, replicas: Int) -> String {
        """
        version: "3.8"
        services:
          customer:
            image: \(image)
            ports:
              - {target: 8080, mode: host, protocol: tcp}
            healthcheck:
              test: ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8080/healthz"]
              interval: 200ms
              timeout: 1s
              retries: 2
              start_period: 0s
            stop_grace_period: 1s
            deploy:
              replicas: \(replicas)
              endpoint_mode: dnsrr
              restart_policy: {condition: any, delay: 500ms}
              update_config: {parallelism: 1, delay: 0s, order: start-first, failure_action: rollback, monitor: 1600ms, max_failure_ratio: 0}
              rollback_config: {parallelism: 1, order: start-first}
            networks: [default]
        networks:
          default:
            driver: overlay
            attachable: true

        """
    }

    func stackDeploy(_ stack: String, image: String, replicas: Int, detach: Bool) throws -> SwarmBench.Output {
        let file = scratch.appendingPathComponent("\(stack).yaml")
        try Self.compose(image: image, replicas: replicas).write(to: file, atomically: true, encoding: .utf8)
        return try SwarmBench.swarm(
            ["stack", "deploy", "--resolve-image", "never", "--detach=\(detach)", "-c", file.path, stack])
    }

    /// (the command's time, the time until every replica runs).
    func stackDeployFromNothing(replicas: Int, detach: Bool) throws -> (Double, Double) {
        let stack = "\(SwarmRuntimeBench.project)-stack"
        defer { removeEverything(stack) }
        let clock = ContinuousClock()
        let start = clock.now
        let r = try stackDeploy(stack, image: "shop/customer:1.0", replicas: replicas, detach: detach)
        let returned = ApplyBench.seconds(clock.now - start)
        guard r.status == 0 else { throw ApplyBench.BenchError("docker stack deploy failed: \(r.err)") }
        guard SwarmBench.waitUntil(seconds: 120, { (try? runningTasks(stack)) == replicas }) else {
            throw ApplyBench.BenchError("the stack did not reach \(replicas) running tasks within 120 s")
        }
        return (returned, ApplyBench.seconds(clock.now - start))
    }

    // MARK: - Exit codes

    func brokenUpdateExitCodes() throws -> [(String, Int32, String)] {
        var codes: [(String, Int32, String)] = []
        // Berth.
        do {
            let (repo, project) = try berthProject("broken", ["booking": Self.manifest("booking", image: "shop/booking:1.0", replicas: 3)])
            defer { removeEverything(project) }
            guard try apply(repo, project).status == 0 else { throw ApplyBench.BenchError("berth apply of booking 1.0 failed") }
            try commit(repo, ["booking": Self.manifest("booking", image: "shop/booking:broken", replicas: 3)], "broken")
            var r = SwarmBench.Output(status: -1, out: "", err: "")
            let seconds = try ApplyBench.timed { r = try apply(repo, project) }
            let reason = r.err.split(separator: "\n").first { $0.hasPrefix("  booking: rollout of revision ") }
                .map { $0.trimmingCharacters(in: .whitespaces) } ?? "(no reason printed)"
            codes.append(("berth apply", r.status, "in \(String(format: "%.1f", seconds)) s, runs \(try images(project)); \(reason)"))
        }
        // docker stack deploy --detach=false, and docker service update --detach=false.
        let stack = "\(SwarmRuntimeBench.project)-brk"
        defer { removeEverything(stack) }
        let file = scratch.appendingPathComponent("\(stack).yaml")
        func deploy(_ image: String) throws -> SwarmBench.Output {
            let compose = Self.compose(image: image, replicas: 3).replacingOccurrences(of: "customer:", with: "booking:")
            try compose.write(to: file, atomically: true, encoding: .utf8)
            return try SwarmBench.swarm(["stack", "deploy", "--resolve-image", "never", "--detach=false", "-c", file.path, stack])
        }
        guard try deploy("shop/booking:1.0").status == 0 else { throw ApplyBench.BenchError("stack deploy of booking 1.0 failed") }
        var r = SwarmBench.Output(status: -1, out: "", err: "")
        var seconds = try ApplyBench.timed { r = try deploy("shop/booking:broken") }
        codes.append(("docker stack deploy --detach=false", r.status, "in \(String(format: "%.1f", seconds)) s, runs \(try images(stack)); \(try updateState(stack))"))
        seconds = try ApplyBench.timed {
            r = try SwarmBench.swarm(["service", "update", "--detach=false", "--no-resolve-image", "--image", "shop/booking:broken", "\(stack)_booking"])
        }
        let said = (r.err + "\n" + r.out).split(separator: "\n").last { $0.contains("roll") }
            .map { "says: " + String($0.trimmingCharacters(in: .whitespaces).prefix(120)) } ?? "says nothing of a rollback"
        codes.append(("docker service update --detach=false", r.status, "in \(String(format: "%.1f", seconds)) s, runs \(try images(stack)); \(said)"))
        return codes
    }

    /// The images of the running tasks, counted.
    func images(_ namespace: String) throws -> String {
        let out = try SwarmBench.swarm(["stack", "ps", namespace, "--filter", "desired-state=running", "--format", "{{.Image}}"]).out
        var counts: [String: Int] = [:]
        for line in out.split(separator: "\n") { counts[String(line), default: 0] += 1 }
        return counts.keys.sorted().map { "\(counts[$0]!)× \($0)" }.joined(separator: ", ")
    }

    func updateState(_ stack: String) throws -> String {
        let out = try SwarmBench.swarm(["service", "inspect", "\(stack)_booking", "--format", "{{if .UpdateStatus}}{{.UpdateStatus.State}}: {{.UpdateStatus.Message}}{{end}}"]).out
        return out.isEmpty ? "no update status" : "UpdateStatus \(out)"
    }

    // MARK: - Update under load

    func berthUpdateUnderLoad(round: Int, clients: Int, slow: Int, cleanup: Cleanup) throws
        -> (load: UpdateLoad.Result, slow: UpdateLoad.Result, seconds: Double)
    {
        let publish = try SwarmBench.freeLoopbackPort()
        let (repo, project) = try berthProject("up\(round)", ["customer": Self.manifest("customer", image: "shop/customer:1.0", replicas: 3, publish: publish)])
        defer { removeEverything(project) }
        guard try apply(repo, project).status == 0 else { throw ApplyBench.BenchError("berth apply of customer 1.0 failed") }
        let proxy = try startProxy(project, publish: publish, cleanup: cleanup)
        defer { cleanup.stop(pid: proxy.pid) }
        try commit(repo, ["customer": Self.manifest("customer", image: "shop/customer:1.1", replicas: 3, publish: publish)], "1.1")
        let (load, held, seconds) = try SwarmBench.underLoad(port: publish, host: "127.0.0.1", clients: clients, slow: slow) {
            let r = try apply(repo, project)
            guard r.status == 0 else { throw ApplyBench.BenchError("berth apply of customer 1.1 failed: \(r.err)") }
        }
        guard load.bodies["customer 1.1\n", default: 0] > 0 else {
            throw ApplyBench.BenchError("no request saw customer 1.1 after berth apply: \(load.bodies)")
        }
        return (load, held, seconds)
    }

    /// `berth proxy --runtime swarm` for `project` on loopback, once it serves `publish`.
    func startProxy(_ project: String, publish: Int, cleanup: Cleanup) throws -> ChildProcess {
        let log = scratch.appendingPathComponent("proxy-\(project).log")
        let proxy = try ChildProcess(
            berth, ["proxy", "--project", project, "--state-dir", scratch.appendingPathComponent("proxy-\(project)").path, "--bind", "127.0.0.1"],
            environment: ProcessInfo.processInfo.environment.merging(environment) { $1 }, stderr: .file(log.path))
        cleanup.add(pid: proxy.pid)
        guard SwarmBench.waitUntil(seconds: 20, { (try? SwarmBench.get(port: publish, path: "/version"))?.hasPrefix("customer") == true }) else {
            throw ApplyBench.BenchError("berth proxy does not serve \(publish); its log:\n\((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        }
        return proxy
    }

    // MARK: - Node kill

    func nodeKill(clients: Int, cleanup: Cleanup) throws -> String {
        let publish = try SwarmBench.freeLoopbackPort()
        let (repo, project) = try berthProject("kill", ["customer": Self.manifest("customer", image: "shop/customer:1.0", replicas: 6, publish: publish)])
        defer { removeEverything(project) }
        guard try apply(repo, project).status == 0 else { throw ApplyBench.BenchError("berth apply of 6 customers failed") }
        let proxy = try startProxy(project, publish: publish, cleanup: cleanup)
        defer { cleanup.stop(pid: proxy.pid) }
        let victim = cluster.node(3)
        let onVictim = try SwarmBench.swarm(["service", "ps", "\(project)_customer", "--filter", "desired-state=running", "--filter", "node=\(victim.hostname)", "-q"]).out
            .split(separator: "\n").count
        let load = TimedLoad(host: "127.0.0.1", port: publish, clients: clients)
        load.start()
        defer { _ = load.finish() }
        Thread.sleep(forTimeInterval: 2)
        let clock = ContinuousClock()
        let killed = clock.now
        try cluster.killNode(3)
        // Every process of the node is dead once kill-node returns: a request that starts
        // later never reaches it through a working balancer.
        let dead = clock.now
        var down: Double?
        var full: Double?
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, down == nil || full == nil {
            if down == nil, (try? SwarmBench.swarm(["node", "inspect", victim.hostname, "--format", "{{.Status.State}}"]).out) == "down" {
                down = ApplyBench.seconds(clock.now - killed)
            }
            if full == nil, down != nil {
                let elsewhere = (try? SwarmBench.swarm(["service", "ps", "\(project)_customer", "--filter", "desired-state=running", "--format", "{{.Node}} {{.CurrentState}}"]).out) ?? ""
                let running = elsewhere.split(separator: "\n").filter { !$0.hasPrefix(victim.hostname + " ") && $0.contains(" Running ") }.count
                if running == 6 { full = ApplyBench.seconds(clock.now - killed) }
            }
            usleep(100_000)
        }
        Thread.sleep(forTimeInterval: 3)
        let result = load.finish()
        let after = result.failures.filter { $0.started > dead }
        let last = result.failures.map(\.ended).max().map { $0 > killed ? ApplyBench.seconds($0 - killed) : 0 } ?? 0
        var reasons: [String: Int] = [:]
        for failure in result.failures { reasons[failure.reason, default: 0] += 1 }
        let why = reasons.keys.sorted().map { "\($0) ×\(reasons[$0]!)" }.joined(separator: ", ")
        func s(_ v: Double?) -> String { v.map { String(format: "%.1f s", $0) } ?? "not within 120 s" }
        return """
               \(onVictim) of 6 tasks ran on \(victim.hostname); kill-node took \(String(format: "%.2f", ApplyBench.seconds(dead - killed))) s; \(result.sent) requests, \(result.failures.count) failed\(why.isEmpty ? "" : " (\(why))"), \(after.count) of them started after the node was dead
               kill → last failed request \(String(format: "%.1f s", last)) (0 errors after); → node reported down \(s(down)); → 6 tasks running on the other nodes \(s(full))
               target: 0 failed requests that started after the node was dead: \(after.isEmpty ? "met" : "NOT met")
            """
    }

    // MARK: - Cluster helpers

    /// Running tasks of the stack or project `namespace` (Swarm calls a task with a health
    /// check running once it passed).
    func runningTasks(_ namespace: String) throws -> Int {
        let out = try SwarmBench.swarm(["stack", "ps", namespace, "--filter", "desired-state=running", "--format", "{{.CurrentState}}"]).out
        return out.split(separator: "\n").filter { $0.hasPrefix("Running") }.count
    }

    /// Removes a stack's or Berth project's services and network, and waits (bounded) until
    /// its tasks are gone, so the next run starts from nothing.
    func removeEverything(_ namespace: String) {
        let label = "label=com.docker.stack.namespace=\(namespace)"
        let names = ((try? SwarmBench.swarm(["service", "ls", "--filter", label, "--format", "{{.Name}}"]).out) ?? "")
            .split(separator: "\n").map(String.init)
        if !names.isEmpty { _ = try? SwarmBench.swarm(["service", "rm"] + names) }
        // Swarm stops the tasks' containers on their nodes after the service is gone. (A
        // node that does not answer — killed — has none running.)
        _ = SwarmBench.waitUntil(seconds: 60) {
            cluster.nodes.allSatisfy { node in
                names.allSatisfy { name in
                    let r = try? cluster.docker(["ps", "-q", "--filter", "label=com.docker.swarm.service.name=\(name)"], node: node.number, timeout: .seconds(10))
                    return r.map { $0.status != 0 || $0.stdout.isEmpty } ?? true
                }
            }
        }
        let networks = ((try? SwarmBench.swarm(["network", "ls", "-q", "--filter", label]).out) ?? "").split(separator: "\n").map(String.init)
            + ["berth-\(namespace)"]
        for network in networks { _ = try? SwarmBench.swarm(["network", "rm", network]) }
    }
}

/// A load client that keeps each failure's start and end (for "time to 0 errors").
final class TimedLoad: @unchecked Sendable {  // state behind `lock`
    struct Failure { var started: ContinuousClock.Instant; var ended: ContinuousClock.Instant; var reason: String }
    struct Result { var ok = 0; var failures: [Failure] = []; var sent: Int { ok + failures.count } }
    let host: String, port: Int, clients: Int
    private let lock = NSLock()
    private var result = Result()
    private var stopping = false
    private let done = DispatchSemaphore(value: 0)

    init(host: String, port: Int, clients: Int) {
        (self.host, self.port, self.clients) = (host, port, clients)
    }

    func start() {
        for _ in 0..<clients {
            Thread { [self] in
                let deadline = Date().addingTimeInterval(180)
                while lock.withLock({ !stopping && result.sent < 500_000 }), Date() < deadline {
                    let started = ContinuousClock.now
                    let outcome = UpdateLoad.request(host: host, port: port, path: "/version", stall: 0)
                    lock.withLock {
                        switch outcome {
                        case .success: result.ok += 1
                        case .failure(let f): result.failures.append(Failure(started: started, ended: .now, reason: f.reason))
                        }
                    }
                    usleep(5_000)
                }
                done.signal()
            }.start()
        }
    }

    @discardableResult
    func finish() -> Result {
        let waiting = lock.withLock {
            defer { stopping = true }
            return stopping ? 0 : clients
        }
        let deadline = DispatchTime.now() + 15
        for _ in 0..<waiting { _ = done.wait(timeout: deadline) }
        return lock.withLock { result }
    }
}
