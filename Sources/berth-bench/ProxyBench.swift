import BerthCore
import BerthDocker
import BerthProxy
import BerthTestSupport
import Foundation
import NIOConcurrencyHelpers

let proxyBenchmark = Benchmark(
    name: "proxy",
    summary: "wrk through Berth's balancer vs straight to one replica vs nginx, 3 sample httpd replicas",
    run: ProxyBench.run)

/// `swift run -c release berth-bench proxy [--seconds 5] [--rounds 2] [--connections 32] [--l4]`
///
/// Three `shop/customer:1.0` containers (busybox httpd, one connection per request: it does
/// not keep connections alive) on a fresh project network. In one run, `wrk --latency`
/// against `GET /version`:
/// - **direct**: one replica's address on the bridge;
/// - **berth**: Berth's balancer (in this process, learnt from Docker labels like
///   `berth proxy`), published on a loopback port, forwarding to the three replicas. It keeps
///   wrk's HTTP/1.1 connections open although the replicas close theirs (it drops their
///   `Connection: close` and picks a replica per request, see `ClosingResponse`);
/// - **nginx http**: Debian's nginx as its own process (temp prefix, loopback port), the
///   three replicas as one `upstream` (round robin), `worker_processes auto`: an HTTP (L7)
///   proxy, which also keeps wrk's connections alive;
/// - **berth L4** (with `--l4`): a second Berth balancer with client keep-alive off, like
///   for like with nginx stream;
/// - **nginx stream**: the same nginx process's `stream` module (libnginx-mod-stream, when
///   installed), a TCP (L4) balancer: a new client connection per request.
/// CPU: the user + system time of this process (the balancer's threads; wrk and nginx are
/// children and not counted) or of nginx's master and workers, from /proc, per 1,000
/// requests wrk completed — a figure that moves less than requests/s on a busy machine.
/// Targets are run in turn for each round (rotated by one place per round); the table shows
/// the median round, and the CPU time the balancer spent per 1,000 requests. Everything is
/// removed afterwards (containers by the `berth.project` label, nginx by pid).
enum ProxyBench {
    struct WrkResult {
        var requestsPerSecond: Double
        var p50: String
        var p99: String
        var errors: String
        var requests: Int = 0
        /// CPU time (user + system) the balancer under test spent during the run, in ms;
        /// nil for `direct`.
        var cpuMs: Double?

        /// CPU ms per 1,000 requests.
        var cpuPerThousand: Double? {
            guard let cpuMs, requests > 0 else { return nil }
            return cpuMs * 1000 / Double(requests)
        }
    }

