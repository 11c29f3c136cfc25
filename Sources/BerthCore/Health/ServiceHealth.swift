/// How well a service runs, ordered from best to worst as Argo CD orders it:
/// Healthy < Progressing < Missing < Degraded. Aggregating takes the worst.
public enum HealthStatus: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case healthy = "Healthy"
    case progressing = "Progressing"
    case missing = "Missing"
    case degraded = "Degraded"

    private var rank: Int {
        switch self {
        case .healthy: 0
        case .progressing: 1
        case .missing: 2
        case .degraded: 3
        }
    }

    public static func < (a: HealthStatus, b: HealthStatus) -> Bool { a.rank < b.rank }

    /// True when `self` is strictly worse than `other`.
    public func isWorse(than other: HealthStatus) -> Bool { other < self }
}

/// Whether what runs matches the desired state (revision and replica count).
public enum SyncStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case synced = "Synced"
    case outOfSync = "OutOfSync"
}

/// One service's health and sync, with a sentence for people.
public struct ServiceHealth: Sendable, Hashable, Codable {
    public var status: HealthStatus
    public var sync: SyncStatus
    /// "2 of 3 replicas ready", "waiting for rollout: 1 of 3 new replicas ready", …
    public var message: String
    public var desiredReplicas: Int
    /// Instances at the desired revision that are running.
    public var readyReplicas: Int

    public init(status: HealthStatus, sync: SyncStatus, message: String, desiredReplicas: Int, readyReplicas: Int) {
        self.status = status
        self.sync = sync
        self.message = message
        self.desiredReplicas = desiredReplicas
        self.readyReplicas = readyReplicas
    }

    /// Health of one service from what git asks (`desired`, nil when the service is no
    /// longer desired) and what runs (`instances`).
    ///
    /// Rules, worst first:
    /// - an exited or unhealthy instance → Degraded, naming each failing instance;
    /// - desired replicas > 0 and nothing runs → Missing;
    /// - instances of another revision → Progressing ("waiting for rollout: …");
    /// - fewer ready than desired, or more instances than desired → Progressing;
    /// - otherwise Healthy. A service no longer desired is OutOfSync, its health that of
    ///   its instances.
    public static func assess(desired: ServiceSpec?, instances: [Instance]) -> ServiceHealth {
        let sorted = instances.sorted { $0.id < $1.id }
        let failing = sorted.filter(\.isFailing)
        guard let desired else {
            let running = sorted.filter { $0.state == .running }.count
            let status: HealthStatus = failing.isEmpty ? (running == sorted.count ? .healthy : .progressing) : .degraded
            var message = "not in the desired state: \(sorted.count) instance\(sorted.count == 1 ? "" : "s") would be pruned"
            if !failing.isEmpty { message += "; " + failing.compactMap(\.failureDescription).joined(separator: "; ") }
            return ServiceHealth(status: status, sync: .outOfSync, message: message, desiredReplicas: 0, readyReplicas: 0)
        }
        return assess(revision: desired.revision, replicas: desired.replicas, instances: sorted)
    }

    /// Health of instances that should all run `revision`, `replicas` of them (the rules
    /// above, for a desired service).
    public static func assess(revision: Revision, replicas want: Int, instances: [Instance]) -> ServiceHealth {
        let sorted = instances.sorted { $0.id < $1.id }
        let failing = sorted.filter(\.isFailing)
        let current = sorted.filter { $0.revision == revision }
        let old = sorted.count - current.count
        let ready = current.filter { $0.state == .running }.count
        let sync: SyncStatus = (old == 0 && current.count == want) ? .synced : .outOfSync
        let counts = "\(ready) of \(want) replica\(want == 1 ? "" : "s") ready"

        func result(_ status: HealthStatus, _ message: String) -> ServiceHealth {
            ServiceHealth(status: status, sync: sync, message: message, desiredReplicas: want, readyReplicas: ready)
        }
        if !failing.isEmpty {
            return result(.degraded, counts + "; " + failing.compactMap(\.failureDescription).joined(separator: "; "))
        }
        if sorted.isEmpty {
            return want == 0 ? result(.healthy, "scaled to 0") : result(.missing, "no instances running (\(want) desired)")
        }
        if old > 0 {
            return result(.progressing, "waiting for rollout: \(ready) of \(want) new replica\(want == 1 ? "" : "s") ready")
        }
        if ready < want { return result(.progressing, counts) }
        if sorted.count > want {
            return result(.progressing, "scaling down: \(sorted.count) running, \(want) desired")
        }
        return result(.healthy, counts)
    }
}

extension Sequence where Element == HealthStatus {
    /// The worst status, or Healthy for none.
    public func worst() -> HealthStatus { self.max() ?? .healthy }
}
