public import BerthCore
public import Foundation
import Logging

/// The record stage (journal, metrics, the loop's memory, events), resuming from the
/// journal, and the views the API reads.
extension SyncPipeline {
    /// Resumes from the journal: the last applied commit, and the rollouts held back.
    public func resume() async {
        guard let journal else { return }
        do {
            lastAppliedCommit = try await journal.lastAppliedCommit()
            metrics.lastAppliedCommit = lastAppliedCommit
            for update in try await journal.latestUpdates() where update.outcome != .succeeded {
                guard let revision = update.revision else { continue }
                heldBack[update.service] = HeldBack(
                    service: update.service, revision: revision, commit: update.commit, message: update.message,
                    outcome: update.outcome, failedAt: update.ended)
            }
            if let commit = lastAppliedCommit {
                logger.info("resuming", metadata: ["git.commit": "\(commit)"])
            }
        } catch {
            logger.error("could not read the journal: \(error)")
        }
    }

    /// Remembers how an apply went: logs each step, counts crashes toward the backoff,
    /// holds back (or releases) rollouts, counts heals, and journals the sync.
    func remember(_ report: ApplyReport, prepared: PreparedSync) async {
        let desired = prepared.desired
        let why = prepared.run.trigger
        var steps: [JournalStep] = []
        for r in report.steps {
            let outcome = r.journalOutcome
            let message = r.outcome.message ?? ""
            let meta: Logger.Metadata = [
                "git.commit": "\(desired.commit ?? "")", "service.name": "\(r.step.service)",
                "step.action": "\(r.step.action.rawValue)", "step.outcome": "\(outcome.rawValue)",
                "duration.ms": "\(r.duration.wholeMilliseconds)",
            ]
            if outcome == .succeeded {
                logger.info("step done", metadata: meta)
            } else {
                logger.error("step \(outcome.rawValue): \(message)", metadata: meta)
            }
            let failures = r.instanceFailures { killed[$0] != nil }
            if failures > 0 {
                backoff.recordFailure(r.step.service, count: failures, now: now())
            } else if !r.exitedBeforeHealthy.isEmpty && !r.outcome.isSuccess {
                logger.info(
                    "replacement killed before it became healthy; healed again at once (not a crash)",
                    metadata: ["service.name": "\(r.step.service)",
                               "docker.container": "\(r.exitedBeforeHealthy.map { String($0.prefix(12)) })"])
            }
            if outcome == .rolledBack || outcome == .paused, r.step.action == .update,
               let spec = desired.services[r.step.service]
            {
                heldBack[r.step.service] = HeldBack(
                    service: r.step.service, revision: spec.revision.id, commit: desired.commit, message: message,
                    outcome: outcome, failedAt: Timestamp.string(now()))
                heldSpecs[r.step.service] = nil
            }
            if outcome == .succeeded && r.step.action == .update
                && r.step.to?.revision == desired.services[r.step.service]?.revision.id
            {
                heldBack[r.step.service] = nil
                heldSpecs[r.step.service] = nil
            }
            if outcome == .succeeded && r.step.action == .heal {
                metrics.heals += r.step.instances?.count ?? 0
                metrics.perService.heals[r.step.service, default: 0] += r.step.instances?.count ?? 0
            }
            if outcome == .succeeded && r.step.action == .scale && why == .heal
                && (r.step.to?.replicas ?? 0) > (r.step.from?.replicas ?? 0)
            {
                // An instance that disappeared (`docker rm -f`) comes back as a scale-up.
                metrics.heals += (r.step.to?.replicas ?? 0) - (r.step.from?.replicas ?? 0)
                metrics.perService.heals[r.step.service, default: 0] += (r.step.to?.replicas ?? 0) - (r.step.from?.replicas ?? 0)
            }
            var reason = r.step.reason
            // A scale of an autoscaled service is the autoscaler's (git's count is only where it
            // starts): it carries the cause of its last decision, also when an interval sync
            // made the step before the decision's own sync ran. A heal's scale-up is a heal.
            if r.step.action == .scale || r.step.action == .create, let cause = autoscaleCauses[r.step.service],
                why == .autoscale || (why != .heal && desired.services[r.step.service]?.autoscale != nil)
            {
                reason = "autoscale \(r.step.from?.replicas ?? 0) → \(r.step.to?.replicas ?? 0): \(cause)"
            }
            var step = JournalStep(
                action: r.step.action.rawValue, service: r.step.service, wave: r.step.wave, reason: reason,
                outcome: outcome, message: message, durationMs: r.duration.wholeMilliseconds)
            step.revision = r.step.to?.revision
            step.image = r.image
            steps.append(step)
        }
        let outcomes = report.steps.map(\.journalOutcome)
        let deferred = prepared.deferred
        let result: SyncResult =
            outcomes.contains { $0 == .failed || $0 == .paused } ? .failed
            : outcomes.contains(.rolledBack) ? .rolledBack
            : outcomes.contains(.skipped) ? .failed
            : deferred.isEmpty && !prepared.refusedDelete ? .succeeded : .partial
        if result == .succeeded && deferred.isEmpty && prepared.scope == nil {
            lastAppliedCommit = desired.commit
            metrics.lastAppliedCommit = desired.commit
        }
        if why == .drift || why == .heal { metrics.driftCorrections += 1 }
        let errors = prepared.run.errors + (prepared.refusedDelete ? ["plan: \(planError ?? "")"] : [])
            + report.steps.filter { !$0.outcome.isSuccess }.map { "\($0.step.service): \($0.outcome.message ?? "")" }
            + deferred.map { "\($0.service): \($0.reason)" }
        await record(prepared.run, commit: desired.commit, result: result, steps: steps, errors: errors)
    }

