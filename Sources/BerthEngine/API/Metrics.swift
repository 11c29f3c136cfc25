public import BerthCore
import Foundation

/// The loop's counters and gauges, rendered as Prometheus text by hand (format 0.0.4).
public struct WatchMetrics: Sendable, Hashable {
    public static let durationBuckets: [Double] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]

    public var syncs: [SyncResult: Int] = [:]
    public var durationBucketCounts: [Int] = Array(repeating: 0, count: WatchMetrics.durationBuckets.count)
    public var durationCount = 0
    public var durationSum = 0.0
    /// Instances replaced by heal steps that succeeded.
    public var heals = 0
    /// Syncs started by drift (or a runtime event) that applied at least one step.
    public var driftCorrections = 0
    public var servicesByHealth: [HealthStatus: Int] = [:]
    public var lastAppliedCommit: String?
    /// The commit whose manifests are invalid (nil when the newest commit is valid).
    public var invalidCommit: String?
    public var invalidErrors = 0
    public var backoffServices = 0
    public var heldBackServices = 0

    public init() {}

    public mutating func recordSync(_ result: SyncResult, seconds: Double) {
        syncs[result, default: 0] += 1
        durationCount += 1
        durationSum += seconds
        for (i, bound) in Self.durationBuckets.enumerated() where seconds <= bound { durationBucketCounts[i] += 1 }
    }

    public func prometheusText(project: String) -> String {
        let p = "project=\"\(escape(project))\""
        var out = ""
        func line(_ s: String) { out += s + "\n" }
        line("# HELP berth_syncs_total Syncs by result.")
        line("# TYPE berth_syncs_total counter")
        for result in SyncResult.allCases.sorted(by: { $0.rawValue < $1.rawValue }) {
            line("berth_syncs_total{\(p),result=\"\(result.rawValue)\"} \(syncs[result] ?? 0)")
        }
        line("# HELP berth_sync_duration_seconds How long syncs took, from fetch to the last step.")
        line("# TYPE berth_sync_duration_seconds histogram")
        for (i, bound) in Self.durationBuckets.enumerated() {
            line("berth_sync_duration_seconds_bucket{\(p),le=\"\(format(bound))\"} \(durationBucketCounts[i])")
        }
        line("berth_sync_duration_seconds_bucket{\(p),le=\"+Inf\"} \(durationCount)")
        line("berth_sync_duration_seconds_sum{\(p)} \(format(durationSum))")
        line("berth_sync_duration_seconds_count{\(p)} \(durationCount)")
        line("# HELP berth_heals_total Instances replaced because they died, disappeared or turned unhealthy.")
        line("# TYPE berth_heals_total counter")
        line("berth_heals_total{\(p)} \(heals)")
        line("# HELP berth_drift_corrections_total Syncs that undid drift between git and the runtime.")
        line("# TYPE berth_drift_corrections_total counter")
        line("berth_drift_corrections_total{\(p)} \(driftCorrections)")
        line("# HELP berth_services Desired or running services by health.")
        line("# TYPE berth_services gauge")
        for health in HealthStatus.allCases.sorted() {
            line("berth_services{\(p),health=\"\(health.rawValue)\"} \(servicesByHealth[health] ?? 0)")
        }
        line("# HELP berth_last_applied_commit The commit last applied in full (value 1).")
        line("# TYPE berth_last_applied_commit gauge")
        if let commit = lastAppliedCommit { line("berth_last_applied_commit{\(p),commit=\"\(escape(commit))\"} 1") }
        line("# HELP berth_desired_state_invalid 1 while the newest commit has invalid manifests (the last good one keeps running).")
        line("# TYPE berth_desired_state_invalid gauge")
        if let commit = invalidCommit {
            line("berth_desired_state_invalid{\(p),commit=\"\(escape(commit))\"} 1")
        } else {
            line("berth_desired_state_invalid{\(p),commit=\"\"} 0")
        }
        line("# HELP berth_desired_state_errors Errors in the newest commit's manifests.")
        line("# TYPE berth_desired_state_errors gauge")
        line("berth_desired_state_errors{\(p)} \(invalidErrors)")
        line("# HELP berth_backoff_services Services waiting out a crash-loop backoff.")
        line("# TYPE berth_backoff_services gauge")
        line("berth_backoff_services{\(p)} \(backoffServices)")
        line("# HELP berth_held_back_services Services whose rollout of this commit failed and was rolled back.")
        line("# TYPE berth_held_back_services gauge")
        line("berth_held_back_services{\(p)} \(heldBackServices)")
        return out
    }

    private func format(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }

    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
