import BerthCore
import BerthDocker
import BerthTestSupport
@testable import BerthProxy
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// The balancer in front of real containers (the sample images; `make test` builds them).
@Suite("Balancer in front of Docker", .serialized)
struct DockerDrainTests {
    /// What a steady client saw.
    struct LoadResult: Sendable {
        var ok = 0
        var failures: [String] = []
        var bodies: [String: Int] = [:]
        var last: String = ""
    }

    /// One GET per new connection, every `pause`, until `stop` is set or `limit` requests or
    /// `deadline` pass.
    static func steadyLoad(
        port: Int, path: String, pause: Duration, limit: Int, deadline: Duration, stop: NIOLockedValueBox<Bool>
    ) async -> LoadResult {
        var result = LoadResult()
        let ends = ContinuousClock.now + deadline
        while !stop.withLockedValue({ $0 }), result.ok + result.failures.count < limit, ContinuousClock.now < ends {
            do {
                let reply = try await TestClient.exchange(port: port, send: "GET \(path) HTTP/1.0\r\nHost: x\r\n\r\n")
                if reply.hasPrefix("HTTP/1.0 200 OK\r\n") || reply.hasPrefix("HTTP/1.1 200 OK\r\n"),
                    let split = reply.range(of: "\r\n\r\n")
                {
                    let body = String(reply[split.upperBound...])
                    result.ok += 1
                    result.bodies[body, default: 0] += 1
                    result.last = body
                } else {
                    result.failures.append("answer: \(reply.prefix(60).debugDescription)")
                }
            } catch {
                result.failures.append("\(error)")
            }
            try? await Task.sleep(for: pause)
        }
        return result
    }

    /// Requests one after the other on one HTTP/1.1 keep-alive connection (a new one only
    /// when the balancer closes it), every `pause`, until `stop` or `deadline`.
    static func keepAliveLoad(
        port: Int, path: String, pause: Duration, deadline: Duration, stop: NIOLockedValueBox<Bool>
    ) async -> (LoadResult, connections: Int) {
        var result = LoadResult()
        var connections = 0
        let ends = ContinuousClock.now + deadline
        while !stop.withLockedValue({ $0 }), ContinuousClock.now < ends {
            do {
                connections += 1
                let client = try await TestClient.connect(port: port)
                try await client.channel.executeThenClose { inbound, outbound in
                    var iterator = inbound.makeAsyncIterator()
                    while !stop.withLockedValue({ $0 }), ContinuousClock.now < ends {
                        try await outbound.write(ByteBuffer(string: "GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n"))
                        var reply = ""
                        var complete = false
                        while !complete, let chunk = try await iterator.next() {
                            reply += String(buffer: chunk)
                            complete = Self.completeResponse(reply)
                        }
                        guard complete, reply.hasPrefix("HTTP/1.1 200 OK\r\n"), let split = reply.range(of: "\r\n\r\n") else {
                            result.failures.append("answer: \(reply.prefix(60).debugDescription)")
                            return
                        }
                        let body = String(reply[split.upperBound...])
                        result.ok += 1
                        result.bodies[body, default: 0] += 1
                        result.last = body
                        // The replica said `Connection: close`; the balancer keeps the client.
                        if reply.lowercased().contains("\r\nconnection: close") { return }
                        try await Task.sleep(for: pause)
                    }
                }
            } catch {
                result.failures.append("\(error)")
            }
        }
        return (result, connections)
    }

    /// Whether `reply` holds a whole response head and its Content-Length body.
    static func completeResponse(_ reply: String) -> Bool {
        guard let split = reply.range(of: "\r\n\r\n") else { return false }
        let head = reply[..<split.lowerBound].lowercased()
        guard let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
            let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
        else { return false }
        return reply[split.upperBound...].utf8.count >= length
    }

    static func freePort() async throws -> Int { try await refusedPort() }

