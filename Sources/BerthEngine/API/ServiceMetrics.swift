public import BerthCore

/// Watch's per-service series (label `service`), beside the project's totals in
/// `WatchMetrics`: what a dashboard or an alert on one service needs.
public struct ServiceMetrics: Sendable, Hashable {
    public struct Row: Sendable, Hashable {
        public var health: HealthStatus
        public var sync: SyncStatus
        public var desired: Int
        public var ready: Int
        public init(health: HealthStatus, sync: SyncStatus, desired: Int, ready: Int) {
            self.health = health
            self.sync = sync
            self.desired = desired
            self.ready = ready
        }
    }

    /// By service name, from the last observation.
    public var rows: [String: Row] = [:]
    /// Instances replaced by heals, by service, since watch started.
    public var heals: [String: Int] = [:]
    /// Services whose rollout was rolled back and is held back, and those in crash-loop backoff.
    public var heldBack: Set<String> = []
    public var backoff: Set<String> = []

    public init() {}

    /// The rows of a status report.
    public mutating func observe(_ report: StatusReport) {
        rows = Dictionary(uniqueKeysWithValues: report.services.map {
            ($0.name, Row(health: $0.health, sync: $0.sync, desired: $0.desiredReplicas, ready: $0.readyReplicas))
        })
    }

    /// The families, each service's samples sorted by name: `berth_service_health` (1 for
    /// its health, 0 for the others), `berth_service_in_sync`, `berth_service_replicas_desired`,
    /// `berth_service_replicas_ready`, `berth_service_held_back`, `berth_service_backoff`,
    /// `berth_service_heals_total`.
    public func families(project: String) -> [MetricFamily] {
        let names = Set(rows.keys).union(heals.keys).sorted()
        let observed = rows.keys.sorted()
        func label(_ name: String) -> [(String, String)] { [("project", project), ("service", name)] }
        return [
            MetricFamily(
                "berth_service_health", .gauge, help: "1 for each service's health (Healthy, Progressing, Missing, Degraded), 0 for the others.",
                samples: observed.flatMap { name in
                    HealthStatus.allCases.map {
                        MetricSample([("project", project), ("health", $0.rawValue), ("service", name)], rows[name]!.health == $0 ? 1 : 0)
                    }
                }),
            MetricFamily(
                "berth_service_in_sync", .gauge, help: "1 when what runs of the service matches git (revision and replicas), 0 when not.",
                samples: observed.map { MetricSample(label($0), rows[$0]!.sync == .synced ? 1 : 0) }),
            MetricFamily(
                "berth_service_replicas_desired", .gauge, help: "Replicas the service should run.",
                samples: observed.map { MetricSample(label($0), Double(rows[$0]!.desired)) }),
            MetricFamily(
                "berth_service_replicas_ready", .gauge, help: "Replicas of the service running and ready.",
                samples: observed.map { MetricSample(label($0), Double(rows[$0]!.ready)) }),
            MetricFamily(
                "berth_service_held_back", .gauge, help: "1 while the service's rollout of git's revision is rolled back and held back.",
                samples: observed.map { MetricSample(label($0), heldBack.contains($0) ? 1 : 0) }),
            MetricFamily(
                "berth_service_backoff", .gauge, help: "1 while the service waits out a crash-loop backoff.",
                samples: observed.map { MetricSample(label($0), backoff.contains($0) ? 1 : 0) }),
            MetricFamily(
                "berth_service_heals_total", .counter, help: "Instances of the service replaced because they died, disappeared or turned unhealthy.",
                samples: names.map { MetricSample(label($0), Double(heals[$0] ?? 0)) }),
        ]
    }
}