    /// Journals a sync, counts it, remembers it as the last one, and publishes its end.
    func record(_ run: SyncRun, commit: String?, result: SyncResult, steps: [JournalStep] = [], errors: [String]) async {
        let ended = now()
        let record = JournalRecord(
            started: Timestamp.string(run.started), ended: Timestamp.string(ended), commit: commit,
            trigger: run.trigger, result: result, steps: steps, errors: errors, actor: actor)
        events.publish(
            .finished(trigger: run.trigger, commit: record.commit, result: result, durationMs: (ContinuousClock.now - run.startedAt).wholeMilliseconds),
            at: ended)
        logger.info(
            "sync \(result.rawValue)", metadata: ["git.commit": "\(record.commit ?? "")", "sync.trigger": "\(run.trigger.rawValue)",
                                                   "duration.ms": "\((ContinuousClock.now - run.startedAt).wholeMilliseconds)"])
        await journal(record, seconds: run.seconds)
    }

    /// A sync that could not plan: journals it (git unreachable with nothing to fall back
    /// on; the runtime unreachable, once per outage; a planning error, once per error).
    func journalFailure(_ failure: PrepareFailure, run: SyncRun) async {
        let base = JournalRecord(
            started: Timestamp.string(run.started), ended: Timestamp.string(now()), commit: lastGood?.commit,
            trigger: run.trigger, result: .error, actor: actor)
        switch failure {
        case .invalid:
            return  // recorded by the source stage
        case .source:
            // Journaled once per outage, not on every retry (issue 18, finding 11).
            guard fetchFailures == 1 else {
                metrics.recordSync(.error, seconds: run.seconds)
                return
            }
            await journal(sourceDownRecord(run: run), seconds: run.seconds)
        case .observe(let error):
            events.publish(.error("runtime: \(error)"), at: now())
            guard observeFailures == 1 else { return }
            var record = base
            record.errors = run.errors + ["runtime: \(error)"]
            await journal(record, seconds: run.seconds)
        case .plan(let error):
            logger.error("planning failed", metadata: ["git.commit": "\(lastGood?.commit ?? "")", "error": "\(error)"])
            // Journaled once per distinct error, not on every interval.
            guard planError != "\(error)" else { return }
            planError = "\(error)"
            events.publish(.error("plan: \(error)"), at: now())
            var record = base
            record.errors = run.errors + ["plan: \(error)"]
            await journal(record, seconds: run.seconds)
        }
    }

    /// Counts the sync, remembers it as the last one, and writes it to the journal. With no
    /// `seconds`, the record is a note beside a sync (git unreachable, reachable again), not
    /// a sync of its own: written, not counted.
    func journal(_ record: JournalRecord, seconds: Double?) async {
        if let seconds {
            metrics.recordSync(record.result, seconds: seconds)
            lastSync = SyncSummary(
                trigger: record.trigger, result: record.result, commit: record.commit, started: record.started,
                ended: record.ended, steps: record.steps.count, errors: record.errors)
        }
        guard journal != nil, !options.readOnly else { return }
        if unwritten.count >= Self.unwrittenLimit {
            unwritten.removeFirst()
            metrics.journalRecordsDropped += 1
            logger.error("the journal has been unwritable for \(Self.unwrittenLimit) syncs: the oldest unwritten record is dropped")
        }
        journalNumbers += 1
        unwritten.append((journalNumbers, record))
        await flushJournal()
    }

    /// At most this many records wait in memory for the journal.
    static let unwrittenLimit = 10_000

    /// Writes the records not written yet, oldest first, up to the first that fails: it and
    /// the rest wait for the next sync (issue 18, finding 10: with the disk full, 7 of 10
    /// records were dropped with a log line each and no metric). One write runs at a time;
    /// a caller that finds one under way waits for it, and it writes the caller's record too.
    func flushJournal() async {
        if let running = journalFlush { return await running.value }
        guard journal != nil, !unwritten.isEmpty else { return }
        let flush = Task { await writeUnwritten() }
        journalFlush = flush
        await flush.value
    }

