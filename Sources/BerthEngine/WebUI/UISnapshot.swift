public import BerthCore
public import Foundation

/// Turns what `berth watch` knows (the loop's status, the desired specs, the journal, the
/// rate samples) into the pages' models. Pure: values in, values out; `WebUI` gathers the
/// inputs.
public enum UISnapshot {
    public struct Inputs: Sendable {
        public var status: LoopState
        /// The desired state in force, by service name.
        public var specs: [String: ServiceSpec]
        /// The newest request rate of each service (from the samples).
        public var rates: [String: Double]
        /// The newest journal step of each service.
        public var lastSteps: [String: LastStep]
        public var appliedInfo: CommitInfo?
        public var appliedAt: Date?
        public var nextSyncDue: Date?

        public init(
            status: LoopState, specs: [String: ServiceSpec] = [:], rates: [String: Double] = [:],
            lastSteps: [String: LastStep] = [:], appliedInfo: CommitInfo? = nil, appliedAt: Date? = nil,
            nextSyncDue: Date? = nil
        ) {
            self.status = status
            self.specs = specs
            self.rates = rates
            self.lastSteps = lastSteps
            self.appliedInfo = appliedInfo
            self.appliedAt = appliedAt
            self.nextSyncDue = nextSyncDue
        }
    }

    /// Changes whenever anything a page shows from the loop's state changes (not times).
    public static func fingerprint(_ state: LoopState) -> Int { state.hashValue }

    public static func overview(_ inputs: Inputs, now: Date) -> OverviewModel {
        let s = inputs.status
        var summary = LoopSummary(
            appliedCommit: s.lastAppliedCommit, appliedCommitInfo: inputs.appliedInfo, appliedAt: inputs.appliedAt,
            headCommit: s.newestCommit, desiredCommit: s.desiredCommit, nextSyncDue: inputs.nextSyncDue)
        if let last = s.lastSync {
            let ms = last.started.flatMap { a in last.ended.map { b in max(0, Int((b.timeIntervalSince(a) * 1000).rounded())) } }
            summary.lastSync = LoopSummary.LastSync(
                trigger: last.trigger, result: last.result, ended: last.ended, durationMs: ms, steps: last.steps)
        }
        return OverviewModel(
            summary: summary, attention: attention(inputs, now: now), services: s.report.services.map { row($0, inputs, now: now) })
    }

    public static func row(_ service: StatusReport.Service, _ inputs: Inputs, now: Date) -> ServiceRow {
        let name = service.name
        var autoscale: AutoscaleInfo?
        if let a = inputs.specs[name]?.autoscale {
            autoscale = AutoscaleInfo(min: a.min, max: a.max, targetRequestsPerSecond: a.targetRequestsPerSecond, rate: inputs.rates[name])
        }
        var lastChange: LastChange?
        if let step = inputs.lastSteps[name], let time = Timestamp.date(step.ended) {
            lastChange = LastChange(what: step.action, outcome: step.outcome, time: time)
        } else if let newest = service.instances.compactMap({ $0.created.flatMap(Timestamp.date) }).max() {
            lastChange = LastChange(what: "started", outcome: nil, time: newest)
        }
        let backoff = inputs.status.backoff.first { $0.service == name && $0.retryAt > now }
        return ServiceRow(
            name: name, image: service.image, revision: service.revision, readyReplicas: service.readyReplicas,
            desiredReplicas: service.desiredReplicas, autoscale: autoscale, sync: service.sync, health: service.health,
            message: service.healthMessage, notes: service.notes, lastChange: lastChange,
            heldBack: service.heldBack != nil || inputs.status.heldBack.contains { $0.service == name },
            marks: marks(service), backoffUntil: backoff?.retryAt)
    }

    /// The badges of what `status` notes beside git (held back is added by `row`).
    static func marks(_ s: StatusReport.Service) -> [RowMark] {
        var out: [RowMark] = []
        if s.invalidCommit != nil { out.append(.invalidCommit) }
        if s.pinned != nil { out.append(.pinned) }
        if s.scaled != nil { out.append(.scaled) }
        if s.suspended != nil { out.append(.suspended) }
        return out
    }

