import BerthCore
@testable import BerthProxy
import Foundation
import NIOConcurrencyHelpers
import Testing

/// An `EndpointSource` whose next answer can be held: the snapshot (or the one instance) is
/// read when it is asked, and handed over only when the test opens the gate, as a slow
/// `docker ps` answers what ran when it was asked.
final class GatedEndpointSource: EndpointSource {
    private struct State {
        var snapshot = EndpointSnapshot(running: [])
        var armed = false
        var waiting: CheckedContinuation<Void, Never>?
    }
    private let state = NIOLockedValueBox(State())

    func set(_ snapshot: EndpointSnapshot) { state.withLockedValue { $0.snapshot = snapshot } }
    /// The next call reads its answer and then waits for `open()`.
    func arm() { state.withLockedValue { $0.armed = true } }
    var isWaiting: Bool { state.withLockedValue { $0.waiting != nil } }
    func open() { state.withLockedValue { s in defer { s.waiting = nil }; return s.waiting }?.resume() }

    private func answer() async -> EndpointSnapshot {
        let (snapshot, hold) = state.withLockedValue { s in
            defer { s.armed = false }
            return (s.snapshot, s.armed)
        }
        if hold { await withCheckedContinuation { c in state.withLockedValue { $0.waiting = c } } }
        return snapshot
    }

    func endpoints(project: String) async throws -> EndpointSnapshot { await answer() }

    func endpoint(project: String, instanceID: String) async throws -> ServiceEndpoint? {
        await answer().running.first { $0.instanceID == instanceID }
    }

    func endpointChanges(project: String) async throws -> AsyncThrowingStream<EndpointChange, any Error> {
        AsyncThrowingStream { _ in }
    }
}

/// `EndpointDiscovery` is an actor: while a resync (every 10 s, and after every reconnect)
/// waits for the runtime's list, the change stream's events are handled. A list taken
/// before such an event must not undo it.
@Suite struct DiscoveryResyncRaceTests {
    static func endpoint(_ id: String) -> ServiceEndpoint {
        ServiceEndpoint(instanceID: id, service: "web", host: "127.0.0.1", ports: [EndpointPort(containerPort: 8080)])
    }

    /// A replica destroyed while a resync waited came back, ready, from the list taken
    /// before its removal: clients were sent to a container that no longer existed until
    /// the next resync (10 s later).
    @Test func aReplicaRemovedWhileAResyncWaitsStaysForgotten() async throws {
        let source = GatedEndpointSource()
        let balancer = Balancer(bindHost: "127.0.0.1")
        let discovery = EndpointDiscovery(source: source, project: "shop", balancer: balancer)
        source.set(EndpointSnapshot(running: [Self.endpoint("old-replica")]))
        try await discovery.resync()
        #expect(balancer.table.state(of: "old-replica") == .ready)

        source.arm()
        let resync = Task { try await discovery.resync() }
        try await eventually(.seconds(5), "the resync waiting for its list") { source.isWaiting }
        source.set(EndpointSnapshot(running: []))
        await discovery.handle(.stopping(instanceID: "old-replica"))
        await discovery.handle(.removed(instanceID: "old-replica"))
        #expect(balancer.table.state(of: "old-replica") == nil)
        source.open()
        try await resync.value

        #expect(balancer.table.state(of: "old-replica") == nil, "the list taken before the removal must not bring it back")
        #expect(balancer.table.instances == [])
    }

    /// A replica started while a resync waited was forgotten by it (not in the list taken
    /// before its start): no connections for it until the next resync.
    @Test func aReplicaStartedWhileAResyncWaitsStaysKnown() async throws {
        let source = GatedEndpointSource()
        let balancer = Balancer(bindHost: "127.0.0.1")
        let discovery = EndpointDiscovery(source: source, project: "shop", balancer: balancer)
        try await discovery.resync()

        source.arm()
        let resync = Task { try await discovery.resync() }
        try await eventually(.seconds(5), "the resync waiting for its list") { source.isWaiting }
        source.set(EndpointSnapshot(running: [Self.endpoint("new-replica")]))
        await discovery.handle(.started(Self.endpoint("new-replica")))
        #expect(balancer.table.state(of: "new-replica") == .ready)
        source.open()
        try await resync.value

        #expect(balancer.table.state(of: "new-replica") == .ready, "the list taken before the start must not forget it")
        // The next resync, with a list taken after the start, agrees.
        try await discovery.resync()
        #expect(balancer.table.state(of: "new-replica") == .ready)
    }

    /// The same for the control API's `ready` of an instance the balancer had not seen:
    /// looked up in the runtime, it was added even when it stopped meanwhile.
    @Test func anInstanceLearntWhileItStopsIsNotAdded() async throws {
        let source = GatedEndpointSource()
        let balancer = Balancer(bindHost: "127.0.0.1")
        let discovery = EndpointDiscovery(source: source, project: "shop", balancer: balancer)
        source.set(EndpointSnapshot(running: [Self.endpoint("late-replica")]))

        source.arm()
        let learn = Task { try await discovery.learn("late-replica") }
        try await eventually(.seconds(5), "the lookup waiting for its answer") { source.isWaiting }
        source.set(EndpointSnapshot(running: []))
        await discovery.handle(.stopping(instanceID: "late-replica"))
        await discovery.handle(.removed(instanceID: "late-replica"))
        source.open()

        #expect(try await learn.value == false)
        #expect(balancer.table.state(of: "late-replica") == nil)
    }
}