    private func writeUnwritten() async {
        defer { journalFlush = nil }
        guard let journal else { return }
        var written = 0
        while let oldest = unwritten.first {
            do {
                _ = try await journal.append(oldest.record)
            } catch {
                metrics.journalWriteFailures += 1
                metrics.journalUnwritten = unwritten.count
                journalError = "\(error)"
                logger.error(
                    "could not write the journal; the sync records are kept in memory and written at the next sync",
                    metadata: ["error": "\(error)", "journal.unwritten": "\(unwritten.count)"])
                return
            }
            // Past the limit, `journal` may have dropped the oldest while this one was written.
            unwritten.removeAll { $0.number == oldest.number }
            written += 1
        }
        metrics.journalUnwritten = 0
        if journalError != nil {
            journalError = nil
            logger.info("the journal is writable again", metadata: ["journal.written": "\(written)"])
        }
    }

    func updateHealthGauges(desired: DesiredState, observed: ObservedState) {
        let report = StatusReport(desired: desired, observed: observed, decided: decidedCounts)
        var counts: [HealthStatus: Int] = [:]
        for s in report.services { counts[s.health, default: 0] += 1 }
        metrics.servicesByHealth = counts
        metrics.perService.observe(report)
        metrics.backoffServices = backoff.active(now: now()).count
        metrics.heldBackServices = heldBack.count
    }

    func healthyServices(desired: DesiredState, observed: ObservedState) -> Set<String> {
        Set(StatusReport(desired: desired, observed: observed, decided: decidedCounts).services.filter { $0.health == .healthy }.map(\.name))
    }

    // MARK: - Views for the API

    /// `handDrains`: the balancer's drains by hand (`HandDrainSource`), asked by the caller
    /// (this actor does not wait on the balancer).
    public func status(handDrains: [HandDrain] = []) -> WatchStatus {
        var context = statusContext()
        context.handDrains = handDrains
        let desired = lastGood ?? invalidDesired ?? DesiredState()
        let observed = observation?.state ?? .none(project: project)
        let t = now()
        return WatchStatus(
            report: StatusReport(
                desired: desired, observed: observed, decided: autoscaleBoard.counts(), rates: autoscaleBoard.rates(),
                decisions: autoscaleBoard.decisions(), context: context),
            desiredCommit: lastGood?.commit, newestCommit: newestCommit, lastAppliedCommit: lastAppliedCommit,
            invalid: invalid, lastSync: lastSync,
            backoff: backoff.active(now: t),
            heldBack: heldBack.values.sorted { $0.service < $1.service },
            sourceError: sourceError, runtimeError: runtimeError, planError: planError,
            journalUnwritten: unwritten.count, journalError: journalError)
    }

    /// What status needs beyond git and the runtime: the held-back rollouts, and the
    /// controls the last good desired state leaves in force.
    public func statusContext() -> StatusContext {
        let controls = ((try? controlsStore?.read()) ?? nil) ?? ProjectControls()
        return StatusContext(
            heldBack: heldBack.mapValues(\.rollout), controls: lastGood.map(controls.inForce) ?? controls)
    }

    /// The plan the next sync would make now (observing afresh), for `GET /api/v1/plan` and
    /// the web UI: a read-only pipeline (`Options.readOnly`, as `berth plan` runs one) given
    /// this one's memory — held-back rollouts and the specs they were rolled back to, the
    /// crash-loop backoff, the autoscaler's counts — so the same overlays (the operator's
    /// controls included) and filter apply, and the notes say what it leaves undone.
    /// Nothing is written and no control released.
    public func currentPlan() async throws -> Plan {
        guard let desired = lastGood else { throw NoDesiredState() }
        let observed = try await runtime.observe(project: project)
        var options = self.options
        options.readOnly = true
        let preview = SyncPipeline(
            project: project, provider: ReadDesiredState(desired), runtime: ObservedSnapshot(observed), journal: nil,
            logger: logger, options: options, overlays: overlays, controls: controlsStore, now: now)
        await preview.adopt(heldBack: heldBack, heldSpecs: heldSpecs, backoff: backoff, decided: autoscaleBoard.counts())
        do {
            return try await preview.prepare().plan
        } catch {
            switch error {
            case .source(let cause), .observe(let cause), .plan(let cause): throw cause
            case .invalid: throw NoDesiredState()
            }
        }
    }

    /// A preview's memory, from the pipeline it previews (`currentPlan`).
    func adopt(heldBack: [String: HeldBack], heldSpecs: [String: ServiceSpec], backoff: CrashLoopBackoff, decided: [String: Int]) {
        self.heldBack = heldBack
        self.heldSpecs = heldSpecs
        self.backoff = backoff
        self.decided = decided
    }

    public func metricsText() -> String {
        var m = metrics
        m.backoffServices = backoff.active(now: now()).count
        m.heldBackServices = heldBack.count
        m.perService.heldBack = Set(heldBack.keys)
        m.perService.backoff = Set(backoff.active(now: now()).map(\.service))
        var text = m.prometheusText(project: project)
        let families = autoscaleBoard.metricFamilies(project: project)
        if !autoscaleBoard.snapshot().isEmpty { text += PrometheusText.render(families) }
        return text
    }
}

public struct NoDesiredState: Error, CustomStringConvertible {
    public var description: String { "no valid desired state has been read from git yet" }
}
