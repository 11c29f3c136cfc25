public import BerthCore
public import Foundation
public import Logging

/// The reconcile loop of `berth watch`: one actor owns every piece of loop state; syncs run
/// one at a time on its runner task; the API and event tasks only record a wish and ring.
///
/// A sync: (fetch) → keep the newest *valid* desired state → observe → plan → leave out what
/// must wait (crash-loop backoff, a rollout that failed at this revision) → apply → journal,
/// metrics, logs. A sync with nothing to do writes no journal record unless its commit is
/// new (then it records that the commit reached the runtime).
public actor ReconcileLoop {
    public struct Options: Sendable {
        public var interval: Duration = .seconds(30)
        public var plan = PlanOptions(prune: true)
        /// First retry after git or the runtime could not be reached; doubles up to the interval.
        public var retryInitial: Duration = .seconds(1)
        public var backoff = CrashLoopBackoff()
        public init() {}
    }

    /// A rolled-back rollout: not retried for this service until the revision changes.
    public struct HeldBack: Sendable, Hashable, Codable {
        public var service: String
        public var revision: String
        public var commit: String?
        public var message: String
    }

    public struct InvalidCommit: Sendable, Hashable, Codable {
        public var commit: String?
        public var errors: [String]
    }

    public struct SyncSummary: Sendable, Hashable, Codable {
        public var trigger: SyncTrigger
        public var result: SyncResult
        public var commit: String?
        public var started: String
        public var ended: String
        public var steps: Int
        public var errors: [String]
    }

    public nonisolated let project: String
    private let provider: any DesiredStateProvider
    private let runtime: any ContainerRuntime
    private var applier: any PlanApplier
    /// For heals that follow runtime events: starts the replacement before removing the dead.
    private var healApplier: any PlanApplier
    private let journal: Journal?
    private var logger: Logger
    private let options: Options
    private let now: @Sendable () -> Date

    // Loop state.
    private(set) public var lastGood: DesiredState?
    private(set) public var newestCommit: String?
    private(set) public var invalid: InvalidCommit?
    private(set) public var lastAppliedCommit: String?
    private(set) public var lastObserved: ObservedState?
    private(set) public var lastSync: SyncSummary?
    private(set) public var heldBack: [String: HeldBack] = [:]
    private(set) public var backoff: CrashLoopBackoff
    private(set) public var metrics = WatchMetrics()
    private(set) public var sourceError: String?
    private(set) public var runtimeError: String?
    private var fetchFailures = 0
    private var lastPlanError: String?
    private var observeFailures = 0

    // Wishes, collected between syncs.
    private var pendingTriggers: Set<SyncTrigger> = []
    private var pendingFetch = false
    private var doorbell: AsyncStream<Void>.Continuation?
    private var doorbellStream: AsyncStream<Void>?
    private var stopping = false
    private var killed: [String: Date] = [:]
    /// Instances the runtime reported dead or gone since the last sync. Docker sends `die`
    /// before its container list says so, so these override what `observe` reports.
    private var dead: [String: DeadInstance] = [:]
    struct DeadInstance { var service: String?; var exitCode: Int?; var destroyed: Bool; var unhealthy = false }
    /// Instances the health monitor is probing right now.
    private var monitoring: Set<String> = []
    private var syncCount = 0
    private var timers: [Task<Void, Never>] = []
    /// The one pending retry (git or runtime unreachable) and the one pending backoff wake-up.
    private var retryTask: Task<Void, Never>?
    private var wakeTask: Task<Void, Never>?

    public init(
        project: String, provider: any DesiredStateProvider, runtime: any ContainerRuntime,
        applier: (any PlanApplier)? = nil, journal: Journal?, logger: Logger, options: Options = Options(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.project = project
        self.provider = provider
        self.runtime = runtime
        self.applier = applier ?? ExecutorApplier(executor: Executor(runtime: runtime, project: project))
        self.healApplier = RuntimeApplier(runtime: runtime, project: project)
        self.journal = journal
        self.logger = logger
        self.options = options
        self.backoff = options.backoff
        self.now = now
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        self.doorbell = continuation
        self.doorbellStream = stream
    }

    /// Number of syncs run so far (for tests and the API).
    public var syncs: Int { syncCount }

    // MARK: - Running

    /// Resumes from the journal (last applied commit, held-back rollouts), then syncs at
    /// once and on every wish until `stop()`; returns when the sync in flight has finished.
    public func run(events: Bool = true) async {
        await resume()
        request(.commit, fetch: true)
        let interval = options.interval
        timers.append(Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { return }
                await self?.request(.drift, fetch: true)
            }
        })
        if events {
            timers.append(Task { [weak self] in await self?.watchEvents() })
            timers.append(Task { [weak self] in await self?.monitorHealth() })
        }
        guard let stream = doorbellStream else { return }
        doorbellStream = nil
        for await _ in stream {
            if stopping { break }
            await syncOnce()
        }
        for t in timers + [retryTask, wakeTask].compactMap({ $0 }) { t.cancel() }
        timers = []
        logger.info("watch stopped")
    }

    /// Finishes the sync in flight (its current wave), then makes `run` return.
    public func stop() {
        stopping = true
        doorbell?.finish()
        doorbell = nil
    }

    public var isStopping: Bool { stopping }

    /// Records a wish for a sync and wakes the runner.
    public func request(_ trigger: SyncTrigger, fetch: Bool) {
        pendingTriggers.insert(trigger)
        if fetch { pendingFetch = true }
        doorbell?.yield()
    }

    /// Runs one sync with what was asked since the last one (tests call this directly).
    public func syncOnce() async {
        let triggers = pendingTriggers
        let fetch = pendingFetch || lastGood == nil
        pendingTriggers = []
        pendingFetch = false
        await sync(triggers: triggers, fetch: fetch)
    }

    private func resume() async {
        guard let journal else { return }
        do {
            lastAppliedCommit = try await journal.lastAppliedCommit()
            metrics.lastAppliedCommit = lastAppliedCommit
            for record in try await journal.records(limit: 200).reversed() {
                for step in record.steps {
                    if step.outcome == .rolledBack, let revision = step.revision {
                        heldBack[step.service] = HeldBack(
                            service: step.service, revision: revision, commit: record.commit, message: step.message)
                    } else if step.outcome == .succeeded, step.action == "update" {
                        heldBack[step.service] = nil
                    }
                }
            }
            if let commit = lastAppliedCommit {
                logger.info("resuming", metadata: ["git.commit": "\(commit)"])
            }
        } catch {
            logger.error("could not read the journal: \(error)")
        }
    }

    // MARK: - Runtime events

    private func watchEvents() async {
        var failures = 0
        while !Task.isCancelled && !stopping {
            do {
                for try await event in runtime.events(project: project) {
                    failures = 0
                    await handle(event)
                }
                if Task.isCancelled { return }
                throw RuntimeEventsEnded()
            } catch {
                if Task.isCancelled { return }
                failures += 1
                let wait = min(30.0, pow(2.0, Double(min(failures, 6) - 1)))
                logger.warning(
                    "runtime events stream ended; reconnecting", metadata: ["error": "\(error)", "retry.seconds": "\(wait)"])
                try? await Task.sleep(for: .seconds(wait))
                request(.heal, fetch: false)
            }
        }
    }

    /// Probes every running instance that has a health check, once per second; an instance
    /// that fails `failureThreshold` probes in a row (one per `interval`) is marked unhealthy
    /// and healed at once, as a dead one is.
    private func monitorHealth() async {
        while !Task.isCancelled && !stopping {
            try? await Task.sleep(for: .seconds(1))
            guard let desired = lastGood, let observed = lastObserved else { continue }
            for service in observed.services {
                guard let spec = desired.services[service.name], var probe = spec.health else { continue }
                probe.startPeriod = .zero
                let check = probe
                let limit = Double(check.interval.milliseconds * Int64(max(1, check.failureThreshold)) + check.timeout.milliseconds) / 1000 + 1
                for instance in service.instances where instance.state == .running && !monitoring.contains(instance.id) {
                    monitoring.insert(instance.id)
                    let runtime = self.runtime
                    Task { [weak self] in
                        let outcome = try? await runtime.waitHealthy(
                            instance, check: check, deadline: ContinuousClock.now + .seconds(limit))
                        await self?.monitored(instance, outcome: outcome)
                    }
                }
            }
        }
    }

    private func monitored(_ instance: Instance, outcome: HealthOutcome?) {
        monitoring.remove(instance.id)
        guard case .unhealthy(let why)? = outcome, !stopping else { return }
        logger.warning(
            "instance unhealthy", metadata: ["service.name": "\(instance.service)", "docker.container": "\(instance.id.prefix(12))",
                                             "health.failure": "\(why)"])
        if lastGood?.services[instance.service] != nil { backoff.recordFailure(instance.service, now: now()) }
        dead[instance.id, default: DeadInstance(service: instance.service, exitCode: nil, destroyed: false)].unhealthy = true
        request(.heal, fetch: false)
    }

    private struct RuntimeEventsEnded: Error, CustomStringConvertible {
        var description: String { "the runtime closed the event stream" }
    }

    /// A managed instance died or disappeared: heal at once. A death with no `kill` before
    /// it is a crash, which the crash-loop backoff counts.
    public func handle(_ event: RuntimeEvent) {
        let t = now()
        killed = killed.filter { t.timeIntervalSince($0.value) < 60 }
        switch event.kind {
        case .killed:
            killed[event.instanceID] = t
        case .died(let code):
            let wasKilled = killed[event.instanceID] != nil
            var meta: Logger.Metadata = ["docker.container": "\(event.instanceID.prefix(12))"]
            if let s = event.service { meta["service.name"] = "\(s)" }
            logger.info(wasKilled ? "instance killed" : "instance died", metadata: meta.merging(["exit.code": "\(code.map(String.init) ?? "?")"]) { a, _ in a })
            if !wasKilled, let service = event.service, lastGood?.services[service] != nil {
                backoff.recordFailure(service, now: t)
            }
            dead[event.instanceID, default: DeadInstance(service: event.service, exitCode: code, destroyed: false)].exitCode = code
            request(.heal, fetch: false)
        case .destroyed:
            killed[event.instanceID] = nil
            dead[event.instanceID, default: DeadInstance(service: event.service, exitCode: nil, destroyed: true)].destroyed = true
            request(.heal, fetch: false)
        default:
            break
        }
    }

    // MARK: - One sync

    private func sync(triggers: Set<SyncTrigger>, fetch: Bool) async {
        syncCount += 1
        let clock = ContinuousClock()
        let startedAt = clock.now
        let started = now()
        var commitChanged = false
        var errors: [String] = []

        // 1. Desired state.
        if fetch {
            do {
                let desired = try await provider.fetch()
                if fetchFailures > 0 { logger.info("git is reachable again") }
                fetchFailures = 0
                sourceError = nil
                let isNew = desired.commit != newestCommit
                newestCommit = desired.commit
                if desired.hasErrors {
                    if isNew || invalid == nil {
                        let rendered = desired.diagnostics.filter { $0.severity == .error }.map(\.rendered)
                        invalid = InvalidCommit(commit: desired.commit, errors: rendered)
                        metrics.invalidCommit = desired.commit ?? ""
                        metrics.invalidErrors = rendered.count
                        logger.error(
                            "commit has invalid manifests; keeping the last good desired state",
                            metadata: ["git.commit": "\(desired.commit ?? "")", "errors": "\(rendered.count)",
                                       "error": "\(rendered.first ?? "")"])
                        await record(JournalRecord(
                            started: Timestamp.string(started), ended: Timestamp.string(now()), commit: desired.commit,
                            trigger: .commit, result: .invalid, errors: rendered), seconds: seconds(clock.now - startedAt))
                    }
                    if lastGood == nil, let applied = lastAppliedCommit {
                        // A restarted watch: keep what it applied last.
                        if let previous = try? await provider.desiredState(at: applied), !previous.hasErrors {
                            lastGood = previous
                            logger.info("keeping the last applied desired state", metadata: ["git.commit": "\(applied)"])
                        }
                    }
                } else {
                    invalid = nil
                    metrics.invalidCommit = nil
                    metrics.invalidErrors = 0
                    if let previous = lastGood {
                        commitChanged = previous.commit != desired.commit
                    } else {
                        commitChanged = desired.commit != lastAppliedCommit
                    }
                    if commitChanged {
                        logger.info("new desired state", metadata: ["git.commit": "\(desired.commit ?? "")"])
                    }
                    lastGood = desired
                }
            } catch {
                fetchFailures += 1
                sourceError = "\(error)"
                errors.append("git: \(error)")
                logger.error("could not read desired state from git; running services are left alone",
                             metadata: ["error": "\(error)"])
                scheduleRetry(failures: fetchFailures, fetch: true)
            }
        }
        guard let desired = lastGood else {
            if !errors.isEmpty {
                await record(JournalRecord(
                    started: Timestamp.string(started), ended: Timestamp.string(now()), commit: newestCommit,
                    trigger: triggers.contains(.manual) ? .manual : .commit, result: .error, errors: errors),
                    seconds: seconds(clock.now - startedAt))
            }
            return
        }

        // 2. What runs. A heal that only follows runtime events plans from the last observed
        //    state with the dead instances marked (no probing, no listing: the replacement
        //    starts at once), for the services concerned only; the full observe follows.
        let hints = dead
        dead = [:]
        var observed: ObservedState
        var scope: Set<String>? = nil
        if !fetch, triggers == [.heal], !hints.isEmpty, let last = lastObserved,
           hints.values.allSatisfy({ $0.service != nil })
        {
            observed = Self.marking(last, dead: hints)
            scope = Set(hints.values.compactMap(\.service))
        } else {
          do {
            observed = Self.marking(try await runtime.observe(project: project), dead: hints)
            if observeFailures > 0 { logger.info("the runtime is reachable again") }
            observeFailures = 0
            runtimeError = nil
        } catch {
            observeFailures += 1
            runtimeError = "\(error)"
            logger.error("could not observe the runtime; retrying", metadata: ["error": "\(error)"])
            scheduleRetry(failures: observeFailures, fetch: false)
            if observeFailures == 1 {
                await record(JournalRecord(
                    started: Timestamp.string(started), ended: Timestamp.string(now()), commit: desired.commit,
                    trigger: trigger(triggers, commitChanged: commitChanged), result: .error,
                    errors: errors + ["runtime: \(error)"]), seconds: seconds(clock.now - startedAt))
            }
            return
          }
        }
        logger.debug("observed", metadata: ["duration.ms": "\(Int(seconds(clock.now - startedAt) * 1000))"])
        lastObserved = observed
        updateHealthGauges(desired: desired, observed: observed)

        // 3. Plan, minus what must wait.
        var plan: Plan
        do {
            plan = try Planner.plan(desired: desired, observed: observed, options: options.plan)
        } catch {
            logger.error("planning failed", metadata: ["git.commit": "\(desired.commit ?? "")", "error": "\(error)"])
            // Journal it once per distinct error, not on every interval.
            guard lastPlanError != "\(error)" else { return }
            lastPlanError = "\(error)"
            await record(JournalRecord(
                started: Timestamp.string(started), ended: Timestamp.string(now()), commit: desired.commit,
                trigger: trigger(triggers, commitChanged: commitChanged), result: .error,
                errors: errors + ["plan: \(error)"]), seconds: seconds(clock.now - startedAt))
            return
        }
        lastPlanError = nil
        var (kept, deferred) = filter(plan, desired: desired)
        if let scope {
            kept = kept.filter { scope.contains($0.service) }
            deferred = []
        }
        plan.steps = kept
        for d in deferred {
            logger.debug("step deferred", metadata: ["service.name": "\(d.service)", "reason": "\(d.reason)"])
        }

        guard plan.hasChanges else {
            if commitChanged {
                await record(JournalRecord(
                    started: Timestamp.string(started), ended: Timestamp.string(now()), commit: desired.commit,
                    trigger: .commit, result: .succeeded, errors: errors),
                    seconds: seconds(clock.now - startedAt))
            }
            if deferred.isEmpty && desired.commit != lastAppliedCommit {
                lastAppliedCommit = desired.commit
                metrics.lastAppliedCommit = desired.commit
            }
            if let next = backoff.nextRetry(after: now()) { wake(at: next) }
            return
        }

        // 4. Apply.
        let why = trigger(triggers, commitChanged: commitChanged)
        logger.info(
            "applying plan", metadata: ["git.commit": "\(desired.commit ?? "")", "sync.trigger": "\(why.rawValue)",
                                        "plan.steps": "\(plan.steps.count)"])
        let chosen = scope != nil && plan.steps.allSatisfy { $0.action == .heal || $0.action == .scale || $0.action == .create }
            ? healApplier : applier
        let reports = await chosen.apply(
            plan, desired: desired, observed: observed, shouldStop: { [weak self] in await self?.isStopping ?? true })
        var journalSteps: [JournalStep] = []
        for r in reports {
            let meta: Logger.Metadata = [
                "git.commit": "\(desired.commit ?? "")", "service.name": "\(r.step.service)",
                "step.action": "\(r.step.action.rawValue)", "step.outcome": "\(r.outcome.rawValue)",
                "duration.ms": "\(r.durationMs)",
            ]
            if r.outcome == .succeeded {
                logger.info("step done", metadata: meta)
            } else {
                logger.error("step \(r.outcome.rawValue): \(r.message)", metadata: meta)
            }
            if r.instanceFailures > 0 { backoff.recordFailure(r.step.service, count: r.instanceFailures, now: now()) }
            if r.outcome == .rolledBack, let spec = desired.services[r.step.service] {
                heldBack[r.step.service] = HeldBack(
                    service: r.step.service, revision: spec.revision.id, commit: desired.commit, message: r.message)
            }
            if r.outcome == .succeeded && r.step.action == .update { heldBack[r.step.service] = nil }
            if r.outcome == .succeeded && r.step.action == .heal { metrics.heals += r.step.instances?.count ?? 0 }
            if r.outcome == .succeeded && r.step.action == .scale && why == .heal && (r.step.to?.replicas ?? 0) > (r.step.from?.replicas ?? 0) {
                // An instance that disappeared (`docker rm -f`) comes back as a scale-up.
                metrics.heals += (r.step.to?.replicas ?? 0) - (r.step.from?.replicas ?? 0)
            }
            var step = JournalStep(
                action: r.step.action.rawValue, service: r.step.service, wave: r.step.wave, reason: r.step.reason,
                outcome: r.outcome, message: r.message, durationMs: r.durationMs)
            step.revision = r.step.to?.revision
            journalSteps.append(step)
        }
        let result: SyncResult =
            reports.contains { $0.outcome == .failed } ? .failed
            : reports.contains { $0.outcome == .rolledBack } ? .rolledBack
            : reports.contains { $0.outcome == .skipped } ? .failed : .succeeded
        if result == .succeeded && deferred.isEmpty {
            lastAppliedCommit = desired.commit
            metrics.lastAppliedCommit = desired.commit
        }
        if why == .drift || why == .heal { metrics.driftCorrections += 1 }
        await record(JournalRecord(
            started: Timestamp.string(started), ended: Timestamp.string(now()), commit: desired.commit, trigger: why,
            result: result, steps: journalSteps, errors: errors + reports.filter { $0.outcome != .succeeded }.map {
                "\($0.step.service): \($0.message)"
            }), seconds: seconds(clock.now - startedAt))
        logger.info(
            "sync \(result.rawValue)", metadata: ["git.commit": "\(desired.commit ?? "")", "sync.trigger": "\(why.rawValue)",
                                                   "duration.ms": "\(Int(seconds(clock.now - startedAt) * 1000))"])
        if let after = try? await runtime.observe(project: project) {
            lastObserved = after
            updateHealthGauges(desired: desired, observed: after)
            backoff.reset(healthy: healthyServices(desired: desired, observed: after), now: now())
        }
        if let next = backoff.nextRetry(after: now()) { wake(at: next) }
    }

    /// `state` with the instances the runtime reported dead marked exited (or removed when
    /// destroyed).
    static func marking(_ state: ObservedState, dead: [String: DeadInstance]) -> ObservedState {
        guard !dead.isEmpty else { return state }
        var out = state
        for s in out.services.indices {
            out.services[s].instances.removeAll { dead[$0.id]?.destroyed == true }
            for i in out.services[s].instances.indices {
                guard let d = dead[out.services[s].instances[i].id] else { continue }
                if d.unhealthy && d.exitCode == nil {
                    if out.services[s].instances[i].state != .exited { out.services[s].instances[i].state = .unhealthy }
                } else if out.services[s].instances[i].state != .exited {
                    out.services[s].instances[i].state = .exited
                    out.services[s].instances[i].exitCode = d.exitCode
                }
            }
        }
        return out
    }

    /// Steps to run now, and the ones left for later with the reason.
    private func filter(_ plan: Plan, desired: DesiredState) -> (kept: [PlanStep], deferred: [(service: String, reason: String)]) {
        var kept: [PlanStep] = []
        var deferred: [(String, String)] = []
        let t = now()
        for step in plan.steps {
            if step.action == .update, let held = heldBack[step.service], held.revision == step.to?.revision {
                deferred.append((step.service, "rollout of revision \(held.revision) failed and was rolled back; waiting for a newer commit"))
                continue
            }
            let startsInstances = step.action == .heal || step.action == .create
                || (step.action == .scale && (step.to?.replicas ?? 0) > (step.from?.replicas ?? 0))
            if startsInstances, let until = backoff.blocked(step.service, now: t) {
                deferred.append((step.service, "crash-loop backoff until \(Timestamp.string(until))"))
                continue
            }
            kept.append(step)
        }
        return (kept, deferred)
    }

    private func trigger(_ triggers: Set<SyncTrigger>, commitChanged: Bool) -> SyncTrigger {
        if commitChanged { return .commit }
        if triggers.contains(.manual) { return .manual }
        if triggers.contains(.heal) { return .heal }
        return .drift
    }

    private func record(_ record: JournalRecord, seconds: Double) async {
        metrics.recordSync(record.result, seconds: seconds)
        lastSync = SyncSummary(
            trigger: record.trigger, result: record.result, commit: record.commit, started: record.started,
            ended: record.ended, steps: record.steps.count, errors: record.errors)
        guard let journal else { return }
        do { try await journal.append(record) } catch {
            logger.error("could not write the journal", metadata: ["error": "\(error)"])
        }
    }

    private func updateHealthGauges(desired: DesiredState, observed: ObservedState) {
        let report = StatusReport(desired: desired, observed: observed)
        var counts: [HealthStatus: Int] = [:]
        for s in report.services { counts[s.health, default: 0] += 1 }
        metrics.servicesByHealth = counts
        metrics.backoffServices = backoff.entries.values.filter { $0.retryAt > now() }.count
        metrics.heldBackServices = heldBack.count
    }

    private func healthyServices(desired: DesiredState, observed: ObservedState) -> Set<String> {
        Set(StatusReport(desired: desired, observed: observed).services.filter { $0.health == .healthy }.map(\.name))
    }

    private func scheduleRetry(failures: Int, fetch: Bool) {
        let initial = Double(options.retryInitial.components.seconds) + Double(options.retryInitial.components.attoseconds) / 1e18
        let cap = Double(options.interval.components.seconds)
        let wait = min(max(cap, initial), initial * pow(2, Double(min(failures, 20) - 1)))
        retryTask?.cancel()
        retryTask = Task { [weak self] in
            try? await Task.sleep(for: .seconds(wait))
            if !Task.isCancelled { await self?.request(.drift, fetch: fetch) }
        }
    }

    private func wake(at date: Date) {
        let wait = max(0.05, date.timeIntervalSince(now()) + 0.05)
        wakeTask?.cancel()
        wakeTask = Task { [weak self] in
            try? await Task.sleep(for: .seconds(wait))
            if !Task.isCancelled { await self?.request(.heal, fetch: false) }
        }
    }

    private func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    // MARK: - Views for the API

    public func status() -> WatchStatus {
        let desired = lastGood ?? DesiredState()
        let observed = lastObserved ?? .none(project: project)
        let t = now()
        return WatchStatus(
            report: StatusReport(desired: desired, observed: observed),
            desiredCommit: lastGood?.commit, newestCommit: newestCommit, lastAppliedCommit: lastAppliedCommit,
            invalid: invalid, lastSync: lastSync,
            backoff: backoff.sorted.filter { $0.retryAt > t || $0.failures > 1 },
            heldBack: heldBack.values.sorted { $0.service < $1.service },
            sourceError: sourceError, runtimeError: runtimeError, planError: lastPlanError)
    }

    /// The plan the loop would apply now (observing afresh), before backoff and held-back filters.
    public func currentPlan() async throws -> Plan {
        guard let desired = lastGood else { throw NoDesiredState() }
        let observed = try await runtime.observe(project: project)
        return try Planner.plan(desired: desired, observed: observed, options: options.plan)
    }

    public struct NoDesiredState: Error, CustomStringConvertible {
        public var description: String { "no valid desired state has been read from git yet" }
    }

    public func metricsText() -> String {
        var m = metrics
        m.backoffServices = backoff.entries.values.filter { $0.retryAt > now() }.count
        m.heldBackServices = heldBack.count
        return m.prometheusText(project: project)
    }
}

