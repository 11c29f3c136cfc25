public import BerthCore
public import Foundation
public import Logging

/// The scheduler of `berth watch`: it decides when the sync pipeline (`SyncPipeline`) runs,
/// and does nothing else.
///
/// - Syncs run one at a time on the runner task: at start, every `interval`, on
///   `POST /api/v1/sync`, when git or the runtime comes back (retries, 1 s doubling up to the
///   interval), and when a crash-loop backoff ends. Wishes are collected between syncs.
/// - Heals do not wait for a sync: an instance that dies or disappears (a runtime event), or
///   that the health monitor gives up on, is healed at once on a task of its own
///   (`SyncPipeline.heal`), planned from the last observation for that service only. The
///   executor serializes the steps of a service, and replans one that a sync changed meanwhile.
public actor ReconcileLoop {
    public struct Options: Sendable {
        public var interval: Duration = .seconds(30)
        public var plan = PlanOptions(prune: true)
        /// First retry after git or the runtime could not be reached; doubles up to the interval.
        public var retryInitial: Duration = .seconds(1)
        public var backoff = CrashLoopBackoff()
        public init() {}
    }

    public nonisolated let project: String
    public nonisolated let pipeline: SyncPipeline
    /// Every sync's events (for `GET /api/v1/events`).
    public nonisolated var events: EventBus { pipeline.events }
    private let runtime: any ContainerRuntime
    private let logger: Logger
    private let options: Options
    private let now: @Sendable () -> Date

    // Wishes, collected between syncs.
    private var pendingTriggers: Set<SyncTrigger> = []
    private var pendingFetch = false
    private var doorbell: AsyncStream<Void>.Continuation?
    private var doorbellStream: AsyncStream<Void>?
    private var stopping = false
    /// While `run` runs, heals go on their own tasks; without it (tests that drive
    /// `syncOnce` by hand) they wait for the next `syncOnce`.
    private var running = false
    /// Services with a heal task that has not planned yet (it takes later deaths too).
    private var healsSettling: Set<String> = []
    private var heals: [Int: Task<Void, Never>] = [:]
    private var healCount = 0
    /// Instances the health monitor is probing right now.
    private var monitoring: Set<String> = []
    private var syncCount = 0
    private var timers: [Task<Void, Never>] = []
    /// The one pending retry (git or runtime unreachable) and the one pending backoff wake-up.
    private var retryTask: Task<Void, Never>?
    private var wakeTask: Task<Void, Never>?
    /// When the interval, a retry and a backoff wake-up will next ask for a sync.
    private var due: (interval: Date?, retry: Date?, wake: Date?) = (nil, nil, nil)
    /// Where status learns the replicas drained by hand (the project's `berth proxy`).
    private let handDrains: any HandDrainSource

    public init(
        project: String, provider: any DesiredStateProvider, runtime: any ContainerRuntime,
        router: any TrafficRouter = NoTrafficRouter(), journal: Journal?, logger: Logger, options: Options = Options(),
        overlays: [any DesiredStateOverlay] = SyncPipeline.defaultOverlays, events: EventBus = EventBus(),
        controls: ControlsStore? = nil, handDrains: any HandDrainSource = NoHandDrains(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.handDrains = handDrains
        var pipelineOptions = SyncPipeline.Options()
        pipelineOptions.plan = options.plan
        pipelineOptions.backoff = options.backoff
        self.project = project
        self.pipeline = SyncPipeline(
            project: project, provider: provider, runtime: runtime, router: router, journal: journal, logger: logger,
            options: pipelineOptions, overlays: overlays, events: events, controls: controls, now: now)
        self.runtime = runtime
        self.logger = logger
        self.options = options
        self.now = now
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        self.doorbell = continuation
        self.doorbellStream = stream
    }

    /// Number of syncs run so far (for tests and the API).
    public var syncs: Int { syncCount }
    /// When the next sync is due without a new wish (the interval, a retry after git or the
    /// runtime failed, or the end of a crash-loop backoff); nil when not running.
    public var nextSyncDue: Date? { [due.interval, due.retry, due.wake].compactMap { $0 }.min() }
    public var isStopping: Bool { stopping }

    // What the pipeline remembers, for tests and views.
    public var lastGood: DesiredState? { get async { await pipeline.lastGood } }
    public var lastSync: SyncSummary? { get async { await pipeline.lastSync } }
    public var lastAppliedCommit: String? { get async { await pipeline.lastAppliedCommit } }
    public var lastObserved: ObservedState? { get async { await pipeline.lastObserved } }
    public var backoff: CrashLoopBackoff { get async { await pipeline.backoff } }
    /// Status with the replicas the project's balancer holds drained by hand.
    public func status() async -> WatchStatus { await pipeline.status(handDrains: await handDrains.handDrains()) }
    public func currentPlan() async throws -> Plan { try await pipeline.currentPlan() }
    public func metricsText() async -> String { await pipeline.metricsText() }

    // MARK: - Running

    /// Resumes from the journal (last applied commit, held-back rollouts), then syncs at
    /// once and on every wish until `stop()`; returns when the sync and heals in flight
    /// have finished.
    public func run(events: Bool = true) async {
        await pipeline.resume()
        running = true
        request(.commit, fetch: true)
        let interval = options.interval
        timers.append(Task { [weak self] in
            while !Task.isCancelled {
                await self?.setDue(interval: interval)
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
        due = (nil, nil, nil)
        while let (_, heal) = heals.first { await heal.value }
        running = false
        logger.info("watch stopped")
    }

    /// Finishes the wave in flight of the sync and heals, then makes `run` return.
    public func stop() async {
        stopping = true
        await pipeline.stop()
        doorbell?.finish()
        doorbell = nil
    }

    /// Records a wish for a sync and wakes the runner.
    public func request(_ trigger: SyncTrigger, fetch: Bool) {
        pendingTriggers.insert(trigger)
        if fetch { pendingFetch = true }
        doorbell?.yield()
    }

    /// Runs one sync with what was asked since the last one (tests call this directly).
    public func syncOnce() async {
        let neverRead = await pipeline.lastGood == nil
        let t = now()
        if let r = due.retry, r <= t { due.retry = nil }
        if let w = due.wake, w <= t { due.wake = nil }
        let request = SyncRequest(triggers: pendingTriggers, fetch: pendingFetch || neverRead)
        pendingTriggers = []
        pendingFetch = false
        syncCount += 1
        follow(await pipeline.sync(request))
    }

    private func follow(_ followUp: SyncFollowUp) {
        if let retry = followUp.retry { scheduleRetry(failures: retry.failures, fetch: retry.fetch) }
        if let date = followUp.wake { wake(at: date) }
        if followUp.needsSync { request(.heal, fetch: false) }
    }

    // MARK: - Heals

    /// A managed instance died or disappeared: heal it now (or, not running, at the next sync).
    public func handle(_ event: RuntimeEvent) async {
        guard await pipeline.note(event) else { return }
        heal(event.service)
    }

    private func heal(_ service: String?) {
        guard running, !stopping, let service else { return request(.heal, fetch: false) }
        guard healsSettling.insert(service).inserted else { return }
        healCount += 1
        let id = healCount
        heals[id] = Task { [weak self] in await self?.runHeal(service, id: id) }
    }

    /// The autoscaler decided a new count for `service`: apply it now, on a task of its own
    /// as a heal is (see `SyncPipeline.autoscale`); without `run`, at the next sync.
    public func autoscale(_ service: String, decision: AutoscaleDecision) {
        guard running, !stopping else { return request(.autoscale, fetch: false) }
        healCount += 1
        let id = healCount
        heals[id] = Task { [weak self] in await self?.runAutoscale(service, decision: decision, id: id) }
    }

    private func runAutoscale(_ service: String, decision: AutoscaleDecision, id: Int) async {
        let followUp = await pipeline.autoscale(service, decision: decision)
        heals[id] = nil
        follow(followUp)
    }

    private func runHeal(_ service: String, id: Int) async {
        healsSettling.remove(service)
        let followUp = await pipeline.heal([service])
        heals[id] = nil
        follow(followUp)
    }

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

    private struct RuntimeEventsEnded: Error, CustomStringConvertible {
        var description: String { "the runtime closed the event stream" }
    }

    /// Probes every running instance that has a health check, once per second; an instance
    /// that fails `failureThreshold` probes in a row (one per `interval`) is marked unhealthy
    /// and healed at once, as a dead one is.
    private func monitorHealth() async {
        while !Task.isCancelled && !stopping {
            try? await Task.sleep(for: .seconds(1))
            for (instance, check) in await pipeline.monitored() where !monitoring.contains(instance.id) {
                var probe = check
                probe.startPeriod = .zero
                let limit = Self.monitorSeconds(probe)
                monitoring.insert(instance.id)
                let runtime = self.runtime
                Task { [weak self, probe] in
                    let outcome = try? await runtime.waitHealthy(instance, check: probe, deadline: ContinuousClock.now + .seconds(limit))
                    await self?.monitored(instance, outcome: outcome)
                }
            }
        }
    }

    /// How long one watch over an instance's health runs: `failureThreshold` intervals and a
    /// timeout, plus a second; at most a day. Computed in floating point: a health check read
    /// back from a container's labels (a service kept by a refused mass delete) is whatever
    /// the label says, and `Int64` arithmetic on it could trap.
    static func monitorSeconds(_ check: HealthCheck) -> Double {
        let ms = Double(check.interval.milliseconds) * Double(max(1, check.failureThreshold))
            + Double(check.timeout.milliseconds)
        return min(max(ms / 1000 + 1, 1), 86_400)
    }

    private func monitored(_ instance: Instance, outcome: HealthOutcome?) async {
        monitoring.remove(instance.id)
        guard case .unhealthy(let why)? = outcome, !stopping else { return }
        await pipeline.noteUnhealthy(instance, why: why)
        heal(instance.service)
    }

    // MARK: - Retries and wake-ups

    private func setDue(interval: Duration) { due.interval = now().addingTimeInterval(interval.inSeconds) }

    private func scheduleRetry(failures: Int, fetch: Bool) {
        let initial = options.retryInitial.inSeconds
        let cap = Double(options.interval.components.seconds)
        let wait = min(max(cap, initial), initial * pow(2, Double(min(failures, 20) - 1)))
        retryTask?.cancel()
        due.retry = now().addingTimeInterval(wait)
        retryTask = Task { [weak self] in
            try? await Task.sleep(for: .seconds(wait))
            if !Task.isCancelled { await self?.request(.drift, fetch: fetch) }
        }
    }

    private func wake(at date: Date) {
        let wait = max(0.05, date.timeIntervalSince(now()) + 0.05)
        wakeTask?.cancel()
        due.wake = now().addingTimeInterval(wait)
        wakeTask = Task { [weak self] in
            try? await Task.sleep(for: .seconds(wait))
            if !Task.isCancelled { await self?.request(.heal, fetch: false) }
        }
    }
}
