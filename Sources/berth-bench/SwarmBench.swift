import BerthTestSupport
import Foundation
import NIOConcurrencyHelpers
import BerthTestSupport
#if canImport(Glibc)
import Glibc
#endif

let updateBenchmark = Benchmark(
    name: "update",
    summary: "failed requests during an image update 1.0 → 1.1 of 3 replicas under load: Berth vs Docker Swarm start-first",
    run: SwarmBench.run)

/// `swift run -c release berth-bench update [--rounds 3] [--clients 4] [--slow 4] [--resolve-ms 200]`
///
/// Failed requests while a 3-replica service's image goes from `shop/customer:1.0` to `1.1`,
/// under the same steady load, for Berth and for Docker Swarm, in one run; rounds alternate
/// Berth and Swarm.
///
/// - **Load** (the same client for both): `--clients` threads each send `GET /version
///   HTTP/1.0` on a new connection, then pause 5 ms; `--slow` threads send the request line,
///   hold it 300 ms, then finish it (a request in flight on a replica being retired). A
///   request fails when the connect fails, nothing or a non-200 answer arrives, or 5 s pass.
///   Bounded: 200,000 requests or 120 s per run. Load starts 1 s before the update and
///   stops 1 s after it returned.
/// - **Berth**: a git repository with the service (health http /healthz every 200 ms,
///   failureThreshold 2, maxSurge 1, maxUnavailable 0, stopGracePeriod 1s, one published
///   port); `berth proxy` (the release binary next to this one) as its own process on
///   loopback; `berth apply` of the commit that changes the image. The load goes to the
///   published port.
/// - **Swarm** (the 3-node cluster of `scripts/swarm-cluster.sh`, brought up for the run and
///   torn down at the end; never the shared dockerd): this machine has no IPVS, so neither the routing mesh nor VIPs work.
///   The service runs with `--endpoint-mode dnsrr` on an attachable overlay network, with
///   the same image, the same health check (busybox wget of /healthz, 200 ms, 2 retries),
///   `--update-order start-first --update-parallelism 1 --update-delay 0s`,
///   `--stop-grace-period 1s`, `--no-resolve-image` (no Docker Hub here). In front of it
///   HAProxy (Debian's, in a container built offline from the host's binary and its `ldd`
///   libraries), TCP mode like Berth's balancer: `server-template` over `tasks.<service>`
///   re-resolved through Docker's DNS every `--resolve-ms` (200 ms; `hold obsolete 0s`: a
///   task gone from DNS leaves at once), HTTP health check of /healthz every 200 ms (fall
///   2), least connections, running on node 1 with its port published on node 1's address,
///   a failed connect retried on another task (`retries 3`, `option redispatch 1`) — the
///   same balancer capabilities as `berth proxy`, so the difference is the orchestrator's
///   order of retiring a replica. `docker service update --image shop/customer:1.1`
///   (waits for convergence). The load goes to HAProxy's port on node 1's address.
///
/// What decides Swarm's result: its executor takes a task out of service discovery, waits a
/// hard-coded 2 s (`defaultGossipConvergeDelay`, moby
/// `daemon/cluster/executor/container/controller.go`, `Shutdown`) and only then sends the
/// stop signal. A balancer that follows DNS faster than 2 s (200 ms here) stops sending it
/// connections in time, and requests shorter than what is left of the 2 s finish; with
/// `--resolve-ms 5000` (slower than the delay) requests do fail.
///
/// Everything is named `swarmbench-…` and removed at the end, also on failure or SIGINT/
/// SIGTERM (the service, network, HAProxy container, the Berth project's containers and
/// network, the `berth proxy` process by pid); the HAProxy image `swarmbench-haproxy:local`
/// is kept for the next run.
enum SwarmBench {
    static let docker = ["/usr/local/bin/docker", "/usr/bin/docker"].first { FileManager.default.isExecutableFile(atPath: $0) }
        ?? "/usr/bin/docker"
    static let service = "swarmbench-customer"
    static let network = "swarmbench-net"
    static let balancer = "swarmbench-haproxy"
    static let balancerImage = "swarmbench-haproxy:local"
    /// The 3-node cluster's manager, once it is up.
    nonisolated(unsafe) static var swarmHost = ""

