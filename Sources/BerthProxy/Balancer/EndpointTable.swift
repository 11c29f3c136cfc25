public import BerthCore
import NIOConcurrencyHelpers
public import NIOCore

/// Where a replica takes connections: its address on the project network and, for each
/// published host port of its service, the container port that serves it.
public struct Endpoint: Sendable, Hashable {
    /// The instance (container) id.
    public var instance: String
    public var service: String
    /// The replica's IP address (or host name) on the project network.
    public var host: String
    /// Published host port → container port.
    public var ports: [Int: Int]

    public init(instance: String, service: String, host: String, ports: [Int: Int]) {
        self.instance = instance
        self.service = service
        self.host = host
        self.ports = ports
    }
}

/// Whether an endpoint takes new connections. Only `.ready` does.
public enum EndpointState: String, Sendable, Hashable, Codable, CaseIterable {
    /// Known, not yet healthy: no traffic.
    case starting
    /// Healthy: takes new connections.
    case ready
    /// Failed its health check `failureThreshold` times in a row: no new connections until
    /// a probe passes again.
    case unhealthy
    /// Retired (drained, or the engine is stopping it): takes no new connections; its open
    /// connections finish. A drain with a hold that passes while the instance still runs
    /// puts it back (see `EndpointTable.expireDrains`); one by hand lasts until `ready`.
    case draining
}

/// One row of `GET /v1/endpoints`.
public struct EndpointStatus: Sendable, Hashable, Codable {
    public var instance: String
    public var service: String
    public var host: String
    public var ports: [PortMapping]
    public var state: EndpointState
    public var activeConnections: Int
    public var totalConnections: Int
    public var lastProbe: String?
    /// Why the control plane keeps it out of rotation, while it does (absent otherwise).
    public var drain: DrainMark?

    public struct PortMapping: Sendable, Hashable, Codable {
        public var publish: Int
        public var containerPort: Int
    }
}

/// A reservation of one connection slot on an endpoint, from `pick` until `release`.
public struct Lease: Sendable {
    public var instance: String
    public var service: String
    public var host: String
    public var port: Int
    /// The replica's socket address when `host` is an IP literal (no resolver on the
    /// connection path), else nil.
    public var address: SocketAddress?
}

/// How a drain ended.
public struct DrainResult: Sendable, Hashable, Codable {
    public var instance: String
    /// True when the endpoint had no open connection left (or was unknown) before the grace
    /// period ran out.
    public var drained: Bool
    /// Connections still open when the drain returned (0 when drained).
    public var remaining: Int
    /// Whether the balancer knew the instance.
    public var known: Bool
    public var waitedMs: Int64

    public init(instance: String, drained: Bool, remaining: Int, known: Bool, waitedMs: Int64) {
        self.instance = instance
        self.drained = drained
        self.remaining = remaining
        self.known = known
        self.waitedMs = waitedMs
    }
}

/// The balancer's shared table of endpoints and counters, read and written by every event
/// loop and by the control plane. All state sits behind one lock (`NIOLockedValueBox`); no
/// callback runs while it is held.
///
/// **Balancing: least connections, ties by round robin.** For a new client connection on a
/// published port, the candidates are the endpoints of that port's service that are `.ready`
/// and were not already tried for this connection. The one with the fewest open connections
/// wins; among equals, the scan starts one place further for every pick (a per-port
/// cursor over the endpoints in the order they were added), so equal replicas take turns.
/// A connection counts against its endpoint from the pick (before the connect completes)
/// until both of its sockets are closed, so a drain also waits for connects in flight.
public final class EndpointTable: Sendable {
    struct Entry {
        var endpoint: Endpoint
        var state: EndpointState
        var order: Int
        var active = 0
        var total = 0
        var lastProbe: String?
        /// Container port → socket address, resolved once (outside the lock).
        var addresses: [Int: SocketAddress]
        /// The state it would have were it not drained: what its start and its probes said
        /// last. An expired drain puts it back in this state.
        var undrained: EndpointState