    static func run(_ args: [String]) throws {
        func option(_ name: String, _ fallback: Int) -> Int {
            args.firstIndex(of: name).flatMap { i in i + 1 < args.count ? Int(args[i + 1]) : nil } ?? fallback
        }
        let seconds = option("--seconds", 5)
        let rounds = option("--rounds", 2)
        let connections = option("--connections", 32)
        guard let wrk = ["/usr/bin/wrk", "/usr/local/bin/wrk"].first(where: FileManager.default.isExecutableFile) else {
            throw ApplyBench.BenchError("wrk is not installed: apt-get install wrk")
        }
        guard let nginx = ["/usr/sbin/nginx", "/usr/local/sbin/nginx"].first(where: FileManager.default.isExecutableFile)
        else { throw ApplyBench.BenchError("nginx is not installed: apt-get install nginx-light (or nginx)") }

        let project = "perf-proxy-\(getpid())"
        let setup = try blocking { try await Setup.start(project: project) }
        defer { _ = try? blocking { await setup.stop() } }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("berth-proxy-bench-\(getpid())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let nginxPort = try blocking { try await freePort() }
        let streamModule = "/usr/lib/nginx/modules/ngx_stream_module.so"
        let nginxStreamPort: Int? =
            FileManager.default.fileExists(atPath: streamModule) ? try blocking { try await freePort() } : nil
        let nginxProcess = try startNginx(
            nginx, prefix: scratch, port: nginxPort, streamPort: nginxStreamPort.map { ($0, streamModule) },
            upstreams: setup.addresses)
        defer { nginxProcess.terminate() }
        try waitListening(port: nginxPort)

        // Whose CPU time counts for each target: nobody's for direct, this process alone for
        // Berth (the balancer runs in it; its children wrk and nginx are not counted), nginx's
        // master and its workers for nginx.
        let me = CPUTime.Source(pid: getpid(), withChildren: false)
        let nginxTree = CPUTime.Source(pid: nginxProcess.pid, withChildren: true)
        var targets: [(name: String, url: String, cpu: CPUTime.Source?)] = [
            ("direct (one replica)", "http://\(setup.addresses[0])/version", nil),
            ("berth proxy (3 replicas)", "http://127.0.0.1:\(setup.publish)/version", me),
            ("nginx http (3 replicas)", "http://127.0.0.1:\(nginxPort)/version", nginxTree),
        ]
        // Opt-in: every L4 target leaves ~20,000 client sockets in TIME_WAIT (wrk closes
        // first), which makes every later connect on the machine search longer for a free
        // port for a minute; one L4 target per round (nginx stream) is enough by default.
        if args.contains("--l4") {
            targets.append(("berth L4, no keep-alive", "http://127.0.0.1:\(setup.l4Port)/version", me))
        }
        if let nginxStreamPort {
            targets.append(("nginx stream/L4 (3 repl.)", "http://127.0.0.1:\(nginxStreamPort)/version", nginxTree))
        } else {
            print("(nginx's stream module is not installed: apt-get install libnginx-mod-stream for the L4 comparison)")
        }
        print("== proxy: wrk -t2 -c\(connections) -d\(seconds)s --latency GET /version, \(rounds) round(s), 3 × shop/customer:1.0")
        // Warm-up: one second each.
        for (_, url, _) in targets { _ = try runWrk(wrk, url: url, seconds: 1, connections: connections) }
        var results: [String: [WrkResult]] = [:]
        for round in 1...rounds {
            // A different order each round, so no target always runs after the same one.
            let shift = (round - 1) % targets.count
            for (name, url, cpu) in targets[shift...] + targets[..<shift] {
                let before = cpu.map(CPUTime.milliseconds)
                var result = try runWrk(wrk, url: url, seconds: seconds, connections: connections)
                if let cpu, let before { result.cpuMs = CPUTime.milliseconds(cpu) - before }
                results[name, default: []].append(result)
                print(
                    "   round \(round) \(name.padding(toLength: 26, withPad: " ", startingAt: 0)) "
                        + "\(String(format: "%9.0f", result.requestsPerSecond)) req/s  p50 \(result.p50)  p99 \(result.p99)"
                        + (result.cpuPerThousand.map { String(format: "  cpu %.0f ms/1k req", $0) } ?? "")
                        + "  load \(CPUTime.loadAverage())\(result.errors)")
            }
        }
        print("")
        print("target                       requests/s   p50        p99        vs direct  CPU ms/1k req (median)")
        let direct = median(results[targets[0].0]!).requestsPerSecond
        var table: [String: Double] = [:]
        var cpuTable: [String: Double] = [:]
        for (name, _, _) in targets {
            let m = median(results[name]!)
            table[name] = m.requestsPerSecond
            let cpus = results[name]!.compactMap(\.cpuPerThousand).sorted()
            if !cpus.isEmpty { cpuTable[name] = cpus[cpus.count / 2] }
            print(
                "\(name.padding(toLength: 28, withPad: " ", startingAt: 0))\(String(format: "%10.0f", m.requestsPerSecond))   "
                    + "\(m.p50.padding(toLength: 10, withPad: " ", startingAt: 0)) \(m.p99.padding(toLength: 10, withPad: " ", startingAt: 0)) "
                    + String(format: "%5.1f %%", 100 * m.requestsPerSecond / direct)
                    + (cpuTable[name].map { String(format: "    %6.0f", $0) } ?? ""))
        }
        let berth = table[targets[1].0]!, viaNginx = table[targets[2].0]!
        print(
            String(
                format: "targets: berth ≥ 80%% of direct: %@ (%.1f %%); berth ≥ nginx http: %@ (%.2f×)",
                berth >= 0.8 * direct ? "met" : "NOT met", 100 * berth / direct, berth >= viaNginx ? "met" : "NOT met",
                berth / viaNginx))
        if let stream = table["nginx stream/L4 (3 repl.)"] {
            print(
                String(format: "         berth ≥ nginx stream: %@ (%.2f×)", berth >= stream ? "met" : "NOT met", berth / stream))
            if let l4 = table["berth L4, no keep-alive"] {
                print(
                    String(
                        format: "         berth L4 without keep-alive ≥ nginx stream: %@ (%.2f×)",
                        l4 >= stream ? "met" : "NOT met", l4 / stream))
            }
        }
        if let berthCPU = cpuTable[targets[1].0] {
            let l4CPU = cpuTable["berth L4, no keep-alive"]
            for (name, cpu) in [("berth", berthCPU), ("berth L4", l4CPU)] {
                guard let cpu else { continue }
                let others = [targets[2].name, "nginx stream/L4 (3 repl.)"].compactMap { other in
                    cpuTable[other].map { String(format: "%.2f× %@", cpu / $0, other) }
                }
                print("\(name) CPU per request vs " + others.joined(separator: ", ") + " (lower is better)")
            }
        }
        print("load average at the end: \(CPUTime.loadAverage())")
        let counters = setup.service.table.counters()["customer"] ?? ServiceCounters()
        print(
            "berth proxy accounting: \(counters.connectionsTotal) connections, \(counters.httpRequests) HTTP requests, "
                + "\(counters.bytesReceived) bytes in, \(counters.bytesSent) bytes out, \(counters.connectFailures) connect failures")
    }

    static func median(_ results: [WrkResult]) -> WrkResult {
        results.sorted { $0.requestsPerSecond < $1.requestsPerSecond }[results.count / 2]
    }

    static func runWrk(_ wrk: String, url: String, seconds: Int, connections: Int) throws -> WrkResult {
        let output = try ApplyBench.runProcess(
            wrk, ["-t2", "-c\(connections)", "-d\(seconds)s", "--latency", "--timeout", "5s", url])
        guard output.status == 0 else { throw ApplyBench.BenchError("wrk \(url) failed (\(output.status)): \(output.stderr)") }
        var result = WrkResult(requestsPerSecond: 0, p50: "?", p99: "?", errors: "")
        for line in output.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if line.hasPrefix("Requests/sec:"), fields.count >= 2 { result.requestsPerSecond = Double(fields[1]) ?? 0 }
            if fields.count >= 3, fields[1] == "requests", fields[2] == "in" { result.requests = Int(fields[0]) ?? 0 }
            if fields.count == 2, fields[0] == "50%" { result.p50 = String(fields[1]) }
            if fields.count == 2, fields[0] == "99%" { result.p99 = String(fields[1]) }
            if line.contains("Socket errors") || line.contains("Non-2xx") {
                result.errors += "  [\(line.trimmingCharacters(in: .whitespaces))]"
            }
        }
        return result
    }