    /// The docker CLI against the cluster's manager.
    static func swarm(_ arguments: [String]) throws -> Output {
        try sh([docker, "-H", swarmHost] + arguments)
    }

    struct Round {
        var berth: UpdateLoad.Result
        var berthSlow: UpdateLoad.Result
        var berthSeconds: Double
        var swarm: UpdateLoad.Result
        var swarmSlow: UpdateLoad.Result
        var swarmSeconds: Double
    }

    static func run(_ args: [String]) throws {
        func option(_ name: String, _ fallback: Int) -> Int {
            args.firstIndex(of: name).flatMap { i in i + 1 < args.count ? Int(args[i + 1]) : nil } ?? fallback
        }
        let rounds = option("--rounds", 3)
        let clients = option("--clients", 4)
        let slow = option("--slow", 4)
        let resolveMs = option("--resolve-ms", 200)
        let berth = try ApplyBench.berthBinary()
        for image in ["shop/customer:1.0", "shop/customer:1.1"] {
            guard try sh([docker, "image", "inspect", image]).status == 0 else {
                throw ApplyBench.BenchError("image \(image) is missing: run samples/build-images.sh")
            }
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("swarmbench-\(getpid())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let cleanup = Cleanup(scratch: scratch)
        cleanup.install()
        defer { cleanup.run() }

        print("== update: image shop/customer:1.0 → 1.1 of 3 replicas under load (\(clients) clients, new connection per request, 5 ms apart; \(slow) clients holding each request 300 ms), \(rounds) round(s), load average \(loadAverage())")
        try buildBalancerImage(scratch: scratch)
        print("   berth side: berth apply of the commit that changes the image; berth proxy (its own process, loopback) in front; health http every 200 ms, maxSurge 1, maxUnavailable 0, stopGracePeriod 1s")
        print("   (no IPVS on this machine: Swarm's routing mesh and VIPs do not work, so its tasks use --endpoint-mode dnsrr behind a balancer with the same abilities as berth proxy)")
        print("   swarm side: dnsrr service behind HAProxy \(haproxyVersion()) in TCP mode, tasks.\(service) re-resolved every \(resolveMs) ms, health checks every 200 ms, connect retried on another task; --update-order start-first, same health check and stop grace; Swarm itself takes a task out of DNS 2 s before it sends SIGTERM")
        let swarm = try SwarmSetup.start(cleanup: cleanup, scratch: scratch, resolveMs: resolveMs)

        var results: [Round] = []
        for round in 1...rounds {
            let b = try berthRound(berth: berth, scratch: scratch, round: round, clients: clients, slow: slow, cleanup: cleanup)
            print("   round \(round) berth: \(b.load.line) | held 300 ms: \(b.slow.line) | apply \(String(format: "%.1f", b.seconds)) s")
            let s = try swarm.round(clients: clients, slow: slow)
            print("   round \(round) swarm: \(s.load.line) | held 300 ms: \(s.slow.line) | update \(String(format: "%.1f", s.seconds)) s")
            results.append(
                Round(
                    berth: b.load, berthSlow: b.slow, berthSeconds: b.seconds, swarm: s.load, swarmSlow: s.slow,
                    swarmSeconds: s.seconds))
        }
        print("")
        print("failed requests during the update (all rounds; per round in brackets)")
        func row(_ name: String, _ pick: (Round) -> UpdateLoad.Result, _ held: (Round) -> UpdateLoad.Result) {
            let sent = results.map { pick($0).sent + held($0).sent }.reduce(0, +)
            let failed = results.map { pick($0).failed + held($0).failed }.reduce(0, +)
            let per = results.map { "\(pick($0).failed)+\(held($0).failed)" }.joined(separator: ", ")
            print("  \(name.padding(toLength: 44, withPad: " ", startingAt: 0)) \(String(format: "%7d", failed)) of \(String(format: "%7d", sent))  [\(per)]")
        }
        row("berth apply + berth proxy", \.berth, \.berthSlow)
        row("swarm start-first (dnsrr) + haproxy tcp", \.swarm, \.swarmSlow)
        let berthFailed = results.map { $0.berth.failed + $0.berthSlow.failed }.reduce(0, +)
        print("target: zero failed requests for berth: \(berthFailed == 0 ? "met" : "NOT met")")
        print("load average at the end: \(loadAverage())")
    }

    // MARK: - Berth

    static func berthRound(
        berth: URL, scratch: URL, round: Int, clients: Int, slow: Int, cleanup: Cleanup
    ) throws -> (load: UpdateLoad.Result, slow: UpdateLoad.Result, seconds: Double) {
        let project = "swarmbench-berth-\(getpid())-\(round)"
        let repo = scratch.appendingPathComponent(project)
        let state = scratch.appendingPathComponent("state-\(round)")
        let stateDir = state.appendingPathComponent("berth/\(project)")
        try FileManager.default.createDirectory(at: repo.appendingPathComponent("manifests"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: stateDir, withIntermediateDirectories: true)
        cleanup.add(project: project)
        defer { cleanup.removeProject(project) }
        let publish = try freeLoopbackPort()
        let environment = ["XDG_STATE_HOME": state.path]

        let proxyLog = stateDir.appendingPathComponent("proxy.log")
        let proxy = try ChildProcess(
            berth, ["proxy", "--project", project, "--state-dir", stateDir.path, "--bind", "127.0.0.1"],
            stderr: .file(proxyLog.path))
        cleanup.add(pid: proxy.pid)
        defer {
            cleanup.stop(pid: proxy.pid)
            proxy.terminate(SIGKILL)
        }
        let statePath = stateDir.appendingPathComponent("proxy-\(project).json").path
        guard waitUntil(seconds: 20, { FileManager.default.fileExists(atPath: statePath) }) else {
            throw ApplyBench.BenchError("berth proxy wrote no state file; its log:\n\((try? String(contentsOf: proxyLog, encoding: .utf8)) ?? "")")
        }

        try writeBerthManifest(repo, image: "shop/customer:1.0", publish: publish)
        try ApplyBench.git(repo, ["init", "-q"])
        try ApplyBench.git(repo, ["add", "-A"])
        try ApplyBench.git(repo, ["commit", "-qm", "customer 1.0"])
        let first = try run(berth.path, ["apply", "--auto-approve", "--repo", repo.path, "--project", project], environment: environment)
        guard first.status == 0 else { throw ApplyBench.BenchError("berth apply (1.0) failed: \(first.err)") }
        guard waitUntil(seconds: 20, { (try? get(port: publish, path: "/version")) == "customer 1.0\n" }) else {
            throw ApplyBench.BenchError("the published port \(publish) does not serve customer 1.0")
        }

        try writeBerthManifest(repo, image: "shop/customer:1.1", publish: publish)
        try ApplyBench.git(repo, ["commit", "-qam", "customer 1.1"])
        let lastApply = NIOLockedValueBox("")
        let (load, held, seconds) = try underLoad(port: publish, host: "127.0.0.1", clients: clients, slow: slow) {
            let r = try run(berth.path, ["apply", "--auto-approve", "--repo", repo.path, "--project", project], environment: environment)
            lastApply.withLockedValue { $0 = r.err }
            guard r.status == 0 else { throw ApplyBench.BenchError("berth apply (1.1) failed: \(r.err)") }
        }
        guard load.bodies["customer 1.1\n", default: 0] > 0 else {
            throw ApplyBench.BenchError("no request saw customer 1.1 after berth apply: \(load.bodies)")
        }
        if load.failed + held.failed > 0 {
            // Keep what explains the failures: the proxy's log and apply's output.
            let keep = FileManager.default.temporaryDirectory.appendingPathComponent("swarmbench-berth-\(getpid())-\(round)")
            try? FileManager.default.createDirectory(at: keep, withIntermediateDirectories: true)
            try? FileManager.default.copyItem(at: proxyLog, to: keep.appendingPathComponent("proxy.log"))
            try? lastApply.withLockedValue { $0 }.write(to: keep.appendingPathComponent("apply.log"), atomically: true, encoding: .utf8)
            print("   (berth failed requests: proxy log and apply output kept in \(keep.path))")
        }
        return (load, held, seconds)
    }

    static func writeBerthManifest(_ repo: URL, image: String, publish: Int) throws {
        let yaml = """
            apiVersion: berth/v1
            kind: Service
            metadata:
              name: customer
            spec:
              image: \(image)
              replicas: 3
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
                progressDeadline: 60s
                onFailure: rollback
              stopGracePeriod: 1s

            """
        try yaml.write(to: repo.appendingPathComponent("manifests/customer.yaml"), atomically: true, encoding: .utf8)
    }

    // MARK: - Swarm

    struct SwarmSetup {
        var scratch: URL
        /// HAProxy's address on the default bridge.
        var host: String
        var cleanup: Cleanup

        static func start(cleanup: Cleanup, scratch: URL, resolveMs: Int, cluster up: SwarmCluster? = nil) throws -> SwarmSetup {
            // The 3-node Swarm of scripts/swarm-cluster.sh, never the shared dockerd: other
            // work runs there, and it must never join a swarm.
            let started = Date()
            cleanup.swarm = true
            let cluster = try up ?? SwarmCluster.up()
            swarmHost = cluster.managerHost
            print("   3-node swarm (scripts/swarm-cluster.sh) up in \(String(format: "%.1f", Date().timeIntervalSince(started))) s; HAProxy and the service's first task run on node 1 (\(cluster.node(1).address))")
            let load = try sh(["/bin/sh", "-c", "\(docker) save \(balancerImage) | \(docker) -H \(cluster.managerHost) load -q"])
            guard load.status == 0 else { throw ApplyBench.BenchError("loading \(balancerImage) into node 1 failed: \(load.err)") }
            let net = try swarm(["network", "create", "--driver", "overlay", "--attachable", network])
            guard net.status == 0 else { throw ApplyBench.BenchError("docker network create \(network) failed: \(net.err)") }

            let config = scratch.appendingPathComponent("haproxy.cfg")
            try haproxyConfig(resolveMs: resolveMs).write(to: config, atomically: true, encoding: .utf8)
            // Node 1's dockerd shares this machine's file system: the bind mount works. Its
            // port 8080 is published on node 1's address, which the host reaches over the bridge.
            let run = try swarm([
                "run", "-d", "--name", balancer, "--network", network, "-p", "8080:8080", "-p", "8404:8404",
                "-v", "\(config.path):/haproxy.cfg:ro", balancerImage, "/usr/sbin/haproxy", "-db", "-f", "/haproxy.cfg",
            ])
            guard run.status == 0 else { throw ApplyBench.BenchError("starting HAProxy failed: \(run.err)") }
            return SwarmSetup(scratch: scratch, host: cluster.node(1).address, cleanup: cleanup)
        }

        /// Creates the service at 1.0, waits until HAProxy sees 3 healthy tasks, updates it
        /// to 1.1 under load, removes it.
        func round(clients: Int, slow: Int) throws -> (load: UpdateLoad.Result, slow: UpdateLoad.Result, seconds: Double) {
            let create = try swarm([
                "service", "create", "--detach=false", "--quiet", "--name", service, "--network", network,
                "--endpoint-mode", "dnsrr", "--replicas", "3", "--no-resolve-image",
                "--update-order", "start-first", "--update-parallelism", "1", "--update-delay", "0s",
                "--update-failure-action", "rollback", "--update-monitor", "1s", "--stop-grace-period", "1s",
                "--health-cmd", "wget -q -O /dev/null http://127.0.0.1:8080/healthz", "--health-interval", "200ms",
                "--health-timeout", "1s", "--health-retries", "2", "--health-start-period", "0s",
                "shop/customer:1.0",
            ])
            defer {
                _ = try? swarm(["service", "rm", service])
                _ = waitUntil(seconds: 30) { ((try? swarm(["service", "ps", "-q", service]).status) ?? 0) != 0 }
            }
            guard create.status == 0 else { throw ApplyBench.BenchError("docker service create failed: \(create.err)") }
            guard waitUntil(seconds: 30, { (try? healthyServers()) == 3 }) else {
                throw ApplyBench.BenchError("HAProxy does not see 3 healthy tasks of \(service): \((try? stats()) ?? "")")
            }
            guard waitUntil(seconds: 10, { (try? get(host: host, port: 8080, path: "/version")) == "customer 1.0\n" }) else {
                throw ApplyBench.BenchError("HAProxy at \(host):8080 does not serve customer 1.0")
            }
            let (load, held, seconds) = try underLoad(port: 8080, host: host, clients: clients, slow: slow) {
                let r = try swarm(["service", "update", "--detach=false", "--quiet", "--no-resolve-image", "--image", "shop/customer:1.1", service])
                guard r.status == 0 else { throw ApplyBench.BenchError("docker service update failed: \(r.err)") }
            }
            guard load.bodies["customer 1.1\n", default: 0] > 0 else {
                throw ApplyBench.BenchError("no request saw customer 1.1 after docker service update: \(load.bodies)")
            }
            return (load, held, seconds)
        }

        /// HAProxy's CSV statistics.
        func stats() throws -> String {
            try sh(["/usr/bin/curl", "-s", "-m", "2", "http://\(host):8404/stats;csv"]).out
        }

        /// Servers of backend `tasks` that are UP.
        func healthyServers() throws -> Int {
            try stats().split(separator: "\n").filter { line in
                let fields = line.split(separator: ",", omittingEmptySubsequences: false)
                return fields.count > 17 && fields[0] == "tasks" && fields[1].hasPrefix("task") && fields[17] == "UP"
            }.count
        }
    }

    static func haproxyConfig(resolveMs: Int) -> String {
        """
        global
            maxconn 4096
        defaults
            mode tcp
            timeout connect 2s
            timeout client 30s
            timeout server 30s
            retries 3
            option redispatch 1
        resolvers docker
            nameserver dns 127.0.0.11:53
            resolve_retries 3
            timeout resolve \(resolveMs)ms
            timeout retry 200ms
            hold valid \(resolveMs)ms
            hold other \(resolveMs)ms
            hold refused \(resolveMs)ms
            hold nx \(resolveMs)ms
            hold timeout \(resolveMs)ms
            hold obsolete 0s
            accepted_payload_size 8192
        frontend customer
            bind :8080
            default_backend tasks
        backend tasks
            balance leastconn
            option httpchk GET /healthz
            server-template task 10 tasks.\(service):8080 check inter 200ms fall 2 rise 1 resolvers docker init-addr none resolve-prefer ipv4
        frontend stats
            mode http
            bind :8404
            stats enable
            stats uri /stats

        """
    }

    static func haproxyVersion() -> String {
        let line = (try? sh(["/usr/sbin/haproxy", "-v"]).out.split(separator: "\n").first.map(String.init)) ?? nil
        return line?.split(separator: " ").dropFirst(2).first.map(String.init) ?? "?"
    }

    /// `swarmbench-haproxy:local` from the host's /usr/sbin/haproxy and the libraries `ldd`
    /// names (no registry): a root filesystem piped through `docker import`, as
    /// samples/build-images.sh builds the sample images. Kept when it exists.
    static func buildBalancerImage(scratch: URL) throws {
        if try sh([docker, "image", "inspect", balancerImage]).status == 0 { return }
        let haproxy = "/usr/sbin/haproxy"
        guard FileManager.default.isExecutableFile(atPath: haproxy) else {
            throw ApplyBench.BenchError("HAProxy is not installed: apt-get install haproxy")
        }
        let root = scratch.appendingPathComponent("haproxy-root")
        let script = """
            set -eu
            root='\(root.path)'
            mkdir -p "$root/usr/sbin" "$root/etc" "$root/tmp" "$root/var/lib/haproxy"
            cp -L \(haproxy) "$root/usr/sbin/haproxy"
            for lib in $(ldd \(haproxy) | awk '/=> \\// {print $3} /^\\t\\// {print $1}'); do
              mkdir -p "$root$(dirname "$lib")"
              cp -L "$lib" "$root$lib"
            done
            printf 'root:x:0:0:root:/:/bin/false\\nhaproxy:x:100:100::/var/lib/haproxy:/bin/false\\n' >"$root/etc/passwd"
            printf 'root:x:0:\\nhaproxy:x:100:\\n' >"$root/etc/group"
            chmod 1777 "$root/tmp"
            tar -C "$root" -c . | \(docker) import -c 'CMD ["/usr/sbin/haproxy", "-db", "-f", "/haproxy.cfg"]' - \(balancerImage) >/dev/null
            """
        let r = try sh(["/bin/sh", "-c", script])
        guard r.status == 0 else { throw ApplyBench.BenchError("building \(balancerImage) failed: \(r.err)") }
        print("   built \(balancerImage) from \(haproxy) (\(try sh([haproxy, "-v"]).out.split(separator: "\n").first ?? ""))")
    }

    // MARK: - Load

    /// Runs `update` under the steady load (started 1 s before, stopped 1 s after it
    /// returned); the two loads' results and how long `update` took.
    static func underLoad(
        port: Int, host: String, clients: Int, slow: Int, _ update: () throws -> Void
    ) throws -> (UpdateLoad.Result, UpdateLoad.Result, Double) {
        let load = UpdateLoad(host: host, port: port, clients: clients, stall: 0)
        let held = UpdateLoad(host: host, port: port, clients: slow, stall: 0.3)
        load.start()
        held.start()
        defer {
            load.finish()
            held.finish()
        }
        Thread.sleep(forTimeInterval: 1)
        let seconds = try ApplyBench.timed(update)
        Thread.sleep(forTimeInterval: 1)
        return (load.finish(), held.finish(), seconds)
    }

    /// One `GET PATH HTTP/1.0`; the body of a 200.
    static func get(host: String = "127.0.0.1", port: Int, path: String) throws -> String {
        switch UpdateLoad.request(host: host, port: port, path: path, stall: 0) {
        case .success(let body): return body
        case .failure(let failure): throw ApplyBench.BenchError(failure.reason)
        }
    }

    // MARK: - Helpers

    static func waitUntil(seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(100_000)
        }
        return condition()
    }

    /// A free TCP port on 127.0.0.1 in 20000–32000 (below the ephemeral range).
    static func freeLoopbackPort() throws -> Int {
        for _ in 0..<200 {
            let port = Int.random(in: 20000..<32000)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            var address = UpdateLoad.address(host: "0.0.0.0", port: port)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if bound == 0 { return port }
        }
        throw ApplyBench.BenchError("no free TCP port in 20000–32000")
    }

    static func loadAverage() -> String {
        ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?").split(separator: " ").prefix(3)
            .joined(separator: " ")
    }

    struct Output {
        var status: Int32
        var out: String
        var err: String
    }

    /// Runs a program to the end; stdout trimmed. Output goes through files (no pipe can fill).
    static func sh(_ arguments: [String]) throws -> Output {
        try run(arguments[0], Array(arguments.dropFirst()))
    }

    static func run(
        _ path: String, _ arguments: [String], environment extra: [String: String] = [:], cleaning: Bool = false
    ) throws -> Output {
        // Once interrupted, only the cleanup starts programs: the bench creates nothing more.
        if !cleaning, Cleanup.interrupted.withLockedValue({ $0 }) {
            throw ApplyBench.BenchError("interrupted")
        }
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        let r = try ProcessRunner.run(
            URL(fileURLWithPath: path), arguments, environment: env.merging(extra) { $1 }, timeout: .seconds(3600))
        return Output(status: r.status, out: r.stdout.trimmingCharacters(in: .whitespacesAndNewlines), err: r.stderr)
    }
}

/// Everything the bench created, removed by `run()` — at the end, on a thrown error, and on
/// SIGINT/SIGTERM (then the process exits 130/143).
final class Cleanup: @unchecked Sendable {  // state behind `lock`
    private let lock = NSLock()
    private let scratch: URL
    private var projects: [String] = []
    private var pids: [Int32] = []
    /// The 3-node cluster was (being) brought up: `run()` tears it down.
    var swarm = false
    private var done = false
    private var sources: [any DispatchSourceSignal] = []

    static let interrupted = NIOLockedValueBox(false)

    init(scratch: URL) { self.scratch = scratch }

    private func sh(_ arguments: [String]) throws -> SwarmBench.Output {
        try SwarmBench.run(arguments[0], Array(arguments.dropFirst()), cleaning: true)
    }

    func add(project: String) { lock.withLock { projects.append(project) } }
    func add(pid: Int32) { lock.withLock { pids.append(pid) } }

    func install() {
        for (number, code) in [(SIGINT, Int32(130)), (SIGTERM, Int32(143))] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                Cleanup.interrupted.withLockedValue { $0 = true }
                FileHandle.standardError.write(Data("berth-bench update: interrupted; cleaning up\n".utf8))
                run()
                exit(code)
            }
            source.resume()
            sources.append(source)
        }
    }