        init(
            endpoint: Endpoint, state: EndpointState, order: Int, addresses: [Int: SocketAddress],
            undrained: EndpointState? = nil
        ) {
            self.endpoint = endpoint
            self.state = state
            self.order = order
            self.addresses = addresses
            self.undrained = undrained ?? state
        }

        /// An IP literal is parsed; a host name is resolved here, on the control plane, so
        /// that no connection waits for a resolver.
        static func addresses(of endpoint: Endpoint) -> [Int: SocketAddress] {
            var out: [Int: SocketAddress] = [:]
            for port in endpoint.ports.values {
                out[port] =
                    (try? SocketAddress(ipAddress: endpoint.host, port: port))
                    ?? (try? SocketAddress.makeAddressResolvingHost(endpoint.host, port: port))
            }
            return out
        }
    }

    struct Waiter {
        var id: Int
        var instance: String
        var started: ContinuousClock.Instant
        var continuation: CheckedContinuation<DrainResult, Never>
    }

    struct State {
        var entries: [String: Entry] = [:]
        /// Instances retired by the control plane (`drain`), before or after this table
        /// heard of them: no new connections until `markReady`, their next life after a
        /// stop, or the end of the drain's hold (`expireDrains`).
        var retired: [String: Retirement] = [:]
        /// Drains whose hold passed while their instance still ran (`expireDrains`).
        var drainsExpired = 0
        /// Instances the engine reported stopping (or found not running) since their last
        /// start: their next start is a new life.
        var halted: Set<String> = []
        var services: [String: ServiceCounters] = [:]
        /// Published host port → service.
        var listeners: [Int: String] = [:]
        var cursors: [Int: Int] = [:]
        var nextOrder = 0
        var nextWaiter = 0
        var waiters: [Int: Waiter] = [:]
        /// Published port → service, for services whose connections are held while none
        /// of their replicas is ready (`Standby`).
        var standby: [Int: String] = [:]
    }

    let box = NIOLockedValueBox(State())
    /// Runs inside every `drain`, after the instance is retired and before the drain waits
    /// for its connections: tests hold a drain there to order it against its own timeout.
    let drainWillWait: (@Sendable (String) async -> Void)?

    public init() { drainWillWait = nil }

    init(drainWillWait: @escaping @Sendable (String) async -> Void) { self.drainWillWait = drainWillWait }

    // MARK: - Endpoints

    /// Adds `endpoint` (or updates its address and ports), in `state` unless it was retired.
    public func upsert(_ endpoint: Endpoint, state: EndpointState) {
        let addresses = Entry.addresses(of: endpoint)
        box.withLockedValue { s in
            let asked = state
            let state = s.retired[endpoint.instance] != nil ? .draining : state
            if var entry = s.entries[endpoint.instance] {
                entry.endpoint = endpoint
                entry.addresses = addresses
                if entry.state != .draining {
                    entry.state = state
                    entry.undrained = asked
                }
                s.entries[endpoint.instance] = entry
            } else {
                s.entries[endpoint.instance] = Entry(
                    endpoint: endpoint, state: state, order: s.nextOrder, addresses: addresses, undrained: asked)
                s.nextOrder += 1
            }
            if s.services[endpoint.service] == nil { s.services[endpoint.service] = ServiceCounters() }
        }
    }

    /// What a container start meant to the table.
    public enum Start: Sendable, Hashable {
        /// The table did not know the instance: added in the state asked for (draining if
        /// it was retired before and has not stopped since).
        case added
        /// The engine had stopped it: a new life, in the state asked for, retirement
        /// forgotten, open connections still counted.
        case restarted
        /// The table already follows this life of the instance (a start event that arrived
        /// after `ready`, `drain` or a probe had a say): address and ports refreshed, state
        /// kept.
        case unchanged
    }

