public import BerthCore
public import Foundation
public import Logging

/// The one sync pipeline of `berth apply` and `berth watch`:
///
///     source → overlays → observe → plan → filter → apply → record
///
/// - **source**: the desired state from git; the newest *valid* one is kept (a commit with
///   invalid manifests is recorded and not applied).
/// - **overlays** (`DesiredStateOverlay`): pure changes to the desired state — held-back
///   rollouts planned at the revision they were rolled back to; an autoscaler's counts.
/// - **observe**: what runs, with the instances the runtime reported dead marked.
/// - **plan** (`Planner`), **filter** (`PlanFilter`: crash-loop backoff, held back).
/// - **apply** (`Executor`): half-made containers swept first, then the steps.
/// - **record**: the journal, the metrics, the loop's memory (held back, backoff, last
///   applied commit), and the event bus (`events`), which `berth apply` prints and the API
///   hands out.
///
/// `berth apply` runs it once (`prepare`, ask, `execute`); `berth watch` runs `sync` whenever
/// its scheduler (`ReconcileLoop`) says, and `heal` at once when an instance dies. A heal
/// never waits for a sync in flight: it plans the services concerned from the last
/// observation with the dead marked; the executor serializes steps per service, and a step
/// whose service another apply changed meanwhile is planned afresh (`PlanBasis`).
public actor SyncPipeline {
    public struct Options: Sendable {
        public var plan = PlanOptions(prune: true)
        public var backoff = CrashLoopBackoff()
        /// `berth plan`: the same stages up to the plan, writing nothing. Controls that a
        /// newer commit ended are left out of the plan (and said in its notes) but not
        /// removed from their file; nothing is journaled; a desired state with errors is
        /// planned for the services that loaded. Run it with `prepare()` only, never
        /// `execute` (and give it an `ObservedSnapshot`, which refuses changes anyway).
        public var readOnly = false
        public init() {}
    }

    /// Why no plan could be made, by stage.
    public enum PrepareFailure: Error {
        /// Git could not be read, and there is no earlier desired state.
        case source(any Error)
        /// The desired state has errors, and there is no earlier valid one.
        case invalid(DesiredState)
        case observe(any Error)
        case plan(any Error)
    }

    public nonisolated let project: String
    /// Every sync's events, as they happen.
    public nonisolated let events: EventBus
    let provider: any DesiredStateProvider
    let runtime: any ContainerRuntime
    let executor: Executor
    let journal: Journal?
    let logger: Logger
    let options: Options
    let overlays: [any DesiredStateOverlay]
    /// The operator's pins, overrides and suspensions (`<state-dir>/controls.json`); nil: none.
    let controlsStore: ControlsStore?
    /// Who asked for the syncs this pipeline runs (`user@host` for `berth apply`); nil for watch.
    let actor: String?
    let now: @Sendable () -> Date

    // What the pipeline remembers between runs.
    public internal(set) var lastGood: DesiredState?
    public internal(set) var newestCommit: String?
    public internal(set) var invalid: InvalidCommit?
    /// The invalid newest commit's desired state while no valid one was ever read (a watch
    /// started on it, nothing applied before): status judges what runs against it — held
    /// back as it runs, never "would be pruned".
    var invalidDesired: DesiredState?
    public internal(set) var lastAppliedCommit: String?
    public internal(set) var lastSync: SyncSummary?
    public internal(set) var heldBack: [String: HeldBack] = [:]
    /// The spec a held-back service was rolled back to (as its old instances recorded it).
    var heldSpecs: [String: ServiceSpec] = [:]
    /// Services a refused mass delete keeps as they run, at the spec they run (`RefusedDeletes`).
    var keptSpecs: [String: ServiceSpec] = [:]
    public internal(set) var backoff: CrashLoopBackoff
    public internal(set) var metrics = WatchMetrics()
    public internal(set) var sourceError: String?
    public internal(set) var runtimeError: String?
    /// Why the last sync could not plan (a dependency cycle, a mass delete it may not do).
    public internal(set) var planError: String?
    /// Journal records not written yet (a full disk, an unwritable file), oldest first:
    /// written at the next sync that can (`flushJournal`), each under a number of its own.
    var unwritten: [(number: Int, record: JournalRecord)] = []
    var journalNumbers = 0
    /// The one write of `unwritten` under way: heals journal from tasks of their own, and
    /// two writers would each write the oldest record and then each remove one.
    var journalFlush: Task<Void, Never>?
    /// Why the last journal write failed, while records wait unwritten.
    public internal(set) var journalError: String?
    var fetchFailures = 0
    /// When the current outage of git began (nil: git is reachable).
    var sourceDownSince: Date?
    var observeFailures = 0
    /// The newest observation (by when it began), with the services' generations then.
    var observation: Observation?
    var observationCount = 0
    /// Instances the runtime reported dead, gone or unhealthy since they were observed.
    var dead: [String: DeadInstance] = [:]
    /// Instances killed from outside in the last minute: their death is not a crash.
    var killed: [String: Date] = [:]
    /// Of those, the ones killed with SIGKILL: healed at the kill, so their `die` is no news.
    var healedAtKill: Set<String> = []
    public internal(set) var isStopping = false
    /// The cause of each service's last autoscale decision, for its journal step.
    var autoscaleCauses: [String: String] = [:]
    /// The autoscaler's counts, rates and decisions (`berth watch` writes it; the autoscale
    /// overlay, the status and the metrics read it). Empty for `berth apply`.
    public nonisolated let autoscaleBoard = AutoscaleBoard()
    /// A preview's copy of the autoscaler's counts (`currentPlan`); nil: `autoscaleBoard`'s.
    var decided: [String: Int]?
    var decidedCounts: [String: Int] { decided ?? autoscaleBoard.counts() }

    struct Observation {
        var state: ObservedState
        var generations: [String: ServiceLocks.Generation]
        var number: Int
    }

    public init(
        project: String, provider: any DesiredStateProvider, runtime: any ContainerRuntime,
        router: any TrafficRouter = NoTrafficRouter(), journal: Journal?, logger: Logger,
        options: Options = Options(), overlays: [any DesiredStateOverlay] = SyncPipeline.defaultOverlays,
        events: EventBus = EventBus(), controls: ControlsStore? = nil, actor: String? = nil,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.controlsStore = controls
        self.actor = actor
        self.project = project
        self.provider = provider
        self.runtime = runtime
        self.executor = Executor(runtime: runtime, project: project, router: router)
        self.journal = journal
        self.logger = logger
        self.options = options
        self.overlays = overlays
        self.events = events
        self.backoff = options.backoff
        self.now = now
    }

    /// Held-back rollouts first, then the operator's controls, the autoscaler last (its
    /// counts win over every other count).
    public static let defaultOverlays: [any DesiredStateOverlay] = [HeldBackOverlay(), ControlsOverlay(), AutoscaleOverlay()]

    public var lastObserved: ObservedState? { observation?.state }

    /// Finishes the wave in flight of every apply, then skips the rest.
    public func stop() { isStopping = true }

    /// A plan ready to run, and what it was made from.
    public struct PreparedSync: Sendable {
        /// The desired state as read (its diagnostics included).
        public var desired: DesiredState
        /// After the overlays: what the plan was made from.
        public var planned: DesiredState
        public var observed: ObservedState
        /// The steps that may run now.
        public var plan: Plan
        /// Services left out, with why.
        public var deferred: [DeferredService]
        var run: SyncRun
        var generations: [String: ServiceLocks.Generation]
        /// A heal plans only these services.
        var scope: Set<String>?
        /// The plan's mass delete was refused: the services it would delete are kept as they
        /// run, and the commit is not applied.
        var refusedDelete = false
    }

    /// One run through the pipeline: why, since when, and what went wrong on the way.
    struct SyncRun: Sendable {
        var request: SyncRequest
        var started: Date
        var startedAt: ContinuousClock.Instant
        var commitChanged = false
        var errors: [String] = []
        var retry: SyncFollowUp.Retry?
        /// Git could not be read this time.
        var sourceFailure: (any Error)?
        /// The desired state read this time had errors.
        var invalidDesired: DesiredState?
        /// Run by hand (`berth apply`): journaled as `manual` whatever the commit.
        var byHand = false

        var trigger: SyncTrigger {
            if byHand { return .manual }
            if commitChanged { return .commit }
            if request.triggers.contains(.manual) { return .manual }
            if request.triggers.contains(.autoscale) { return .autoscale }
            if request.triggers.contains(.heal) { return .heal }
            return .drift
        }

        var seconds: Double { (ContinuousClock.now - startedAt).inSeconds }
    }

    // MARK: - Running

    /// One sync. A heal that only follows runtime events takes the fast path (`heal`).
    public func sync(_ request: SyncRequest) async -> SyncFollowUp {
        if !request.fetch, request.triggers == [.heal], let scope = healScope() {
            return await heal(scope)
        }
        await flushJournal()
        var run = SyncRun(request: request, started: now(), startedAt: .now)
        let prepared: PreparedSync
        do {
            prepared = try await prepare(&run)
        } catch {
            await journalFailure(error, run: run)
            return SyncFollowUp(retry: run.retry, wake: backoff.nextRetry(after: now()))
        }
        var followUp = await finish(prepared)
        followUp.retry = run.retry
        return followUp
    }

    /// The heal fast path: the services concerned, planned from the last observation with
    /// the dead marked (no listing, no probing: the replacement starts at once); the full
    /// observation follows the apply. A dead instance that observation does not list (a
    /// replacement started after it and killed before it became healthy) is seen by a
    /// fresh observation instead: planned from the old one, it would be missed.
    public func heal(_ services: Set<String>) async -> SyncFollowUp {
        guard let desired = lastGood, var basis = observation else { return SyncFollowUp(needsSync: true) }
        var run = SyncRun(request: SyncRequest(triggers: [.heal], fetch: false), started: now(), startedAt: .now)
        let marks = takeDead(for: services)
        if marks.contains(where: { !basis.state.lists($0.key, of: $0.value.service) }) {
            let started = ContinuousClock.now
            defer {
                logger.debug("observed afresh for a heal: a dead instance started after the last observation",
                             metadata: ["duration.ms": "\((ContinuousClock.now - started).wholeMilliseconds)"])
            }
            guard let fresh = try? await observe(marking: marks) else {
                for (id, mark) in marks { dead[id] = mark }
                return SyncFollowUp(needsSync: true)
            }
            basis = fresh
        } else {
            basis.state = basis.state.marking(marks)
        }
        do {
            let prepared = try await plan(
                &run, desired: desired, observed: basis.state, generations: basis.generations, scope: services)
            return await finish(prepared)
        } catch {
            await journalFailure(error, run: run)
            return SyncFollowUp(wake: backoff.nextRetry(after: now()))
        }
    }

    /// Source → overlays → observe → plan → filter, for `berth apply`: a fresh pipeline reads
    /// the desired state (an invalid one fails, there being no earlier one), observes, plans.
    /// With `scope`, only those services are planned (`berth rollback`, `berth scale`).
    public func prepare(scope: Set<String>? = nil) async throws(PrepareFailure) -> PreparedSync {
        var run = SyncRun(request: SyncRequest(triggers: [.manual], fetch: true), started: now(), startedAt: .now)
        run.byHand = true
        return try await prepare(&run, scope: scope)
    }

    func prepare(_ run: inout SyncRun, scope: Set<String>? = nil) async throws(PrepareFailure) -> PreparedSync {
        if run.request.fetch || lastGood == nil { await readSource(&run) }
        guard let desired = lastGood else {
            if let error = run.sourceFailure { throw .source(error) }
            throw .invalid(run.invalidDesired ?? DesiredState())
        }
        let (observed, generations) = try await observeStage(&run)
        return try await plan(&run, desired: desired, observed: observed, generations: generations, scope: scope)
    }

    /// Overlays, plan and filter, from `observed`.
    func plan(
        _ run: inout SyncRun, desired: DesiredState, observed: ObservedState,
        generations: [String: ServiceLocks.Generation], scope: Set<String>?
    ) async throws(PrepareFailure) -> PreparedSync {
        // Instances this process replaces (a heal in flight) count once, as their replacement.
        let observed = observed.retiring(await executor.locks.retiredInstances())
        updateHealthGauges(desired: desired, observed: observed)
        let (context, released) = await overlayContext(desired: desired, observed: observed)
        let overlaid = overlays.apply(to: desired, context: context)
        if scope == nil {
            // Every full observation: a service healthy for the reset period starts again from zero.
            backoff.reset(healthy: healthyServices(desired: overlaid.desired, observed: observed), now: now())
        }
        var planned = overlaid.desired
        var plan: Plan
        var refused: PlanError?
        do {
            plan = try Planner.plan(desired: planned, observed: observed, options: options.plan)
            keptSpecs = [:]
        } catch {
            guard case .massDelete(let deleting, _) = error, !run.byHand else { throw .plan(error) }
            refused = error
            planned = await keepingAsTheyRun(deleting, desired: planned, observed: observed)
            do { plan = try Planner.plan(desired: planned, observed: observed, options: keepingOptions) } catch { throw .plan(error) }
        }
        if let refused { await journalFailure(.plan(refused), run: run) } else { planError = nil }
        var (kept, deferred) = PlanFilter.split(plan, heldBack: heldBack, backoff: backoff, now: now())
        // A suspended service is left alone altogether: none of its steps run (heals and
        // prunes included); it counts as deferred only when it had some.
        let dropped = Set(kept.filter { overlaid.frozen.contains($0.service) }.map(\.service))
        kept.removeAll { overlaid.frozen.contains($0.service) }
        deferred.removeAll { overlaid.frozen.contains($0.service) }
        for d in overlaid.deferred where !deferred.contains(where: { $0.service == d.service })
            && (!overlaid.frozen.contains(d.service) || dropped.contains(d.service))
        {
            deferred.append(d)
        }
        if let scope {
            kept = kept.filter { scope.contains($0.service) }
            deferred = deferred.filter { scope.contains($0.service) }
        }
        plan.steps = kept
        // Why a service git changed gets no step: said in the plan that apply and plan print.
        plan = plan.adding(notes: PlanNotes.notes(
            deferred: deferred, frozen: overlaid.frozen, controls: context.controls, git: desired, released: released,
            readOnly: options.readOnly
        ).filter { scope?.contains($0.service) ?? true })
        for d in deferred {
            logger.debug("step deferred", metadata: ["service.name": "\(d.service)", "reason": "\(d.reason)"])
        }
        return PreparedSync(
            desired: desired, planned: planned, observed: observed, plan: plan, deferred: deferred, run: run,
            generations: generations, scope: scope, refusedDelete: refused != nil)
    }

    /// Apply → record: runs the plan (if it has changes), and remembers and journals how it went.
    func finish(_ prepared: PreparedSync) async -> SyncFollowUp {
        let desired = prepared.desired
        guard prepared.plan.hasChanges else {
            if prepared.refusedDelete { return SyncFollowUp(wake: backoff.nextRetry(after: now())) }
            if prepared.run.commitChanged {
                // A commit whose rollout is held back has not reached the runtime: `partial`.
                await record(prepared.run, commit: desired.commit, result: prepared.deferred.isEmpty ? .succeeded : .partial,
                             errors: prepared.run.errors + prepared.deferred.map { "\($0.service): \($0.reason)" })
            }
            if prepared.scope == nil && prepared.deferred.isEmpty && desired.commit != lastAppliedCommit {
                lastAppliedCommit = desired.commit
                metrics.lastAppliedCommit = desired.commit
            }
            return SyncFollowUp(wake: backoff.nextRetry(after: now()))
        }
        let report = await execute(prepared)
        await remember(report, prepared: prepared)
        if let after = try? await observe(marking: [:]) {
            updateHealthGauges(desired: desired, observed: after.state)
            backoff.reset(healthy: healthyServices(desired: prepared.planned, observed: after.state), now: now())
        }
        return SyncFollowUp(wake: backoff.nextRetry(after: now()))
    }

    /// The record stage for `berth apply`: journals the run — trigger `manual`, with who ran
    /// it — whether or not it had steps, so that `history --applied` knows the commit reached
    /// the runtime, and remembers held-back rollouts. `report` is nil when the plan had no
    /// changes.
    public func record(_ prepared: PreparedSync, report: ApplyReport?) async {
        if let report {
            await remember(report, prepared: prepared)
            return
        }
        let desired = prepared.desired
        await record(
            prepared.run, commit: desired.commit, result: prepared.deferred.isEmpty ? .succeeded : .partial,
            errors: prepared.run.errors + prepared.deferred.map { "\($0.service): \($0.reason)" })
        if prepared.scope == nil && prepared.deferred.isEmpty {
            lastAppliedCommit = desired.commit
            metrics.lastAppliedCommit = desired.commit
        }
    }

    /// Apply: sweeps what an interrupted run left half-made (a full sync), then runs the
    /// plan through the executor, publishing every event.
    public func execute(_ prepared: PreparedSync) async -> ApplyReport {
        let desired = prepared.desired
        let trigger = prepared.run.trigger
        logger.info(
            "applying plan", metadata: ["git.commit": "\(desired.commit ?? "")", "sync.trigger": "\(trigger.rawValue)",
                                        "plan.steps": "\(prepared.plan.steps.count)"])
        for step in prepared.plan.steps {
            logger.debug(
                "planned step", metadata: ["service.name": "\(step.service)", "step.action": "\(step.action.rawValue)",
                                           "step.reason": "\(step.reason)", "step.instances": "\((step.instances ?? []).map(shortID))"])
        }
        events.publish(.applying(trigger: trigger, commit: desired.commit, steps: prepared.plan.steps.count), at: now())
        if prepared.scope == nil { await sweep() }
        let basis = PlanBasis(generations: prepared.generations) { [weak self] service in
            await self?.replan(service, planned: prepared.planned)
        }
        let bus = events
        let clock = now
        return await executor.apply(
            prepared.plan, desired: prepared.planned, observed: prepared.observed,
            onEvent: { bus.publish(.step($0), at: clock()) },
            shouldStop: { [weak self] in await self?.isStopping ?? true }, basis: basis)
    }

    /// Containers an interrupted run created and never started (the runtime leaves young
    /// ones alone: a heal of this process may be between their create and their start).
    func sweep() async {
        do {
            let swept = try await runtime.sweep(project: project)
            guard !swept.isEmpty else { return }
            let event = events.publish(.swept(swept), at: now())
            logger.info("\(event.line)")
        } catch {
            logger.warning("could not sweep half-made containers", metadata: ["error": "\(error)"])
        }
    }

    /// A fresh plan of one service whose plan went stale while its step waited (another
    /// apply of this process changed it): observe, mark, plan, filter.
    func replan(_ service: String, planned desired: DesiredState) async -> PlanBasis.Replanned? {
        guard let fresh = try? await observe(marking: dead.filter { $0.value.service == service }) else { return nil }
        let observed = fresh.state
        var run = SyncRun(request: SyncRequest(triggers: [.heal], fetch: false), started: now(), startedAt: .now)
        guard let prepared = try? await plan(
            &run, desired: lastGood ?? desired, observed: observed, generations: fresh.generations, scope: [service])
        else { return nil }
        logger.debug("planned afresh", metadata: ["service.name": "\(service)", "plan.steps": "\(prepared.plan.steps.count)"])
        return PlanBasis.Replanned(
            steps: prepared.plan.steps, instances: observed.service(service)?.instances ?? [])
    }
}