    @Test func replicasRetiredOneByOneThroughDrainFailNoRequest() async throws {
        let runtime = try await DockerRuntime.connect()
        let project = "bp-drain-\(UInt32.random(in: 0...UInt32.max) % 0xFFFFFF)"
        let publish = try await Self.freePort()
        let health = HealthCheck(
            probe: .http(path: "/healthz", port: 8080), interval: Millis(200), timeout: Millis(500),
            failureThreshold: 2)
        func spec(_ image: String) -> ServiceSpec {
            ServiceSpec(
                name: "customer", image: image, ports: [PortSpec(containerPort: 8080, publish: publish)],
                health: health, stopGracePeriod: .seconds(2))
        }
        var service: ProxyService?
        do {
            // Three replicas of 1.0, healthy.
            var old: [Instance] = []
            for _ in 0..<3 {
                let instance = try await runtime.startInstance(.init(project: project, spec: spec("shop/customer:1.0"), commit: "c1"))
                #expect(try await runtime.waitHealthy(instance, check: health, deadline: .now + .seconds(20)) == .healthy)
                old.append(instance)
            }
            // The balancer learns them from labels and its own probes.
            let balancer = Balancer(bindHost: "127.0.0.1")
            let started = try await ProxyService.start(project: project, balancer: balancer, endpoints: runtime.endpointSource)
            service = started
            let table = balancer.table
            try await eventually(.seconds(10), "3 ready endpoints") {
                table.snapshot().filter { $0.state == .ready }.count == 3
            }
            #expect(balancer.listening == [publish: "customer"])
            let control = ProxyControlClient(port: started.controlPort)

            // Steady load (new connection per request) while each old replica is replaced:
            // new one healthy → ready → old one drained → stopped and removed.
            let stop = NIOLockedValueBox(false)
            let load = Task {
                await Self.steadyLoad(
                    port: publish, path: "/version", pause: .milliseconds(5), limit: 20_000, deadline: .seconds(60),
                    stop: stop)
            }
            // And one HTTP/1.1 client keeping its connection: each request goes to a replica
            // picked afresh although the replicas close after every response.
            let kept = Task {
                await Self.keepAliveLoad(port: publish, path: "/version", pause: .milliseconds(5), deadline: .seconds(60), stop: stop)
            }
            try await Task.sleep(for: .milliseconds(300))
            var retired: [DrainResult] = []
            for instance in old {
                let new = try await runtime.startInstance(.init(project: project, spec: spec("shop/customer:1.1"), commit: "c2"))
                #expect(try await runtime.waitHealthy(new, check: health, deadline: .now + .seconds(20)) == .healthy)
                await control.instanceReady(new)
                retired.append(try await control.drain(instance: instance.id, grace: .seconds(5)))
                try await runtime.removeInstance(id: instance.id, grace: .seconds(2))
                try await Task.sleep(for: .milliseconds(200))
            }
            try await Task.sleep(for: .milliseconds(300))
            stop.withLockedValue { $0 = true }
            let result = await load.value
            let (keptResult, keptConnections) = await kept.value
            print("steady load through 3 replacements: \(result.ok + result.failures.count) requests, \(result.failures.count) failed")
            print(
                "keep-alive client through 3 replacements: \(keptResult.ok + keptResult.failures.count) requests on "
                    + "\(keptConnections) connection(s), \(keptResult.failures.count) failed")
            #expect(keptResult.failures == [], "failed keep-alive requests: \(keptResult.failures)")
            #expect(keptConnections == 1)
            #expect(keptResult.ok >= 100)
            #expect(keptResult.last == "customer 1.1\n")
            #expect(keptResult.bodies.keys.sorted() == ["customer 1.0\n", "customer 1.1\n"])

            #expect(result.failures == [], "failed requests: \(result.failures.count) of \(result.ok + result.failures.count)")
            #expect(result.ok >= 100)
            #expect(result.last == "customer 1.1\n")
            #expect(result.bodies.keys.sorted() == ["customer 1.0\n", "customer 1.1\n"])
            #expect(retired.allSatisfy { $0.drained && $0.known && $0.remaining == 0 })
            try await eventually(.seconds(10), "the old endpoints to be forgotten") {
                table.snapshot().map(\.state) == [.ready, .ready, .ready]
            }
            let counters = try #require(table.counters()["customer"])
            // One replica connection per request, from both clients.
            #expect(counters.httpRequests == result.ok + keptResult.ok)
            #expect(counters.connectionsTotal == result.ok + keptResult.ok)
            #expect(counters.rejected == 0)
            let metrics = try await control.metrics()
            #expect(
                metrics.contains(
                    "berth_proxy_http_requests_total{project=\"\(project)\",service=\"customer\"} \(result.ok + keptResult.ok)\n"))
        } catch {
            await service?.shutdown()
            try? await runtime.destroyProject(project)
            throw error
        }
        await service?.shutdown()
        try await runtime.destroyProject(project)
        #expect(try await runtime.client.listContainers(labels: [BerthLabel.project: project]).isEmpty)
    }

    @Test func aKilledReplicaLeavesRotationAndAnUnhealthyOneGetsNothing() async throws {
        let runtime = try await DockerRuntime.connect()
        let project = "bp-kill-\(UInt32.random(in: 0...UInt32.max) % 0xFFFFFF)"
        let publish = try await Self.freePort()
        let health = HealthCheck(
            probe: .http(path: "/healthz", port: 8080), interval: Millis(200), timeout: Millis(500),
            failureThreshold: 2)
        let good = ServiceSpec(
            name: "booking", image: "shop/booking:1.0", ports: [PortSpec(containerPort: 8080, publish: publish)],
            health: health, stopGracePeriod: .seconds(1))
        var broken = good
        broken.image = "shop/booking:broken"
        var service: ProxyService?
        do {
            let a = try await runtime.startInstance(.init(project: project, spec: good, commit: "c1"))
            let b = try await runtime.startInstance(.init(project: project, spec: good, commit: "c1"))
            let bad = try await runtime.startInstance(.init(project: project, spec: broken, commit: "c1"))
            let balancer = Balancer(bindHost: "127.0.0.1")
            service = try await ProxyService.start(project: project, balancer: balancer, endpoints: runtime.endpointSource)
            let table = balancer.table
            try await eventually(.seconds(10), "2 ready, 1 unhealthy") {
                table.state(of: a.id) == .ready && table.state(of: b.id) == .ready && table.state(of: bad.id) == .unhealthy
            }
            let stop = NIOLockedValueBox(false)
            let first = await Self.steadyLoad(
                port: publish, path: "/version", pause: .milliseconds(1), limit: 30, deadline: .seconds(20), stop: stop)
            #expect(first.failures == [])
            #expect(first.ok == 30)
            #expect(table.snapshot().first { $0.instance == bad.id }?.totalConnections == 0)
            #expect(table.snapshot().first { $0.instance == bad.id }?.lastProbe?.hasSuffix("answered HTTP 404") == true)

            // docker kill: the balancer hears the event and takes it out; then it is gone.
            try await runtime.client.killContainer(a.id)
            try await eventually(.seconds(5), "the killed replica out of rotation") { table.state(of: a.id) != .ready }
            let second = await Self.steadyLoad(
                port: publish, path: "/version", pause: .milliseconds(1), limit: 30, deadline: .seconds(20), stop: stop)
            #expect(second.failures == [])
            #expect(table.snapshot().first { $0.instance == b.id }?.totalConnections == first.ok / 2 + 30)
        } catch {
            await service?.shutdown()
            try? await runtime.destroyProject(project)
            throw error
        }
        await service?.shutdown()
        try await runtime.destroyProject(project)
    }

    /// `berth proxy` as its own process (the way it is deployed): it finds the replicas by
    /// itself, the client finds it through the state file, and a scale-down 3 → 1 through
    /// drain under a steady load fails no request. Then the proxy stops on SIGTERM and
    /// removes its state file.
    @Test func theBerthProxyProcessScalesDown3To1WithoutAFailedRequest() async throws {
        let runtime = try await DockerRuntime.connect()
        let project = "bp-proc-\(UInt32.random(in: 0...UInt32.max) % 0xFFFFFF)"
        let publish = try await Self.freePort()
        let stateDir = FileManager.default.temporaryDirectory.appendingPathComponent("berth-proxy-\(project)").path
        let health = HealthCheck(
            probe: .http(path: "/healthz", port: 8080), interval: Millis(200), timeout: Millis(500),
            failureThreshold: 2)
        let spec = ServiceSpec(
            name: "gateway", image: "shop/gateway:1.0", ports: [PortSpec(containerPort: 8080, publish: publish)],
            health: health, stopGracePeriod: .seconds(1))
        var process: ChildProcess?
        defer {
            process?.terminate()
            try? FileManager.default.removeItem(atPath: stateDir)
        }
        do {
            var replicas: [Instance] = []
            for _ in 0..<3 {
                let instance = try await runtime.startInstance(.init(project: project, spec: spec, commit: "c1"))
                #expect(try await runtime.waitHealthy(instance, check: health, deadline: .now + .seconds(20)) == .healthy)
                replicas.append(instance)
            }
            process = try ChildProcess(
                try ProcessRunner.berthExecutable(),
                ["proxy", "--project", project, "--state-dir", stateDir, "--bind", "127.0.0.1"])
            try await eventually(.seconds(10), "the state file") {
                (try? ProxyStateFile.read(directory: stateDir, project: project)) != nil
            }
            let control = try ProxyControlClient(stateDirectory: stateDir, project: project)
            let deadline = ContinuousClock.now + .seconds(10)
            while try await control.endpoints().endpoints.filter({ $0.state == .ready }).count < 3 {
                #expect(ContinuousClock.now < deadline, "3 ready endpoints in berth proxy")
                if ContinuousClock.now >= deadline { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let stop = NIOLockedValueBox(false)
            let load = Task {
                await Self.steadyLoad(
                    port: publish, path: "/version", pause: .milliseconds(5), limit: 20_000, deadline: .seconds(60),
                    stop: stop)
            }
            try await Task.sleep(for: .milliseconds(300))
            for instance in replicas.dropFirst() {
                let drained = try await control.drain(instance: instance.id, grace: .seconds(5))
                #expect(drained.drained && drained.known)
                try await runtime.removeInstance(id: instance.id, grace: .seconds(1))
            }
            try await Task.sleep(for: .milliseconds(300))
            stop.withLockedValue { $0 = true }
            let result = await load.value
            print("steady load through scale 3 → 1 (berth proxy process): \(result.ok + result.failures.count) requests, \(result.failures.count) failed")
            #expect(result.failures == [])
            #expect(result.ok >= 50)
            let forgotten = ContinuousClock.now + .seconds(10)
            while try await control.endpoints().endpoints.count != 1, ContinuousClock.now < forgotten {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(try await control.endpoints().endpoints.map(\.instance) == [replicas[0].id])
            let metrics = try await control.metrics()
            #expect(metrics.contains("berth_proxy_http_requests_total{project=\"\(project)\",service=\"gateway\"} \(result.ok)\n"))
            #expect(process?.terminate(SIGTERM, grace: .seconds(30)) == 0)
            #expect(!FileManager.default.fileExists(atPath: ProxyStateFile.path(directory: stateDir, project: project)))
        } catch {
            try? await runtime.destroyProject(project)
            throw error
        }
        try await runtime.destroyProject(project)
    }

    /// Docker's `start` of a new replica reaches the proxy after the executor's `ready`
    /// (replayed here with the very event Docker sends): the replica stays in rotation.
    /// A real restart (kill, then start) is still a new life. The proxy's own probe never
    /// passes here (404, and failures do not count during the start period), so only
    /// `ready` and the events decide the state.
    @Test func aLateStartEventDoesNotUndoReady() async throws {
        let runtime = try await DockerRuntime.connect()
        let project = "bp-late-\(UInt32.random(in: 0...UInt32.max) % 0xFFFFFF)"
        let publish = try await Self.freePort()
        let spec = ServiceSpec(
            name: "customer", image: "shop/customer:1.0", ports: [PortSpec(containerPort: 8080, publish: publish)],
            health: HealthCheck(
                probe: .http(path: "/no-such-page", port: 8080), interval: Millis(100), timeout: Millis(500),
                startPeriod: .seconds(60), failureThreshold: 1),
            stopGracePeriod: .seconds(1))
        var service: ProxyService?
        do {
            let instance = try await runtime.startInstance(.init(project: project, spec: spec, commit: "c1"))
            let balancer = Balancer(bindHost: "127.0.0.1")
            let started = try await ProxyService.start(project: project, balancer: balancer, endpoints: runtime.endpointSource)
            service = started
            let table = balancer.table
            try await eventually(.seconds(10), "the replica known as starting") { table.state(of: instance.id) == .starting }
            #expect(await started.ready(instance: instance.id) == instance.id)
            #expect(table.state(of: instance.id) == .ready)

            let discovery = try #require(started.discovery)
            let late = try JSONDecoder().decode(
                Engine.Event.self,
                from: Data(#"{"Type":"container","Action":"start","Actor":{"ID":"\#(instance.id)"}}"#.utf8))
            let change = try #require(await runtime.endpointSource.change(for: late, project: project))
            await discovery.handle(change)
            #expect(table.state(of: instance.id) == .ready)
            try await Task.sleep(for: .milliseconds(300))
            #expect(table.state(of: instance.id) == .ready)

            // Killed and started again: Docker's own events make it a new life.
            try await runtime.client.killContainer(instance.id)
            try await eventually(.seconds(5), "the killed replica out of rotation") { table.state(of: instance.id) == .draining }
            try await runtime.client.startContainer(instance.id)
            try await eventually(.seconds(5), "the restarted replica starting afresh") {
                table.state(of: instance.id) == .starting
            }
        } catch {
            await service?.shutdown()
            try? await runtime.destroyProject(project)
            throw error
        }
        await service?.shutdown()
        try await runtime.destroyProject(project)
        #expect(try await runtime.client.listContainers(labels: [BerthLabel.project: project]).isEmpty)
    }
}
