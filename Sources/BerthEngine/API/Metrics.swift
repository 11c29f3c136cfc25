public import BerthCore
public import Foundation

/// The loop's counters and gauges, rendered by Berth's one `PrometheusText`.
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
    /// Journal writes that failed (each retried at the next sync).
    public var journalWriteFailures = 0
    /// Sync records waiting in memory for the journal.
    public var journalUnwritten = 0
    /// Sync records dropped after waiting behind `SyncPipeline.unwrittenLimit` others.
    public var journalRecordsDropped = 0
    /// Whether the last fetch of the desired state from git succeeded (nil: none yet).
    public var sourceUp: Bool?
    /// Fetches of the desired state from git that failed (remote unreachable, auth refused).
    public var sourceFetchFailures = 0
    /// When the desired state was last fetched from git (nil: never).
    public var sourceLastFetch: Date?
    /// New commits whose history does not contain the last applied commit (force-pushes).
    public var historyRewrites = 0
    /// The same by service (label `service`).
    public var perService = ServiceMetrics()

    public init() {}

    public mutating func recordSync(_ result: SyncResult, seconds: Double) {
        syncs[result, default: 0] += 1
        durationCount += 1
        durationSum += seconds
        for (i, bound) in Self.durationBuckets.enumerated() where seconds <= bound { durationBucketCounts[i] += 1 }
    }

    public func prometheusText(project: String) -> String {
        let p = ("project", project)
        var buckets: [MetricSample] = Self.durationBuckets.indices.map { i in
            MetricSample(suffix: "_bucket", [p, ("le", PrometheusText.format(Self.durationBuckets[i]))], durationBucketCounts[i])
        }
        buckets.append(MetricSample(suffix: "_bucket", [p, ("le", "+Inf")], durationCount))
        buckets.append(MetricSample(suffix: "_sum", [p], durationSum))
        buckets.append(MetricSample(suffix: "_count", [p], durationCount))
        return PrometheusText.render([
            MetricFamily(
                "berth_syncs_total", .counter, help: "Syncs by result.",
                samples: SyncResult.allCases.map { MetricSample([p, ("result", $0.rawValue)], syncs[$0] ?? 0) }),
            MetricFamily(
                "berth_sync_duration_seconds", .histogram, help: "How long syncs took, from fetch to the last step.",
                samples: buckets),
            MetricFamily(
                "berth_heals_total", .counter,
                help: "Instances replaced because they died, disappeared or turned unhealthy.",
                samples: [MetricSample([p], heals)]),
            MetricFamily(
                "berth_drift_corrections_total", .counter, help: "Syncs that undid drift between git and the runtime.",
                samples: [MetricSample([p], driftCorrections)]),
            MetricFamily(
                "berth_services", .gauge, help: "Desired or running services by health.",
                samples: HealthStatus.allCases.map { MetricSample([p, ("health", $0.rawValue)], servicesByHealth[$0] ?? 0) }),
            MetricFamily(
                "berth_last_applied_commit", .gauge, help: "The commit last applied in full (value 1).",
                samples: lastAppliedCommit.map { [MetricSample([p, ("commit", $0)], 1)] } ?? []),
            MetricFamily(
                "berth_desired_state_invalid", .gauge,
                help: "1 while the newest commit has invalid manifests (the last good one keeps running).",
                samples: [MetricSample([p, ("commit", invalidCommit ?? "")], invalidCommit == nil ? 0 : 1)]),
            MetricFamily(
                "berth_desired_state_errors", .gauge, help: "Errors in the newest commit's manifests.",
                samples: [MetricSample([p], invalidErrors)]),
            MetricFamily(
                "berth_backoff_services", .gauge, help: "Services waiting out a crash-loop backoff.",
                samples: [MetricSample([p], backoffServices)]),
            MetricFamily(
                "berth_held_back_services", .gauge,
                help: "Services whose rollout of this commit failed and was rolled back.",
                samples: [MetricSample([p], heldBackServices)]),
            MetricFamily(
                "berth_journal_write_failures_total", .counter,
                help: "Journal writes that failed (a full disk, an unwritable file); each record is retried at the next sync.",
                samples: [MetricSample([p], journalWriteFailures)]),
            MetricFamily(
                "berth_journal_records_unwritten", .gauge, help: "Sync records waiting in memory for the journal.",
                samples: [MetricSample([p], journalUnwritten)]),
            MetricFamily(
                "berth_journal_records_dropped_total", .counter,
                help: "Sync records dropped after 10,000 others waited unwritten.",
                samples: [MetricSample([p], journalRecordsDropped)]),
            MetricFamily(
                "berth_source_up", .gauge,
                help: "1 when the last fetch of the desired state from git succeeded, 0 when it failed (running services are left alone).",
                samples: sourceUp.map { [MetricSample([p], $0 ? 1 : 0)] } ?? []),
            MetricFamily(
                "berth_source_fetch_failures_total", .counter,
                help: "Fetches of the desired state from git that failed (remote unreachable, credentials refused).",
                samples: [MetricSample([p], sourceFetchFailures)]),
            MetricFamily(
                "berth_source_last_fetch_timestamp_seconds", .gauge,
                help: "When the desired state was last fetched from git (Unix time): alert on time() minus this.",
                samples: sourceLastFetch.map { [MetricSample([p], $0.timeIntervalSince1970.rounded(.down))] } ?? []),
            MetricFamily(
                "berth_source_history_rewrites_total", .counter,
                help: "New commits whose history does not contain the last applied commit (a force-push, a branch reset); applied as git says.",
                samples: [MetricSample([p], historyRewrites)]),
        ] + perService.families(project: project))
    }
}
