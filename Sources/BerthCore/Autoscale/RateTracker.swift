/// A service's request rate over a sliding window, from the balancer's cumulative counters
/// read at moments of the reader's choosing (`berth watch` reads them about four times a
/// second): the rate over the last `window` is the difference of two readings divided by the
/// time between them, so it needs no clock in the balancer and no alignment with its seconds.
///
/// The rate is HTTP requests per second, or new connections per second when those are more
/// (a plain TCP service counts no requests; an HTTP/1.0 client opens one connection per
/// request): `max(Δrequests, Δconnections) / Δt`.
///
/// Until two readings span the window (a watch that just started), the balancer's own
/// history stands in: its last whole seconds (`ServiceTraffic.recent`), so a restarted watch
/// decides at its first tick. A balancer that restarted (its uptime or a counter went back)
/// starts the readings afresh.
public struct RateTracker: Sendable, Hashable {
    struct Reading: Sendable, Hashable {
        var at: Int64
        var requests: Int
        var connections: Int
    }

    private var readings: [Reading] = []
    private var uptime: Int64 = -1
    private var recent: [TrafficSample] = []
    /// Readings older than this (ms before the newest) are dropped.
    public let keepMs: Int64

    public init(keepMs: Int64 = 60_000) { self.keepMs = keepMs }

    /// A reading of `traffic` (nil: the balancer counted nothing for the service yet) taken
    /// at `now` (monotonic ms), from a balancer up for `uptimeSeconds`.
    public mutating func record(_ traffic: ServiceTraffic?, uptimeSeconds: Int64, at now: Int64) {
        let reading = Reading(at: now, requests: traffic?.requestsTotal ?? 0, connections: traffic?.connectionsTotal ?? 0)
        if let last = readings.last,
            uptimeSeconds < uptime || reading.requests < last.requests || reading.connections < last.connections
                || now < last.at
        {
            readings = []
        }
        uptime = uptimeSeconds
        recent = traffic?.recent ?? []
        readings.append(reading)
        if let newest = readings.last?.at {
            while readings.count > 2, readings[1].at <= newest - keepMs { readings.removeFirst() }
        }
    }

    /// The rate over about the last `windowMs` and the span it was measured over: the
    /// newest reading against the newest one at least `windowMs` older; failing that, the
    /// oldest reading when it is at least half a window older; failing that, the balancer's
    /// last whole seconds. Nil with nothing to go on.
    public func rate(windowMs: Int64) -> (perSecond: Double, windowMs: Int64)? {
        if let newest = readings.last {
            let base = readings.last { $0.at <= newest.at - windowMs }
                ?? readings.first.flatMap { newest.at - $0.at >= Swift.max(1, windowMs / 2) ? $0 : nil }
            if let base, newest.at > base.at {
                let span = newest.at - base.at
                let count = Swift.max(newest.requests - base.requests, newest.connections - base.connections)
                return (Double(count) * 1000 / Double(span), span)
            }
        }
        let seconds = Swift.max(1, Int((windowMs + 999) / 1000))
        let last = recent.suffix(seconds)
        guard !last.isEmpty else { return nil }
        let requests = last.reduce(0) { $0 + $1.requests }
        let connections = last.reduce(0) { $0 + $1.connections }
        return (Double(Swift.max(requests, connections)) / Double(last.count), Int64(last.count) * 1000)
    }
}

extension ServiceTraffic {
    /// Requests per second over the last `seconds` whole seconds the balancer recorded, or
    /// new connections per second when those are more (plain TCP): the rate `berth status`
    /// shows. Nil with no sample.
    public func requestRate(lastSeconds seconds: Int) -> Double? {
        guard let requests = requestsPerSecond(lastSeconds: seconds),
            let connections = connectionsPerSecond(lastSeconds: seconds)
        else { return nil }
        return Swift.max(requests, connections)
    }
}
