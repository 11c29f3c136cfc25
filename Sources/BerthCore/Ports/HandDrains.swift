/// What `status` learns from the project's load balancer: the replicas someone drained by
/// hand (a control call that named no hold, e.g. `curl … POST /v1/drain`). The balancer
/// keeps those out of rotation until `POST /v1/ready` for them or until they stop, so a
/// status that only reads the runtime would call them serving.
public protocol HandDrainSource: Sendable {
    /// The drains by hand in force, sorted by instance; empty when no balancer answers.
    func handDrains() async -> [HandDrain]
}

/// One replica drained by hand in the balancer.
public struct HandDrain: Sendable, Hashable, Codable {
    public var instance: String
    public var service: String
    /// When it was drained, RFC 3339 UTC.
    public var since: String

    public init(instance: String, service: String, since: String) {
        self.instance = instance
        self.service = service
        self.since = since
    }

    /// The note on a service's status for its replicas drained by hand (at least one):
    /// `1 replica drained by hand in berth proxy since 2026-12-08T00:10:00Z (out of rotation:
    /// 1a2b3c4d5e6f; POST /v1/ready to the proxy's control API returns it)`. The earliest
    /// time; ids shortened to 12 characters, sorted.
    public static func note(_ drains: [HandDrain]) -> String {
        let n = drains.count
        let since = drains.map(\.since).min() ?? ""
        let ids = drains.map { String($0.instance.prefix(12)) }.sorted().joined(separator: ", ")
        return "\(n) replica\(n == 1 ? "" : "s") drained by hand in berth proxy since \(since) "
            + "(out of rotation: \(ids); POST /v1/ready to the proxy's control API returns \(n == 1 ? "it" : "them"))"
    }
}

/// No balancer: nothing drained by hand.
public struct NoHandDrains: HandDrainSource {
    public init() {}
    public func handDrains() async -> [HandDrain] { [] }
}