/// `GET /api/v1/status`: the status document of DESIGN.md plus what the loop knows.
public struct WatchStatus: Sendable, Encodable {
    public var report: StatusReport
    public var desiredCommit: String?
    public var newestCommit: String?
    public var lastAppliedCommit: String?
    public var invalid: ReconcileLoop.InvalidCommit?
    public var lastSync: ReconcileLoop.SyncSummary?
    public var backoff: [CrashLoopBackoff.Entry]
    public var heldBack: [ReconcileLoop.HeldBack]
    public var sourceError: String?
    public var runtimeError: String?
    /// Why the loop cannot plan (a dependency cycle, a mass delete it may not do).
    public var planError: String?

    enum CodingKeys: String, CodingKey {
        case formatVersion, project, services, watch
    }
    enum WatchKeys: String, CodingKey {
        case desiredCommit, newestCommit, lastAppliedCommit, invalid, lastSync, backoff, heldBack, sourceError, runtimeError, planError
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(1, forKey: .formatVersion)
        try c.encode(report.project, forKey: .project)
        try c.encode(report.services, forKey: .services)
        var w = c.nestedContainer(keyedBy: WatchKeys.self, forKey: .watch)
        try w.encodeIfPresent(desiredCommit, forKey: .desiredCommit)
        try w.encodeIfPresent(newestCommit, forKey: .newestCommit)
        try w.encodeIfPresent(lastAppliedCommit, forKey: .lastAppliedCommit)
        try w.encodeIfPresent(invalid, forKey: .invalid)
        try w.encodeIfPresent(lastSync, forKey: .lastSync)
        try w.encode(backoff, forKey: .backoff)
        try w.encode(heldBack, forKey: .heldBack)
        try w.encodeIfPresent(sourceError, forKey: .sourceError)
        try w.encodeIfPresent(runtimeError, forKey: .runtimeError)
        try w.encodeIfPresent(planError, forKey: .planError)
    }

    public func jsonText() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, enc in
            var c = enc.singleValueContainer()
            try c.encode(Timestamp.string(date))
        }
        return String(decoding: try! encoder.encode(self), as: UTF8.self) + "\n"
    }
}
