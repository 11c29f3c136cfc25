import BerthCore
@testable import BerthProxy
import Foundation
import Testing

/// `Balancer.syncListeners` runs from several tasks at once: discovery's change handling
/// and its periodic resync (an actor's two tasks, which interleave at every await), and the
/// control API's `PUT /v1/services`. Each one that finds a wanted port not listening yet
/// opens it.
@Suite struct ListenerSyncRaceTests {
    /// Two syncs that both open the published port (bound on the port itself, as `berth
    /// proxy` does): the port listens once and stays the service's. The loser's bind used to
    /// fail (address in use) and take the port's service out of the table, while the
    /// winner's listener stayed open: every connection on it was then refused until the
    /// proxy restarted.
    @Test func twoSyncsOpeningOnePortAtOnceLeaveItServed() async throws {
        let backend = try await TestBackend.start("aaaaaaaa1", .tagEcho)
        let publish = try await refusedPort()
        let balancer = Balancer(bindHost: "127.0.0.1")
        defer { Task { await balancer.shutdown(); await backend.close() } }
        balancer.table.upsert(
            Endpoint(instance: "aaaaaaaa1", service: "web", host: "127.0.0.1", ports: [publish: backend.port]), state: .ready)
        var lost = 0
        for _ in 0..<200 {
            await balancer.stopListening(publish: publish)
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await balancer.syncListeners() }
                group.addTask { await balancer.syncListeners() }
            }
            if balancer.table.service(publishedOn: publish) != "web" { lost += 1 }
        }
        #expect(lost == 0, "rounds of 200 whose port lost its service")
        #expect(balancer.listening == [publish: "web"])
        #expect(try await TestClient.exchange(port: publish, until: { $0.hasSuffix("\n") }) == "aaaaaaaa1\n")
    }
}
