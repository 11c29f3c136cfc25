import BerthCore
@testable import BerthProxy
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// Scale to zero and back: the balancer holds connections of a declared (standby) service
/// while no replica is ready, and forwards them the moment one is.
@Suite("Standby services: connections held until a replica is ready")
struct StandbyTests {
    static let request = "GET /version HTTP/1.1\r\nHost: berth\r\n\r\n"

    @Test func aHeldConnectionCountsAsWaitingAndIsForwardedWhenAReplicaIsReady() async throws {
        let backend = try await TestBackend.start("aaaaaaaa1", .http)
        let balancer = Balancer(bindHost: "127.0.0.1")
        let port = try await balancer.listen(publish: 8081, service: "web", bindPort: 0)
        let service = try await ProxyService.start(project: "shop", balancer: balancer, endpoints: nil)
        defer { Task { await service.shutdown(); await backend.close() } }
        let client = ProxyControlClient(port: service.controlPort)
        try await client.declare([StandbyService(service: "web", publish: [8081])])
        #expect(balancer.table.standby == [StandbyService(service: "web", publish: [8081])])

        let answer = Task {
            try await TestClient.exchange(port: port, send: Self.request, until: { $0.hasSuffix("aaaaaaaa1") })
        }
        try await eventually(.seconds(10), "one connection waiting") {
            service.traffic().service("web")?.connectionsWaiting == 1
        }
        #expect(try await client.traffic().service("web")?.connectionsWaiting == 1)
        // The replica starts; once the control API says it is ready, the held request goes to it.
        balancer.table.upsert(backend.endpoint, state: .starting)
        try await Task.sleep(for: .milliseconds(300))
        #expect(service.traffic().service("web")?.connectionsWaiting == 1)
        #expect(try await client.ready(instance: "aaaaaaaa1") == .ready)
        let text = try await answer.value
        #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(text)")
        #expect(text.hasSuffix("\r\n\r\naaaaaaaa1"))
        #expect(service.traffic().service("web")?.connectionsWaiting == 0)
        #expect(backend.stats.withLockedValue(\.accepted) == 1)
    }

    @Test func pastTheHoldLimitAnHTTPClientGetsA503ThatSaysWhy() async throws {
        let balancer = Balancer(bindHost: "127.0.0.1", holdLimit: .milliseconds(300))
        let port = try await balancer.listen(publish: 8081, service: "web", bindPort: 0)
        defer { Task { await balancer.shutdown() } }
        await balancer.declare([StandbyService(service: "web", publish: [8081])])
        let text = try await TestClient.exchange(port: port, send: Self.request)
        let body = "berth proxy: no replica became ready within 300ms for service web; try again later\n"
        #expect(
            text
                == "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"
                + "Retry-After: 1\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body)
        #expect(balancer.table.counters()["web"]?.connectionsWaiting == 0)
        #expect(balancer.table.counters()["web"]?.rejected == 1)
    }

    /// The declaration changes while a connection is held (watch declares on its own task;
    /// here the service stops being standby, and its listener closes): the connection still
    /// ends at the hold limit, and its waiting slot is given back to the service it was
    /// held for. It used to be given back to whatever the port meant by then (nothing: the
    /// service counted 1 waiting for good; which the autoscaler reads as demand).
    @Test func aConnectionHeldWhenTheDeclarationChangesGivesItsSlotBackToItsService() async throws {
        let balancer = Balancer(bindHost: "127.0.0.1", holdLimit: .milliseconds(300))
        let port = try await balancer.listen(publish: 8081, service: "web", bindPort: 0)
        defer { Task { await balancer.shutdown() } }
        await balancer.declare([StandbyService(service: "web", publish: [8081])])
        let answer = Task { try? await TestClient.exchange(port: port, send: Self.request) }
        try await eventually(.seconds(10), "one connection waiting") {
            balancer.table.counters()["web"]?.connectionsWaiting == 1
        }
        await balancer.declare([])
        #expect(balancer.listening == [:])
        _ = await answer.value
        try await eventually(.seconds(5), "the held connection ended") {
            balancer.table.counters()["web"]?.rejected == 1
        }
        #expect(balancer.table.counters()["web"]?.connectionsWaiting == 0)
        #expect(balancer.table.counters()["web"]?.rejected == 1)
    }

    @Test func aServiceThatIsNotDeclaredIsClosedAtOnceAndItsListenerGoesWithTheDeclaration() async throws {
        let balancer = Balancer(bindHost: "127.0.0.1")
        let port = try await balancer.listen(publish: 8081, service: "web", bindPort: 0)
        defer { Task { await balancer.shutdown() } }
        // Closed with no answer: an end of stream, or a reset when the request was in the
        // proxy's receive buffer as it closed (the kernel's choice; 1 run in 5 here).
        let answer: String
        do {
            answer = try await TestClient.exchange(port: port, send: Self.request)
        } catch let error as IOError where error.errnoCode == ECONNRESET {
            answer = ""
        }
        #expect(answer == "")
        #expect(balancer.table.counters()["web"]?.rejected == 1)
        // Declared, then no longer: the listener of a service with no endpoint closes.
        await balancer.declare([StandbyService(service: "web", publish: [8081])])
        #expect(balancer.listening == [8081: "web"])
        await balancer.declare([])
        #expect(balancer.listening == [:])
    }
}
