import BerthCore
import BerthDocker
import BerthTestSupport
@testable import BerthProxy
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue 18, finding 4: about 510 idle connections exhausted a 1,024 descriptor limit (2 fds
/// each); the accept loop then spun on EMFILE at ~1.5 cores writing 256,756 log lines in
/// 25 s while new clients waited for ever (or, when the last descriptor went to `accept`,
/// every new client was closed with one "no replica accepted the connection" line each and
/// counted as the replica's connect failure).
@Suite("Balancer out of file descriptors", .serialized)
struct DescriptorExhaustionTests {
    /// A real `berth proxy` under `prlimit --nofile=1024:1024` (it cannot raise the limit;
    /// `nofile` nil: under the test's own limits) in front of one real replica of each of
    /// `services` services (`gateway`, `gateway2`, … each published on its own free port),
    /// with `arguments` added to its command line; torn down even on failure.
    struct Proxy {
        let runtime: DockerRuntime
        let project: String
        let publish: Int
        /// Every service's published port, in service order (`publish` first).
        let published: [Int]
        let stateDir: String
        let logPath: String
        let process: ChildProcess
        let control: ProxyControlClient

        static func start(
            _ name: String, services: Int = 1, arguments: [String] = [], nofile: String? = "1024:1024"
        ) async throws -> Proxy {
            let runtime = try await DockerRuntime.connect()
            let project = "bp-\(name)-\(UInt32.random(in: 0...UInt32.max) % 0xFFFFFF)"
            var published: [Int] = []
            for _ in 0..<services {
                var port = try await DockerDrainTests.freePort()
                while published.contains(port) { port = try await DockerDrainTests.freePort() }
                published.append(port)
            }
            let publish = published[0]
            let stateDir = FileManager.default.temporaryDirectory.appendingPathComponent("berth-proxy-\(project)").path
            let health = HealthCheck(
                probe: .http(path: "/healthz", port: 8080), interval: Millis(1000), timeout: Millis(1000),
                failureThreshold: 3)
            var process: ChildProcess?
            do {
                for (index, port) in published.enumerated() {
                    let spec = ServiceSpec(
                        name: index == 0 ? "gateway" : "gateway\(index + 1)", image: "shop/gateway:1.0",
                        ports: [PortSpec(containerPort: 8080, publish: port)], health: health, stopGracePeriod: .seconds(1))
                    let replica = try await runtime.startInstance(.init(project: project, spec: spec, commit: "c1"))
                    #expect(try await runtime.waitHealthy(replica, check: health, deadline: .now + .seconds(20)) == .healthy)
                }
                FileManager.default.createFile(atPath: stateDir + ".log", contents: nil)
                let command = [
                    try ProcessRunner.berthExecutable().path, "proxy", "--project", project, "--state-dir", stateDir,
                    "--bind", "127.0.0.1",
                ] + arguments
                process = try ChildProcess(
                    URL(fileURLWithPath: nofile == nil ? command[0] : "/usr/bin/prlimit"),
                    nofile.map { ["--nofile=\($0)", "--"] + command } ?? Array(command.dropFirst()),
                    stderr: .file(stateDir + ".log"))
                try await eventually(.seconds(10), "the state file") {
                    (try? ProxyStateFile.read(directory: stateDir, project: project)) != nil
                }
                let control = try ProxyControlClient(stateDirectory: stateDir, project: project)
                let ready = ContinuousClock.now + .seconds(10)
                let allReady = Array(repeating: EndpointState.ready, count: services)
                while (try? await control.endpoints().endpoints.map(\.state)) != allReady, ContinuousClock.now < ready {
                    try await Task.sleep(for: .milliseconds(50))
                }
                return Proxy(
                    runtime: runtime, project: project, publish: publish, published: published, stateDir: stateDir,
                    logPath: stateDir + ".log",
                    process: try #require(process), control: control)
            } catch {
                _ = process?.terminate()
                try? await runtime.destroyProject(project)
                try? FileManager.default.removeItem(atPath: stateDir)
                try? FileManager.default.removeItem(atPath: stateDir + ".log")
                throw error
            }
        }

        func stop() async {
            _ = process.terminate()
            try? await runtime.destroyProject(project)
            try? FileManager.default.removeItem(atPath: stateDir)
            try? FileManager.default.removeItem(atPath: logPath)
        }

        var log: [Substring] {
            ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").split(separator: "\n")
        }

        /// The proxy's metrics as "name{labels}" → value (bounded retries: the control API
        /// may be out of descriptors too).
        func metrics() async throws -> [String: Int] {
            var text: String?
            for _ in 0..<20 where text == nil {
                text = try? await control.metrics()
                if text == nil { try await Task.sleep(for: .milliseconds(250)) }
            }
            var values: [String: Int] = [:]
            for line in try #require(text).split(separator: "\n") where !line.hasPrefix("#") {
                let parts = line.split(separator: " ")
                if parts.count == 2, let value = Int(parts[1]) { values[String(parts[0])] = value }
            }
            return values
        }

        func metric(_ name: String, _ labels: String = "") -> String {
            "\(name){project=\"\(project)\"\(labels)}"
        }
    }

    /// What a new client gets within `timeout`: the status line of an answer, "closed" (EOF
    /// or reset: refused fast) or "no answer".
    static func newClient(port: Int, timeout: Int = 3) -> String {
        let fd = LoopbackSocket.idle(port: port)
        guard fd >= 0 else { return "connect failed: errno \(errno)" }
        defer { close(fd) }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        let request = Array("GET /version HTTP/1.0\r\nHost: x\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count > 0 { return String(decoding: buffer[..<min(count, 15)], as: UTF8.self) }
        if count == 0 || errno == ECONNRESET { return "closed" }
        return "no answer"
    }

    /// A new client until it gets an answer (bounded: 15 s).
    static func answered(port: Int) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(15)
        var answer = newClient(port: port)
        while answer != "HTTP/1.1 200 OK", ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            answer = newClient(port: port)
        }
        return answer
    }

    /// The CPU ticks and log lines of `proxy` over 3 s of quiet.
    static func quiet(_ proxy: Proxy) async throws -> (ticks: Int, lines: Int) {
        let before = LoopbackSocket.cpuTicks(proxy.process.pid)
        let linesBefore = proxy.log.count
        try await Task.sleep(for: .seconds(3))
        let ticks = LoopbackSocket.cpuTicks(proxy.process.pid) - before
        return (before < 0 ? -1 : ticks, proxy.log.count - linesBefore)
    }

    /// The refusals were logged about once a second (a few lines, not one per client, and
    /// none blaming the replica); once the idle clients close, a new one is served.
    static func expectRecovery(_ proxy: Proxy, logged: String, idle: inout [Int32]) async throws {
        let refusals = proxy.log.filter {
            $0.contains(logged + ": new connections are refused at once until some close")
        }
        #expect((1...8).contains(refusals.count), "about one line a second: \(refusals.count)")
        #expect(!proxy.log.contains { $0.contains("no replica accepted") || $0.contains("errno 24") })
        for fd in idle { close(fd) }
        idle = []
        #expect(try await answered(port: proxy.publish) == "HTTP/1.1 200 OK", "serves again once the idle clients close")
        #expect(proxy.process.terminate(SIGTERM, grace: .seconds(30)) == 0)
    }

    /// 2,000 idle clients against 1,024 descriptors: the balancer keeps 448 of them (its
    /// connection limit: (1,024 - 64 - 1,024/16) / 2) and closes the others at once, a new
    /// client too, counted and logged about once a second, with no spin; it serves again
    /// once the idle ones close.
    @Test func idleClientsOverTheConnectionLimitAreRefusedAtOnce() async throws {
        let proxy = try await Proxy.start("nofile")
        var idle: [Int32] = []
        defer { for fd in idle { close(fd) } }
        do {
            #expect(Self.newClient(port: proxy.publish) == "HTTP/1.1 200 OK")
            let active = proxy.metric("berth_proxy_connections_active", ",service=\"gateway\"")
            let deadline = ContinuousClock.now + .seconds(5)
            while try await proxy.metrics()[active] != 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            for _ in 0..<2_000 {
                let fd = LoopbackSocket.idle(port: proxy.publish)
                if fd >= 0 { idle.append(fd) }
            }
            #expect(idle.count == 2_000)
            try await Task.sleep(for: .seconds(2))
            let (ticks, lines) = try await Self.quiet(proxy)
            print("berth proxy, 2,000 idle clients, 1,024 fds: \(ticks) ticks of CPU and \(lines) log lines in 3 s")
            #expect(ticks >= 0 && ticks <= 10, "no spin: at most 0.1 s of CPU in 3 s")
            #expect(lines <= 4)
            #expect(Self.newClient(port: proxy.publish) == "closed", "a new client is refused at once")

            let metrics = try await proxy.metrics()
            #expect(metrics[proxy.metric("berth_proxy_descriptor_limit")] == 1024)
            #expect(metrics[proxy.metric("berth_proxy_client_connections_limit")] == 448)
            #expect(metrics[active] == 448)
            #expect(metrics[proxy.metric("berth_proxy_connections_refused_total", ",reason=\"connection_limit\"")] == 1_553)
            #expect(metrics[proxy.metric("berth_proxy_connections_refused_total", ",reason=\"no_descriptor\"")] == 0)
            #expect(metrics[proxy.metric("berth_proxy_connect_failures_total", ",service=\"gateway\"")] == 0)
            try await Self.expectRecovery(
                proxy, logged: "the balancer is at its connection limit (448 client connections, from the descriptor limit 1024)",
                idle: &idle)
        } catch {
            await proxy.stop()
            throw error
        }
        await proxy.stop()
    }

    /// The same proxy whose descriptors run out before its connection limit: 300 or 301
    /// idle connections to its control API first, then 2,000 idle clients (before the fix,
    /// `accept` failed with EMFILE and spun for one parity of free descriptors, the replica's
    /// socket failed for the other); then its limit lowered to 900 (`prlimit --pid`), below
    /// what it has open, so `accept` fails with EMFILE for 10 more clients. Each time: no spin, about one log line a
    /// second, a new client refused at once; every client served or refused (none left
    /// waiting), the replica not blamed; it serves again once the idle connections close.
    @Test(arguments: [300, 301])
    func outOfDescriptorsTheBalancerNeitherSpinsNorLeavesClientsWaiting(controlConnections: Int) async throws {
        let proxy = try await Proxy.start("emfile")
        var idle: [Int32] = []
        var controlIdle: [Int32] = []
        defer { for fd in idle + controlIdle { close(fd) } }
        do {
            #expect(Self.newClient(port: proxy.publish) == "HTTP/1.1 200 OK")
            for _ in 0..<controlConnections {
                let fd = LoopbackSocket.idle(port: proxy.control.port)
                if fd >= 0 { controlIdle.append(fd) }
            }
            for _ in 0..<2_000 {
                let fd = LoopbackSocket.idle(port: proxy.publish)
                if fd >= 0 { idle.append(fd) }
            }
            #expect(controlIdle.count == controlConnections && idle.count == 2_000)
            try await Task.sleep(for: .seconds(2))
            let (ticks, lines) = try await Self.quiet(proxy)
            print("berth proxy, \(controlConnections) control + 2,000 idle clients, 1,024 fds: \(ticks) ticks of CPU and \(lines) log lines in 3 s")
            #expect(ticks >= 0 && ticks <= 10, "no spin: at most 0.1 s of CPU in 3 s")
            #expect(lines <= 4)
            #expect(Self.newClient(port: proxy.publish) == "closed", "a new client is refused at once")

            // Below what is open: every new descriptor fails with EMFILE, `accept` first.
            let lowered = try ProcessRunner.program(
                ["prlimit", "--pid", "\(proxy.process.pid)", "--nofile=900:900"], timeout: .seconds(10))
            #expect(lowered.status == 0, "\(lowered.stderr)")
            for _ in 0..<10 {
                let fd = LoopbackSocket.idle(port: proxy.publish)
                if fd >= 0 { idle.append(fd) }
            }
            try await Task.sleep(for: .seconds(1))
            let (ticksOut, linesOut) = try await Self.quiet(proxy)
            print("… and the limit lowered to 900: \(ticksOut) ticks of CPU and \(linesOut) log lines in 3 s")
            #expect(ticksOut >= 0 && ticksOut <= 10, "no spin: at most 0.1 s of CPU in 3 s")
            #expect(linesOut <= 8)
            #expect(Self.newClient(port: proxy.publish) == "closed", "a new client is refused at once")

            for fd in controlIdle { close(fd) }
            controlIdle = []
            let metrics = try await proxy.metrics()
            let active = try #require(metrics[proxy.metric("berth_proxy_connections_active", ",service=\"gateway\"")])
            let refused = try #require(
                metrics[proxy.metric("berth_proxy_connections_refused_total", ",reason=\"no_descriptor\"")])
            print("served \(active), refused \(refused) for want of a descriptor")
            #expect(active > 0 && active < 448)
            #expect(active + refused == 2_012, "every client served or refused, none left waiting")
            #expect(metrics[proxy.metric("berth_proxy_connections_refused_total", ",reason=\"connection_limit\"")] == 0)
            #expect(metrics[proxy.metric("berth_proxy_connect_failures_total", ",service=\"gateway\"")] == 0)
            try await Self.expectRecovery(
                proxy, logged: "the balancer is out of file descriptors (Too many open files)", idle: &idle)
        } catch {
            await proxy.stop()
            throw error
        }
        await proxy.stop()
    }
}