    /// SIGTERM to a process this bench started (by pid), SIGKILL after 10 s.
    func stop(pid: Int32) {
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, kill(pid, 0) == 0, !isZombie(pid) { usleep(50_000) }
        if kill(pid, 0) == 0, !isZombie(pid) { kill(pid, SIGKILL) }
        lock.withLock { pids.removeAll { $0 == pid } }
    }

    private func isZombie(_ pid: Int32) -> Bool {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return stat.split(separator: ")").last?.hasPrefix(" Z") ?? true
    }

    func removeProject(_ project: String) {
        let d = SwarmBench.docker
        _ = try? sh(["/bin/sh", "-c", """
            ids=$(\(d) ps -aq --filter label=berth.project=\(project)); [ -z "$ids" ] || \(d) rm -f $ids >/dev/null
            \(d) network rm berth-\(project) >/dev/null 2>&1 || true
            """])
        lock.withLock { projects.removeAll { $0 == project } }
    }

    func run() {
        let (first, pids, projects, swarm) = lock.withLock {
            defer { done = true }
            return (!done, self.pids, self.projects, self.swarm)
        }
        guard first else { return }
        for pid in pids { stop(pid: pid) }
        for project in projects { removeProject(project) }
        // The whole cluster goes: its services, HAProxy, network, daemons, namespaces.
        if swarm { SwarmCluster.down() }
        try? FileManager.default.removeItem(at: scratch)
    }
}