    /// The engine reports `endpoint`'s container running (a `start` event, learnt late or
    /// not). Only a start after `halted` is a new life; a late start event of the life the
    /// table follows never undoes what the control plane or the probes decided.
    @discardableResult
    public func started(_ endpoint: Endpoint, state: EndpointState) -> Start {
        let addresses = Entry.addresses(of: endpoint)
        return box.withLockedValue { s in
            if s.services[endpoint.service] == nil { s.services[endpoint.service] = ServiceCounters() }
            let restarted = s.halted.remove(endpoint.instance) != nil
            if restarted { s.retired[endpoint.instance] = nil }
            guard var entry = s.entries[endpoint.instance] else {
                let asked = state
                let state = s.retired[endpoint.instance] != nil ? .draining : state
                s.entries[endpoint.instance] = Entry(
                    endpoint: endpoint, state: state, order: s.nextOrder, addresses: addresses, undrained: asked)
                s.nextOrder += 1
                return restarted ? .restarted : .added
            }
            entry.endpoint = endpoint
            entry.addresses = addresses
            if restarted {
                entry.state = state
                entry.undrained = state
            }
            s.entries[endpoint.instance] = entry
            return restarted ? .restarted : .unchanged
        }
    }

    /// The engine reports `instance` stopping (`kill`, `stop`, `die`) or not running: no
    /// new connections from now on, and its next start is a new life. Works for instances
    /// the table does not know yet, too.
    public func halted(_ instance: String) {
        box.withLockedValue { s in
            s.halted.insert(instance)
            guard var entry = s.entries[instance] else { return }
            entry.state = .draining
            s.entries[instance] = entry
        }
    }

    /// Sets the state of a known endpoint; a draining endpoint stays draining. Returns false
    /// when the instance is unknown.
    @discardableResult
    public func setState(_ instance: String, _ state: EndpointState, probe: String? = nil) -> Bool {
        box.withLockedValue { s in
            guard var entry = s.entries[instance] else { return false }
            if entry.state != .draining { entry.state = state }
            entry.undrained = state
            if let probe { entry.lastProbe = probe }
            s.entries[instance] = entry
            return true
        }
    }

    /// Marks an instance ready, also one that was retired (the control plane changed its
    /// mind, e.g. a rollback keeps the old replica). False when unknown.
    @discardableResult
    public func markReady(_ instance: String) -> Bool {
        box.withLockedValue { s in
            s.retired[instance] = nil
            guard var entry = s.entries[instance] else { return false }
            entry.state = .ready
            entry.undrained = .ready
            s.entries[instance] = entry
            return true
        }
    }

    /// Forgets an instance that is gone (container destroyed). Its open connections, if any,
    /// still release their slots harmlessly; pending drains of it return at once.
    public func remove(_ instance: String) {
        let resumed: [(CheckedContinuation<DrainResult, Never>, DrainResult)] = box.withLockedValue { s in
            s.entries[instance] = nil
            s.retired[instance] = nil
            s.halted.remove(instance)
            return Self.takeWaiters(&s, instance: instance, remaining: 0, drained: true, known: true)
        }
        for (continuation, result) in resumed { continuation.resume(returning: result) }
    }

    /// The instance ids the table knows, sorted.
    public var instances: [String] { box.withLockedValue { $0.entries.keys.sorted() } }

    public func state(of instance: String) -> EndpointState? { box.withLockedValue { $0.entries[instance]?.state } }

    public func activeConnections(of instance: String) -> Int { box.withLockedValue { $0.entries[instance]?.active ?? 0 } }

    /// Resolves an id or a unique prefix of one (at least 6 characters) to a known instance.
    public func resolve(_ idOrPrefix: String) -> String? {
        box.withLockedValue { s in
            if s.entries[idOrPrefix] != nil { return idOrPrefix }
            guard idOrPrefix.count >= 6 else { return nil }
            let matches = s.entries.keys.filter { $0.hasPrefix(idOrPrefix) }
            return matches.count == 1 ? matches[0] : nil
        }
    }

    /// Every endpoint, sorted by service then instance.
    public func snapshot() -> [EndpointStatus] {
        box.withLockedValue { s in
            s.entries.values.map { entry in
                EndpointStatus(
                    instance: entry.endpoint.instance, service: entry.endpoint.service, host: entry.endpoint.host,
                    ports: entry.endpoint.ports.sorted { $0.key < $1.key }.map {
                        EndpointStatus.PortMapping(publish: $0.key, containerPort: $0.value)
                    },
                    state: entry.state, activeConnections: entry.active, totalConnections: entry.total,
                    lastProbe: entry.lastProbe,
                    drain: entry.state == .draining ? s.retired[entry.endpoint.instance]?.mark : nil)
            }.sorted { ($0.service, $0.instance) < ($1.service, $1.instance) }
        }
    }

