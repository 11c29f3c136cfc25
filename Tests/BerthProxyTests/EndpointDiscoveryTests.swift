import BerthCore
@testable import BerthProxy
import Foundation
import NIOConcurrencyHelpers
import Testing

/// An `EndpointSource` the test scripts: a snapshot it sets, and changes it sends.
final class ScriptedEndpointSource: EndpointSource {
    private let state = NIOLockedValueBox<(snapshot: EndpointSnapshot, continuation: AsyncThrowingStream<EndpointChange, any Error>.Continuation?)>(
        (EndpointSnapshot(running: []), nil))

    func set(_ snapshot: EndpointSnapshot) { state.withLockedValue { $0.snapshot = snapshot } }

    func send(_ change: EndpointChange) { _ = state.withLockedValue { $0.continuation }?.yield(change) }

    var subscribed: Bool { state.withLockedValue { $0.continuation != nil } }

    func endpoints(project: String) async throws -> EndpointSnapshot { state.withLockedValue { $0.snapshot } }

    func endpoint(project: String, instanceID: String) async throws -> ServiceEndpoint? {
        state.withLockedValue { $0.snapshot.running.first { $0.instanceID == instanceID } }
    }

    func endpointChanges(project: String) async throws -> AsyncThrowingStream<EndpointChange, any Error> {
        let (stream, continuation) = AsyncThrowingStream<EndpointChange, any Error>.makeStream()
        state.withLockedValue { $0.continuation = continuation }
        return stream
    }
}

@Suite("Endpoint discovery through the EndpointSource port")
struct EndpointDiscoveryTests {
    /// An endpoint as a Swarm task is: a host and a port that is not the container port.
    /// The balancer forwards to `host:port`, and probes the check's container port at the
    /// port it maps to.
    @Test func endpointsAreHostAndPortAndFollowTheSourcesChanges() async throws {
        let a = try await TestBackend.start("task-a", .tagEcho)
        let b = try await TestBackend.start("task-b", .tagEcho)
        let publish = try await refusedPort()
        func endpoint(_ backend: TestBackend, health: HealthCheck?) -> ServiceEndpoint {
            ServiceEndpoint(
                instanceID: backend.name, service: "web", node: "node-1", host: "127.0.0.1",
                ports: [EndpointPort(containerPort: 8080, publish: publish, port: backend.port)], health: health)
        }
        let tcp = HealthCheck(probe: .tcp(port: 8080), interval: Millis(100), timeout: Millis(500))
        let source = ScriptedEndpointSource()
        source.set(EndpointSnapshot(running: [endpoint(a, health: nil), endpoint(b, health: tcp)]))
        let balancer = Balancer(bindHost: "127.0.0.1")
        let service = try await ProxyService.start(project: "shop", balancer: balancer, endpoints: source)
        defer { Task { await service.shutdown(); await a.close(); await b.close() } }
        let table = balancer.table

        // No health check: ready at once; a tcp check passes at the mapped port.
        #expect(table.state(of: "task-a") == .ready)
        try await eventually(.seconds(5), "task-b ready by its probe") { table.state(of: "task-b") == .ready }
        #expect(table.snapshot().first { $0.instance == "task-b" }?.lastProbe == "pass")
        let greeting = try await TestClient.exchange(port: publish, until: { $0.hasSuffix("\n") })
        #expect(greeting == "task-a\n" || greeting == "task-b\n")

        try await eventually(.seconds(5), "the change stream subscribed") { source.subscribed }
        source.send(.stopping(instanceID: "task-b"))
        try await eventually(.seconds(5), "task-b retired") { table.state(of: "task-b") == .draining }
        for _ in 0..<4 {
            #expect(try await TestClient.exchange(port: publish, until: { $0.hasSuffix("\n") }) == "task-a\n")
        }
        source.send(.started(endpoint(b, health: tcp)))
        try await eventually(.seconds(5), "task-b's new life probed ready") { table.state(of: "task-b") == .ready }
        source.send(.removed(instanceID: "task-a"))
        try await eventually(.seconds(5), "task-a forgotten") { table.state(of: "task-a") == nil }
        #expect(try await TestClient.exchange(port: publish, until: { $0.hasSuffix("\n") }) == "task-b\n")
    }

    @Test func trafficIsCountedPerServiceAndSecond() async throws {
        let backend = try await TestBackend.start("aaaaaaaa1", .tagEcho)
        let (balancer, port) = try await makeBalancer()
        let service = try await ProxyService.start(project: "shop", balancer: balancer, endpoints: nil)
        defer { Task { await service.shutdown(); await backend.close() } }
        balancer.table.upsert(backend.endpoint, state: .ready)
        for _ in 0..<3 {
            #expect(try await TestClient.exchange(port: port, until: { $0.hasSuffix("\n") }) == "aaaaaaaa1\n")
        }
        let client = ProxyControlClient(port: service.controlPort)
        // The three connections fall into whole seconds that end within about two.
        var report = try await client.traffic()
        let deadline = ContinuousClock.now + .seconds(5)
        while report.service("web")?.recent.reduce(0, { $0 + $1.connections }) != 3, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            report = try await client.traffic()
        }
        let web = try #require(report.service("web"))
        #expect(report.services.map(\.service) == ["web"])
        #expect(web.connectionsTotal == 3)
        #expect(web.recent.reduce(0) { $0 + $1.connections } == 3)
        #expect(web.recent.map(\.second) == Array(1...Int64(web.recent.count)))
        #expect(report.uptimeSeconds >= Int64(web.recent.count))
    }

    @Test func historyKeepsAMinuteOfDeltas() {
        var history = TrafficHistory()
        var counters = ServiceCounters()
        for second in Int64(1)...70 {
            counters.connectionsTotal += 2
            counters.httpRequests += Int(second)
            history.record(second: second, counters: ["web": counters])
        }
        let web = history.report(uptimeSeconds: 70, counters: ["web": counters]).services[0]
        #expect(web.recent.count == TrafficHistory.capacity)
        #expect(web.recent.first == TrafficSample(second: 11, requests: 11, connections: 2))
        #expect(web.recent.last == TrafficSample(second: 70, requests: 70, connections: 2))
        #expect(web.requestsTotal == (1...70).reduce(0, +))
        #expect(web.requestsPerSecond(lastSeconds: 2) == 69.5)
    }
}