    /// What the overview's banner lists: the worst first.
    public static func attention(_ inputs: Inputs, now: Date) -> [Attention] {
        let s = inputs.status
        var out: [Attention] = []
        if let invalid = s.invalid {
            // Status's words for the commit; the errors (file:line:col first) underneath.
            let running = s.desiredCommit.map { "running \(UIFormat.shortCommit($0)), the last good commit" }
                ?? "nothing of git is applied yet, what runs is left as it is"
            out.append(Attention(
                kind: .invalidCommit,
                title: StatusContext.invalidCommit(invalid.commit, errors: invalid.errors.count)
                    + ": held back until a commit fixes them; " + running,
                details: invalid.errors))
        }
        for held in s.heldBack.sorted(by: { $0.service < $1.service }) {
            // `HeldRollout.sentence`, as `berth status` ends booking's MESSAGE with it.
            out.append(Attention(kind: .heldBack, subject: held.service, title: held.rollout.sentence))
        }
        if let mark = s.report.suspended {
            out.append(Attention(kind: .suspended, title: mark.suspensionSentence(project: true)))
        }
        if let e = s.sourceError {
            out.append(Attention(kind: .error, title: "Git cannot be read: the desired state read last keeps running.", details: [e]))
        }
        if let e = s.runtimeError {
            out.append(Attention(kind: .error, title: "The runtime cannot be reached: nothing is observed or applied.", details: [e]))
        }
        if let e = s.planError {
            // A refused mass delete (`RefusedDeletes`) deletes nothing but syncs and heals the rest.
            let title =
                e.hasPrefix("refusing to delete")
                ? "A mass delete is refused: nothing is deleted; the services it would delete keep running and are healed."
                : "The loop cannot plan: nothing is applied."
            out.append(Attention(kind: .error, title: title, details: [e]))
        }
        if let last = s.lastSync, last.result == .failed || (last.result == .error && s.sourceError == nil && s.runtimeError == nil && s.planError == nil) {
            let ended = last.result == .failed ? "failed" : "could not run"
            out.append(Attention(kind: .syncFailed, title: "The last sync (\(last.trigger)) \(ended).", details: last.errors))
        }
        for entry in s.backoff.sorted(by: { $0.service < $1.service }) where entry.retryAt > now {
            out.append(Attention(
                kind: .backoff, subject: entry.service,
                title: "crash-loop backoff after \(UIFormat.count(entry.failures, "failure")) in a row; next restart",
                time: entry.retryAt))
        }
        let unhealthy = s.report.services.filter { $0.health == .degraded || $0.health == .missing }.map(\.name).sorted()
        if !unhealthy.isEmpty {
            out.append(Attention(
                kind: .unhealthy,
                title: unhealthy.count == 1 ? "1 service is Degraded or Missing:" : "\(unhealthy.count) services are Degraded or Missing:",
                services: unhealthy))
        }
        let order = Attention.Kind.allCases
        return out.enumerated().sorted { a, b in
            if a.element.isSevere != b.element.isSevere { return a.element.isSevere }
            let ka = order.firstIndex(of: a.element.kind)!, kb = order.firstIndex(of: b.element.kind)!
            return ka != kb ? ka < kb : a.offset < b.offset
        }.map(\.element)
    }

    /// The service page's model; nil when the service is neither desired nor running.
    public static func service(
        _ name: String, _ inputs: Inputs, journal: [JournalRecord], series: [SeriesPoint], hasTraffic: Bool,
        probes: [String: (result: String, time: Date)] = [:], history: TextOrError, historyLimit: Int, now: Date
    ) -> ServicePageModel? {
        guard let status = inputs.status.report.services.first(where: { $0.name == name }) else { return nil }
        let instances = status.instances.sorted { $0.id < $1.id }.map { i in
            InstanceRow(
                id: i.id, node: i.node, state: i.state, health: i.healthWord, revision: i.revision.id, restarts: i.restartCount,
                exitCode: i.exitCode, created: i.created.flatMap(Timestamp.date), lastProbe: probes[i.id]?.result,
                lastProbeTime: probes[i.id]?.time, drainedByHand: i.drainedByHand.flatMap(Timestamp.date))
        }
        var events: [ServiceEvent] = []
        for record in journal {
            for step in record.steps.reversed() where step.service == name {
                events.append(ServiceEvent(
                    time: Timestamp.date(record.ended), action: step.action, outcome: step.outcome, reason: step.reason,
                    message: step.message, durationMs: step.durationMs, revision: step.revision, syncID: record.id))
            }
        }
        return ServicePageModel(
            row: row(status, inputs, now: now), spec: inputs.specs[name], dependsOn: status.dependsOn, instances: instances,
            events: Array(events.prefix(30)), journal: Array(journal.prefix(20)), series: series, hasTraffic: hasTraffic,
            history: history, historyLimit: historyLimit)
    }
}