    // MARK: - Listeners

    /// Publishes `port` for `service`. A port already published by another service stays
    /// with that service; returns false then.
    @discardableResult
    public func publish(_ port: Int, service: String) -> Bool {
        box.withLockedValue { s in
            if let owner = s.listeners[port], owner != service { return false }
            s.listeners[port] = service
            if s.services[service] == nil { s.services[service] = ServiceCounters() }
            return true
        }
    }

    public func unpublish(_ port: Int) {
        box.withLockedValue { s in
            s.listeners[port] = nil
            s.cursors[port] = nil
        }
    }

    public func service(publishedOn port: Int) -> String? { box.withLockedValue { $0.listeners[port] } }

    // MARK: - Standby (see `Standby`)

    /// The services whose ports stay open and whose connections are held while no replica
    /// is ready; replaces the previous declaration.
    public func declare(_ services: [StandbyService]) {
        box.withLockedValue { s in
            s.standby = [:]
            for service in services {
                for port in service.publish { s.standby[port] = service.service }
                if s.services[service.service] == nil { s.services[service.service] = ServiceCounters() }
            }
        }
    }

    /// The declared standby services, sorted.
    public var standby: [StandbyService] {
        box.withLockedValue { s in
            Dictionary(grouping: s.standby.keys, by: { s.standby[$0]! }).map { StandbyService(service: $0.key, publish: $0.value) }
                .sorted { $0.service < $1.service }
        }
    }

    /// Takes a waiting slot for a new connection on `port` that found no ready replica:
    /// nil when the port's service is not standby (reject it), `held` false when it holds
    /// its maximum already (refuse it), true when held, with the service it is held for.
    func hold(port: Int) -> (held: Bool, service: String)? {
        box.withLockedValue { s in
            guard let service = s.listeners[port], s.standby[port] == service else { return nil }
            guard s.services[service, default: ServiceCounters()].connectionsWaiting < Standby.maxHeldPerService else {
                s.services[service, default: ServiceCounters()].rejected += 1
                return (false, service)
            }
            s.services[service, default: ServiceCounters()].connectionsWaiting += 1
            return (true, service)
        }
    }

    /// Gives back a waiting slot of `service` (the connection goes to a replica, gives up,
    /// or is refused): the service `hold` named, whatever its port means by now (the
    /// declaration and the listeners change while connections are held).
    func unhold(service: String, refused: Bool = false) {
        box.withLockedValue { s in
            s.services[service, default: ServiceCounters()].connectionsWaiting -= 1
            if refused { s.services[service, default: ServiceCounters()].rejected += 1 }
        }
    }

    /// Whether `port`'s service has a ready replica that serves it.
    func hasReady(port: Int) -> Bool {
        box.withLockedValue { s in
            guard let service = s.listeners[port] else { return false }
            return s.entries.values.contains { $0.state == .ready && $0.endpoint.service == service && $0.endpoint.ports[port] != nil }
        }
    }

    /// Published port → service, for every port some known endpoint maps.
    public func wantedListeners() -> [Int: String] {
        box.withLockedValue { s in
            var wanted: [Int: String] = [:]
            for entry in s.entries.values.sorted(by: { $0.order < $1.order }) {
                for port in entry.endpoint.ports.keys where wanted[port] == nil {
                    wanted[port] = entry.endpoint.service
                }
            }
            for (port, service) in s.standby where wanted[port] == nil { wanted[port] = service }
            return wanted
        }
    }

    // MARK: - The data path