/// The load client for both sides, on its own threads: each of `clients` threads sends one
/// `GET /version HTTP/1.0` per new connection, then pauses 5 ms, until `finish()`, 200,000
/// requests or 120 s; with `stall`, the request line is sent, held that long, then the
/// rest. A request fails when the connect fails, the answer is not a 200 with a body, or
/// nothing arrives within 5 s.
final class UpdateLoad: @unchecked Sendable {  // state behind `lock`
    struct Failure: Error {
        var reason: String
    }

    struct Result {
        var ok = 0
        var failed = 0
        /// Failures by kind (connect, send, recv, answer), counted.
        var reasons: [String: Int] = [:]
        var bodies: [String: Int] = [:]
        var sent: Int { ok + failed }
        var line: String {
            let kinds = reasons.keys.sorted().map { "\($0) \(reasons[$0]!)" }.joined(separator: ", ")
            return "\(sent) requests, \(failed) failed\(kinds.isEmpty ? "" : " (\(kinds))")"
        }
    }

    let host: String
    let port: Int
    let clients: Int
    let stall: Double
    let limit = 200_000
    let seconds = 120.0
    private let lock = NSLock()
    private var result = Result()
    private var stopping = false
    private var running = 0
    private let done = DispatchSemaphore(value: 0)

    init(host: String, port: Int, clients: Int, stall: Double) {
        self.host = host
        self.port = port
        self.clients = clients
        self.stall = stall
    }

