public import BerthCore

/// The last minute of traffic per service, one sample a second, made from the endpoint
/// table's cumulative counters (`GET /v1/traffic`, read by `berth watch` through the
/// `TrafficStatistics` port). Pure: the balancer calls `record` once a second.
public struct TrafficHistory: Sendable, Hashable {
    public static let capacity = 60

    private var last: [String: Totals] = [:]
    private var samples: [String: [TrafficSample]] = [:]

    struct Totals: Sendable, Hashable {
        var requests: Int
        var connections: Int
    }

    public init() {}

    /// Adds what each service counted since the previous call, as the sample of `second`
    /// (whole seconds since the balancer started). A service seen for the first time counts
    /// from zero.
    public mutating func record(second: Int64, counters: [String: ServiceCounters]) {
        for (service, counter) in counters {
            let before = last[service] ?? Totals(requests: 0, connections: 0)
            let now = Totals(requests: counter.httpRequests, connections: counter.connectionsTotal)
            last[service] = now
            var list = samples[service] ?? []
            list.append(
                TrafficSample(
                    second: second, requests: max(0, now.requests - before.requests),
                    connections: max(0, now.connections - before.connections)))
            if list.count > Self.capacity { list.removeFirst(list.count - Self.capacity) }
            samples[service] = list
        }
    }

    /// The report at `uptimeSeconds`: cumulative counters now, and the recorded seconds.
    public func report(uptimeSeconds: Int64, counters: [String: ServiceCounters]) -> TrafficReport {
        TrafficReport(
            uptimeSeconds: uptimeSeconds,
            services: counters.keys.sorted().map { service in
                let counter = counters[service]!
                return ServiceTraffic(
                    service: service, requestsTotal: counter.httpRequests, connectionsTotal: counter.connectionsTotal,
                    connectionsActive: counter.connectionsActive, recent: samples[service] ?? [],
                    connectionsWaiting: max(0, counter.connectionsWaiting))
            })
    }
}
