/// Per-service request and connection counters, read back from the balancer. The proxy's
/// control API client implements it (`GET /v1/traffic`); an autoscaler in `berth watch`
/// reads it about once a second and computes a rate from `recent`.
public protocol TrafficStatistics: Sendable {
    /// The balancer's counters for every service it serves, sorted by service name.
    func traffic() async throws -> TrafficReport
}

/// Everything the balancer counted, at one moment.
public struct TrafficReport: Sendable, Hashable, Codable {
    /// Whole seconds since the balancer started (monotonic). It goes back when the balancer
    /// restarts, and with it every cumulative counter.
    public var uptimeSeconds: Int64
    /// Sorted by service name.
    public var services: [ServiceTraffic]

    public init(uptimeSeconds: Int64, services: [ServiceTraffic]) {
        self.uptimeSeconds = uptimeSeconds
        self.services = services.sorted { $0.service < $1.service }
    }

    public func service(_ name: String) -> ServiceTraffic? { services.first { $0.service == name } }
}

/// One service's counters: cumulative since the balancer started, plus the last seconds.
public struct ServiceTraffic: Sendable, Hashable, Codable {
    public var service: String
    /// HTTP/1.x requests seen from clients (keep-alive aware), since the balancer started.
    public var requestsTotal: Int
    /// Client connections forwarded to a replica, since the balancer started.
    public var connectionsTotal: Int
    /// Client connections open now.
    public var connectionsActive: Int
    /// One sample per whole second that ended, oldest first (a minute at most); seconds
    /// with nothing counted are present with zeros.
    public var recent: [TrafficSample]
    /// Client connections the balancer holds now because no replica of the service is
    /// ready (a standby service scaled to zero, or starting): the autoscaler's demand
    /// signal. 0 from a balancer that predates it.
    public var connectionsWaiting: Int

    public init(
        service: String, requestsTotal: Int, connectionsTotal: Int, connectionsActive: Int,
        recent: [TrafficSample] = [], connectionsWaiting: Int = 0
    ) {
        self.service = service
        self.requestsTotal = requestsTotal
        self.connectionsTotal = connectionsTotal
        self.connectionsActive = connectionsActive
        self.recent = recent.sorted { $0.second < $1.second }
        self.connectionsWaiting = connectionsWaiting
    }

    enum CodingKeys: String, CodingKey {
        case service, requestsTotal, connectionsTotal, connectionsActive, recent, connectionsWaiting
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            service: try c.decode(String.self, forKey: .service), requestsTotal: try c.decode(Int.self, forKey: .requestsTotal),
            connectionsTotal: try c.decode(Int.self, forKey: .connectionsTotal),
            connectionsActive: try c.decode(Int.self, forKey: .connectionsActive),
            recent: try c.decode([TrafficSample].self, forKey: .recent),
            connectionsWaiting: try c.decodeIfPresent(Int.self, forKey: .connectionsWaiting) ?? 0)
    }

    /// Requests per second over the last `seconds` samples (fewer when fewer exist); nil
    /// with no sample.
    public func requestsPerSecond(lastSeconds seconds: Int) -> Double? {
        rate(lastSeconds: seconds) { $0.requests }
    }

    /// New connections per second over the last `seconds` samples; nil with no sample.
    public func connectionsPerSecond(lastSeconds seconds: Int) -> Double? {
        rate(lastSeconds: seconds) { $0.connections }
    }

    private func rate(lastSeconds seconds: Int, _ value: (TrafficSample) -> Int) -> Double? {
        let window = recent.suffix(max(1, seconds))
        guard !window.isEmpty else { return nil }
        return Double(window.reduce(0) { $0 + value($1) }) / Double(window.count)
    }
}

/// What one second brought.
public struct TrafficSample: Sendable, Hashable, Codable {
    /// The second that ended, as whole seconds since the balancer started.
    public var second: Int64
    /// HTTP requests counted in that second.
    public var requests: Int
    /// New client connections in that second.
    public var connections: Int

    public init(second: Int64, requests: Int, connections: Int) {
        self.second = second
        self.requests = requests
        self.connections = connections
    }
}

/// A service whose published ports the balancer keeps listening on while it runs no
/// replica, holding new connections until one is ready (`berth watch` declares its
/// autoscaled services: scale to zero and back on the first request).
public struct StandbyService: Sendable, Hashable, Codable {
    public var service: String
    /// Published host ports, sorted.
    public var publish: [Int]

    public init(service: String, publish: [Int]) {
        self.service = service
        self.publish = publish.sorted()
    }
}