    func start() {
        lock.withLock { running = clients }
        for _ in 0..<clients {
            Thread { [self] in
                let deadline = Date().addingTimeInterval(seconds)
                while lock.withLock({ !stopping && result.sent < limit }), Date() < deadline {
                    let outcome = Self.request(host: host, port: port, path: "/version", stall: stall)
                    lock.withLock {
                        switch outcome {
                        case .success(let body):
                            result.ok += 1
                            result.bodies[body, default: 0] += 1
                        case .failure(let failure):
                            result.failed += 1
                            // "connect: Connection refused" stays whole; an answer's text does not.
                            let kind = failure.reason.hasPrefix("answer") ? "bad answer" : failure.reason
                            result.reasons[kind, default: 0] += 1
                        }
                    }
                    usleep(5_000)
                }
                done.signal()
            }.start()
        }
    }

    /// Stops the clients (bounded wait for the requests in flight) and returns the result.
    @discardableResult
    func finish() -> Result {
        let waiting = lock.withLock {
            defer {
                stopping = true
                running = 0
            }
            return running
        }
        let deadline = DispatchTime.now() + 15
        for _ in 0..<waiting { _ = done.wait(timeout: deadline) }
        return lock.withLock { result }
    }

    static func address(host: String, port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(host)
        return address
    }