    /// Picks the endpoint for a new connection on `port` (least connections, ties by round
    /// robin), skipping `excluded`, and reserves a slot on it. Nil when none is ready; the
    /// caller then rejects the client (and `reject` counts it).
    public func pick(port: Int, excluding excluded: Set<String> = []) -> Lease? {
        box.withLockedValue { s in
            guard let service = s.listeners[port] else { return nil }
            var candidates: [(order: Int, id: String, active: Int, target: Int)] = []
            for (id, entry) in s.entries
            where entry.state == .ready && entry.endpoint.service == service && !excluded.contains(id) {
                if let target = entry.endpoint.ports[port] {
                    candidates.append((entry.order, id, entry.active, target))
                }
            }
            guard !candidates.isEmpty else { return nil }
            candidates.sort { $0.order < $1.order }
            let cursor = s.cursors[port, default: 0]
            s.cursors[port] = cursor &+ 1
            let start = cursor % candidates.count
            var best = candidates[start]
            for step in 1..<candidates.count {
                let candidate = candidates[(start + step) % candidates.count]
                if candidate.active < best.active { best = candidate }
            }
            s.entries[best.id]!.active += 1
            s.entries[best.id]!.total += 1
            let host = s.entries[best.id]!.endpoint.host
            let address = s.entries[best.id]!.addresses[best.target]
            s.services[service, default: ServiceCounters()].connectionsTotal += 1
            s.services[service, default: ServiceCounters()].connectionsActive += 1
            return Lease(instance: best.id, service: service, host: host, port: best.target, address: address)
        }
    }

    /// Gives back the slot of `lease` (the connection closed, or its connect failed; a
    /// connect the balancer could not even start, for want of a descriptor, is not the
    /// replica's failure: `countFailure: false`).
    public func release(_ lease: Lease, connectFailed: Bool = false, countFailure: Bool = true) {
        let resumed: [(CheckedContinuation<DrainResult, Never>, DrainResult)] = box.withLockedValue { s in
            s.services[lease.service, default: ServiceCounters()].connectionsActive -= 1
            if connectFailed && countFailure {
                s.services[lease.service, default: ServiceCounters()].connectionFailed()
            }
            guard var entry = s.entries[lease.instance] else { return [] }
            entry.active -= 1
            if connectFailed { entry.total -= 1 }
            s.entries[lease.instance] = entry
            if entry.active == 0 && entry.state == .draining {
                return Self.takeWaiters(&s, instance: lease.instance, remaining: 0, drained: true, known: true)
            }
            return []
        }
        for (continuation, result) in resumed { continuation.resume(returning: result) }
    }

    /// A connection closed: adds its last traffic and gives back the slot of `lease` (one
    /// lock instead of `account` then `release`).
    public func close(_ lease: Lease, bytesReceived: Int, bytesSent: Int, httpRequests: Int) {
        let resumed: [(CheckedContinuation<DrainResult, Never>, DrainResult)] = box.withLockedValue { s in
            var counters = s.services[lease.service, default: ServiceCounters()]
            counters.connectionsActive -= 1
            counters.bytesReceived += bytesReceived
            counters.bytesSent += bytesSent
            counters.httpRequests += httpRequests
            s.services[lease.service] = counters
            guard var entry = s.entries[lease.instance] else { return [] }
            entry.active -= 1
            s.entries[lease.instance] = entry
            if entry.active == 0 && entry.state == .draining {
                return Self.takeWaiters(&s, instance: lease.instance, remaining: 0, drained: true, known: true)
            }
            return []
        }
        for (continuation, result) in resumed { continuation.resume(returning: result) }
    }

    /// Counts a client connection closed for want of a ready replica.
    public func reject(port: Int) {
        box.withLockedValue { s in
            guard let service = s.listeners[port] else { return }
            s.services[service, default: ServiceCounters()].rejected += 1
        }
    }

    /// Adds traffic counted by one connection since its last report.
    public func account(service: String, bytesReceived: Int, bytesSent: Int, httpRequests: Int) {
        box.withLockedValue { s in
            var counters = s.services[service, default: ServiceCounters()]
            counters.bytesReceived += bytesReceived
            counters.bytesSent += bytesSent
            counters.httpRequests += httpRequests
            s.services[service] = counters
        }
    }

    /// Per-service counters, by service name.
    public func counters() -> [String: ServiceCounters] { box.withLockedValue { $0.services } }
}
