public import BerthCore
public import Foundation
import Synchronization

/// What the autoscaler decided and measured, per service: written by `AutoscaleController`
/// about four times a second, read by the sync pipeline — its overlay plans the counts
/// (`counts`), its status and metrics show them. A lock-with-value box: no await inside.
public final class AutoscaleBoard: Sendable {
    public struct Entry: Sendable, Hashable {
        /// The count the autoscaler wants.
        public var replicas: Int
        /// The rate of the last tick, when the balancer answered.
        public var rate: MeasuredRate?
        public var lastDecision: AutoscaleDecision?
        public var lastDecisionAt: Date?
        /// Decisions of this process, by direction.
        public var ups = 0
        public var downs = 0

        public init(replicas: Int) { self.replicas = replicas }
    }

    private let entries = Mutex<[String: Entry]>([:])

    public init() {}

    /// The counts the autoscaler decided, by service (for `AutoscaleOverlay`).
    public func counts() -> [String: Int] { entries.withLock { $0.mapValues(\.replicas) } }

    public func snapshot() -> [String: Entry] { entries.withLock { $0 } }

    /// The rates measured at the last tick, by service.
    public func rates() -> [String: MeasuredRate] { entries.withLock { $0.compactMapValues(\.rate) } }

    /// Each service's last decision, as a sentence.
    public func decisions() -> [String: String] {
        entries.withLock { $0.compactMapValues { $0.lastDecision?.summary } }
    }

    /// The outcome of one tick for `service`: the count and the rate, and the decision if one
    /// was made (at `now`).
    public func record(_ service: String, replicas: Int, rate: MeasuredRate?, decision: AutoscaleDecision?, at now: Date) {
        entries.withLock { all in
            var entry = all[service] ?? Entry(replicas: replicas)
            entry.replicas = replicas
            entry.rate = rate
            if let decision {
                entry.lastDecision = decision
                entry.lastDecisionAt = now
                if decision.direction == .up { entry.ups += 1 } else { entry.downs += 1 }
            }
            all[service] = entry
        }
    }

    /// Forgets services that are no longer autoscaled.
    public func keep(only services: Set<String>) {
        entries.withLock { all in all = all.filter { services.contains($0.key) } }
    }

    /// `berth_autoscale_*` for watch's `/metrics`, sorted by service.
    public func metricFamilies(project: String) -> [MetricFamily] {
        let all = snapshot().sorted { $0.key < $1.key }
        func labels(_ service: String) -> [(String, String)] { [("project", project), ("service", service)] }
        return [
            MetricFamily(
                "berth_autoscale_requests_per_second", .gauge,
                help: "Request rate the autoscaler measured at its last tick (new connections per second for plain TCP).",
                samples: all.compactMap { name, e in e.rate.map { MetricSample(labels(name), $0.perSecond) } }),
            MetricFamily(
                "berth_autoscale_desired_replicas", .gauge, help: "Replica count the autoscaler wants.",
                samples: all.map { MetricSample(labels($0.key), $0.value.replicas) }),
            MetricFamily(
                "berth_autoscale_decisions_total", .counter, help: "Autoscaling decisions by direction.",
                samples: all.flatMap { name, e in
                    [MetricSample(labels(name) + [("direction", "down")], e.downs),
                     MetricSample(labels(name) + [("direction", "up")], e.ups)]
                }),
        ]
    }
}