    static func startNginx(
        _ nginx: String, prefix: URL, port: Int, streamPort: (port: Int, module: String)?, upstreams: [String]
    ) throws -> ChildProcess {
        for folder in ["logs", "tmp"] {
            try FileManager.default.createDirectory(at: prefix.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        let servers = upstreams.map { "        server \($0);" }.joined(separator: "\n")
        let stream =
            streamPort.map { stream in
                """
                stream {
                    upstream replicas { \(upstreams.map { "server \($0);" }.joined(separator: " ")) }
                    server { listen 127.0.0.1:\(stream.port); proxy_pass replicas; }
                }
                """
            } ?? ""
        let config = """
            \(streamPort.map { "load_module \($0.module);" } ?? "")
            worker_processes auto;
            pid \(prefix.path)/nginx.pid;
            error_log \(prefix.path)/logs/error.log warn;
            events { worker_connections 4096; }
            http {
                access_log off;
                client_body_temp_path \(prefix.path)/tmp/body;
                proxy_temp_path \(prefix.path)/tmp/proxy;
                fastcgi_temp_path \(prefix.path)/tmp/fastcgi;
                uwsgi_temp_path \(prefix.path)/tmp/uwsgi;
                scgi_temp_path \(prefix.path)/tmp/scgi;
                upstream replicas {
            \(servers)
                }
                server {
                    listen 127.0.0.1:\(port);
                    location / { proxy_pass http://replicas; }
                }
            }
            \(stream)

            """
        let file = prefix.appendingPathComponent("nginx.conf")
        try config.write(to: file, atomically: true, encoding: .utf8)
        return try ChildProcess(URL(fileURLWithPath: nginx), ["-p", prefix.path, "-c", file.path, "-g", "daemon off;"])
    }

    static func waitListening(port: Int) throws {
        for _ in 0..<100 {
            if (try? blocking { try await portAnswers(port) }) == true { return }
            usleep(50_000)
        }
        throw ApplyBench.BenchError("nginx did not start listening on 127.0.0.1:\(port)")
    }

    /// The containers and the balancer.
    struct Setup: Sendable {
        var project: String
        var runtime: DockerRuntime
        var service: ProxyService
        var publish: Int
        /// A second balancer over the same replicas with client keep-alive off: a new client
        /// connection per request, like for like with nginx stream (its endpoints are copied
        /// once, not probed).
        var l4: Balancer
        var l4Port: Int
        /// `ip:8080` of each replica.
        var addresses: [String]

        static func start(project: String) async throws -> Setup {
            let runtime = try await DockerRuntime.connect()
            let publish = try await freePort()
            let health = HealthCheck(
                probe: .http(path: "/healthz", port: 8080), interval: Millis(1000), timeout: Millis(1000),
                failureThreshold: 3)
            let spec = ServiceSpec(
                name: "customer", image: "shop/customer:1.0", replicas: 3,
                ports: [PortSpec(containerPort: 8080, publish: publish)], health: health, stopGracePeriod: .seconds(1))
            var addresses: [String] = []
            do {
                for _ in 0..<3 {
                    let instance = try await runtime.startInstance(.init(project: project, spec: spec, commit: nil))
                    guard try await runtime.waitHealthy(instance, check: health, deadline: .now + .seconds(30)) == .healthy else {
                        throw ApplyBench.BenchError("a replica of shop/customer:1.0 did not become healthy; run samples/build-images.sh")
                    }
                    let details = try await runtime.client.inspectContainer(instance.id)
                    guard let ip = details.ipAddress(on: BerthNaming.network(project: project)) else {
                        throw ApplyBench.BenchError("replica \(instance.id) has no address on the project network")
                    }
                    addresses.append("\(ip):8080")
                }
                let balancer = Balancer(bindHost: "127.0.0.1")
                let service = try await ProxyService.start(project: project, balancer: balancer, endpoints: runtime.endpointSource)
                let deadline = ContinuousClock.now + .seconds(10)
                while service.table.snapshot().filter({ $0.state == .ready }).count < 3 {
                    guard ContinuousClock.now < deadline else { throw ApplyBench.BenchError("the balancer did not see 3 ready replicas") }
                    try await Task.sleep(for: .milliseconds(50))
                }
                let l4 = Balancer(table: EndpointTable(), bindHost: "127.0.0.1", httpKeepAlive: false)
                let l4Port = try await l4.listen(publish: publish, service: "customer", bindPort: 0)
                for endpoint in service.table.snapshot() {
                    l4.table.upsert(
                        Endpoint(instance: endpoint.instance, service: "customer", host: endpoint.host, ports: [publish: 8080]),
                        state: .ready)
                }
                return Setup(
                    project: project, runtime: runtime, service: service, publish: publish, l4: l4, l4Port: l4Port,
                    addresses: addresses)
            } catch {
                try? await runtime.destroyProject(project)
                throw error
            }
        }

        func stop() async {
            await l4.shutdown()
            await service.shutdown()
            try? await runtime.destroyProject(project)
        }
    }
}

/// CPU time of processes from /proc (Linux).
enum CPUTime {
    struct Source {
        var pid: pid_t
        /// Also count the live children of `pid` (one level: nginx's workers).
        var withChildren: Bool
    }

    /// User + system CPU time of `source`, in milliseconds.
    static func milliseconds(_ source: Source) -> Double {
        var pids: Set<pid_t> = [source.pid]
        if source.withChildren, let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") {
            for entry in entries {
                guard let pid = pid_t(entry), let stat = stat(pid) else { continue }
                if stat.ppid == source.pid { pids.insert(pid) }
            }
        }
        let ticks = pids.compactMap { stat($0) }.reduce(0) { $0 + $1.utime + $1.stime }
        return Double(ticks) * 1000 / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func stat(_ pid: pid_t) -> (ppid: pid_t, utime: Int, stime: Int)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // Fields after "(comm)": state(3) ppid(4) … utime(14) stime(15).
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let ppid = pid_t(fields[1]), let utime = Int(fields[11]), let stime = Int(fields[12])
        else { return nil }
        return (ppid, utime, stime)
    }

    static func loadAverage() -> String {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?"
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }
}

/// A free TCP port on 127.0.0.1 (bound, then released).
func freePort() async throws -> Int {
    let balancer = Balancer(bindHost: "127.0.0.1")
    let port = try await balancer.listen(publish: 1, service: "probe", bindPort: 0)
    await balancer.shutdown()
    return port
}

func portAnswers(_ port: Int) async throws -> Bool {
    let client = ProxyControlClient(port: port)
    do {
        _ = try await client.metrics()
        return true
    } catch let error as ProxyError {
        // Any HTTP answer (nginx has no /metrics) means the port listens.
        return error.message.contains("HTTP ")
    }
}

/// Runs `body` on the concurrency pool and waits for it on this (non-pool) thread.
func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let result = NIOLockedValueBox<Result<T, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task {
        do {
            let value = try await body()
            result.withLockedValue { $0 = .success(value) }
        } catch {
            result.withLockedValue { $0 = .failure(error) }
        }
        done.signal()
    }
    done.wait()
    return try result.withLockedValue { $0! }.get()
}
