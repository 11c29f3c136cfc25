import BerthCore
import BerthDocker
import BerthTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension SwarmSuite {
    /// `berth proxy --runtime swarm` on this machine, in front of tasks on all three nodes:
    /// it finds every task's node address and host-mode port, and a Swarm start-first
    /// update under load through it drops no request.
    @Suite struct ProxyOnSwarmTests {
        @Test func theProxyBalancesOverEveryNodeAndAnUpdateUnderLoadDropsNoRequest() async throws {
            let cluster = try SwarmSuite.cluster
            let runtime = try await SwarmRuntime.connect(environment: ["DOCKER_HOST": cluster.managerHost])
            let project = "px-\(String(UInt32.random(in: 0...UInt32.max) % 0xFFFFFF, radix: 16))"
            let scratch = try TemporaryDirectory(prefix: "berth-swarm-proxy")
            let publish = Int.random(in: 21000..<29000)
            var proxy: ChildProcess?
            defer {
                _ = proxy?.terminate()
                SwarmRuntimeTests.cleanup(project)
                scratch.remove()
            }
            func customer(_ image: String) -> ServiceSpec {
                ServiceSpec(
                    name: "customer", image: image, replicas: 3, ports: [PortSpec(containerPort: 8080, publish: publish)],
                    health: HealthCheck(
                        probe: .http(path: "/healthz", port: 8080), interval: Millis(200), timeout: .seconds(1),
                        failureThreshold: 2),
                    stopGracePeriod: .seconds(2))
            }
            let first = customer("shop/customer:1.0")
            try await runtime.deploy(InstanceRequest(project: project, spec: first, commit: nil))
            #expect(
                try await runtime.waitConverged(
                    project: project, service: "customer", revision: first.revision, replicas: 3,
                    deadline: .now + .seconds(60)) == .converged)

            // The proxy's view: one endpoint per task, at its node's address and host port.
            let snapshot = try await runtime.endpointSource.endpoints(project: project)
            #expect(snapshot.running.count == 3)
            #expect(Set(snapshot.running.map(\.host)).isSubset(of: Set(cluster.nodes.map(\.address))))
            #expect(Set(snapshot.running.map(\.host)).count >= 2, "endpoints on \(snapshot.running.map(\.host))")
            #expect(snapshot.running.allSatisfy { $0.ports.count == 1 && $0.ports[0].publish == publish && $0.ports[0].port > 0 })

            let log = scratch.url.appendingPathComponent("proxy.log")
            var environment = ProcessInfo.processInfo.environment
            environment["DOCKER_HOST"] = cluster.managerHost
            proxy = try ChildProcess(
                try ProcessRunner.berthExecutable(),
                ["proxy", "--runtime", "swarm", "--project", project, "--state-dir", scratch.path, "--bind", "127.0.0.1"],
                environment: environment, stderr: .file(log.path))
            let serving = eventually(20) { (try? HTTP.get(port: publish)) == "customer 1.0\n" }
            #expect(serving, "the proxy does not serve on \(publish); its log: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")

            // A Swarm start-first update 1.0 → 1.1 under load through the proxy.
            let load = HTTP.Load(port: publish, clients: 4)
            load.start()
            try await Task.sleep(for: .seconds(1))
            let second = customer("shop/customer:1.1")
            try await runtime.deploy(InstanceRequest(project: project, spec: second, commit: nil))
            let updated = try await runtime.waitConverged(
                project: project, service: "customer", revision: second.revision, replicas: 3,
                deadline: .now + .seconds(90))
            try await Task.sleep(for: .seconds(1))
            let result = load.finish()
            #expect(updated == .converged)
            print("update under load through berth proxy --runtime swarm: \(result.line)")
            #expect(result.failed == 0, "\(result.line); proxy log: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
            #expect(result.bodies["customer 1.1\n", default: 0] > 0)
            #expect(result.ok > 100)
        }
    }
}

/// A minimal HTTP/1.0 client on blocking sockets: one request per connection, bounded.
enum HTTP {
    struct Failure: Error { var reason: String }

    /// `GET path` on 127.0.0.1:port; the body of a 200.
    static func get(port: Int, path: String = "/version") throws -> String {
        let fd = LoopbackSocket.connect(port: port, sendTimeout: 5, receiveTimeout: 5)
        guard fd >= 0 else { throw Failure(reason: "connect: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: test\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else {
            throw Failure(reason: "send")
        }
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            if n < 0 { throw Failure(reason: "recv: \(String(cString: strerror(errno)))") }
            reply += buffer[..<n]
        }
        let text = String(decoding: reply, as: UTF8.self)
        guard text.hasPrefix("HTTP/1.0 200") || text.hasPrefix("HTTP/1.1 200"), let split = text.range(of: "\r\n\r\n") else {
            throw Failure(reason: text.isEmpty ? "empty answer" : "answer \(text.prefix(30).debugDescription)")
        }
        return String(text[split.upperBound...])
    }

    /// `clients` threads each sending one request per new connection, 5 ms apart, until
    /// `finish()` (at most 60 s or 50,000 requests).
    final class Load: @unchecked Sendable {  // state behind `lock`
        struct Result {
            var ok = 0
            var failed = 0
            var reasons: [String: Int] = [:]
            var bodies: [String: Int] = [:]
            /// When each failed request started.
            var failedAt: [Date] = []
            var line: String {
                "\(ok + failed) requests, \(failed) failed"
                    + (reasons.isEmpty ? "" : " (" + reasons.keys.sorted().map { "\($0): \(reasons[$0]!)" }.joined(separator: ", ") + ")")
            }
        }
        let port: Int
        let clients: Int
        private let lock = NSLock()
        private var result = Result()
        private var stopping = false
        private let done = DispatchSemaphore(value: 0)

        init(port: Int, clients: Int) {
            self.port = port
            self.clients = clients
        }

        func start() {
            for _ in 0..<clients {
                Thread { [self] in
                    let deadline = Date().addingTimeInterval(60)
                    while lock.withLock({ !stopping && result.ok + result.failed < 50_000 }), Date() < deadline {
                        let started = Date()
                        let outcome = Swift.Result { try HTTP.get(port: port) }
                        lock.withLock {
                            switch outcome {
                            case .success(let body):
                                result.ok += 1
                                result.bodies[body, default: 0] += 1
                            case .failure(let error):
                                result.failed += 1
                                result.failedAt.append(started)
                                result.reasons[(error as? Failure)?.reason ?? "\(error)", default: 0] += 1
                            }
                        }
                        usleep(5_000)
                    }
                    done.signal()
                }.start()
            }
        }

        func finish() -> Result {
            lock.withLock { stopping = true }
            for _ in 0..<clients { _ = done.wait(timeout: .now() + 15) }
            return lock.withLock { result }
        }
    }
}