    static func request(host: String, port: Int, path: String, stall: Double) -> Swift.Result<String, Failure> {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return .failure(Failure(reason: "socket: \(String(cString: strerror(errno)))")) }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var sa = address(host: host, port: port)
        let connected = withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if connected != 0 { return .failure(Failure(reason: "connect: \(String(cString: strerror(errno)))")) }
        for (index, part) in ["GET \(path) HTTP/1.0\r\n", "Host: bench\r\n\r\n"].enumerated() {
            if index == 1, stall > 0 { usleep(useconds_t(stall * 1_000_000)) }
            let bytes = Array(part.utf8)
            var written = 0
            while written < bytes.count {
                let n = bytes[written...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { return .failure(Failure(reason: "send: \(String(cString: strerror(errno)))")) }
                written += n
            }
        }
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            if n < 0 { return .failure(Failure(reason: "recv: \(String(cString: strerror(errno)))")) }
            reply += buffer[..<n]
        }
        let text = String(decoding: reply, as: UTF8.self)
        guard text.hasPrefix("HTTP/1.0 200 OK\r\n") || text.hasPrefix("HTTP/1.1 200 OK\r\n"),
            let split = text.range(of: "\r\n\r\n"), split.upperBound < text.endIndex
        else {
            return .failure(Failure(reason: text.isEmpty ? "answer: empty (closed)" : "answer: \(text.prefix(40).debugDescription)"))
        }
        return .success(String(text[split.upperBound...]))
    }
}
