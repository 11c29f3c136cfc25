public import BerthCore
import Foundation
public import Logging

/// Runs the autoscaler in `berth watch`: every `tick` (250 ms) it reads the balancer's
/// counters through the traffic-statistics port, measures each autoscaled service's rate
/// over the last `windowMs` (`RateTracker`), takes one `Autoscaler.step`, and hands a
/// decision to the loop (`ReconcileLoop.autoscale`), which applies it at once through the
/// sync pipeline. A connection the balancer holds for a service that runs no replica is a
/// demand: one replica (or `min`) is started without waiting for a rate.
///
/// The count a service starts from is what runs (ready plus starting), within its bounds:
/// a restarted watch keeps the count, and decides up at once from the balancer's last
/// seconds, down only after a whole `scaleDownDelay`.
public actor AutoscaleController {
    public struct Options: Sendable {
        public var tick: Duration = .milliseconds(250)
        /// The span the rate is measured over.
        public var windowMs: Int64 = 1000
        public init() {}
    }

    /// A service the balancer should keep listening for (and hold connections of) while
    /// it runs no replica.
    public typealias Declare = @Sendable ([StandbyService]) async throws -> Void

    let loop: ReconcileLoop
    let statistics: any TrafficStatistics
    let declare: Declare?
    let options: Options
    let logger: Logger
    let started = ContinuousClock.now

    var states: [String: AutoscaleState] = [:]
    var trackers: [String: RateTracker] = [:]
    /// What was declared to the balancer last, and its uptime then (a restarted balancer
    /// forgot it).
    var declared: [StandbyService]?
    var balancerUptime: Int64 = -1
    var lastDeclare: Int64 = -1_000_000
    var trafficFailing = false

    public init(
        loop: ReconcileLoop, statistics: any TrafficStatistics, declare: Declare? = nil, options: Options = Options(),
        logger: Logger
    ) {
        self.loop = loop
        self.statistics = statistics
        self.declare = declare
        self.options = options
        self.logger = logger
    }

    var board: AutoscaleBoard { loop.pipeline.autoscaleBoard }

    /// Ticks until the loop stops or the task is cancelled.
    public func run() async {
        while !Task.isCancelled, await !loop.isStopping {
            await tick()
            try? await Task.sleep(for: options.tick)
        }
    }

    func nowMs() -> Int64 {
        let (seconds, attoseconds) = (ContinuousClock.now - started).components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// One look at every autoscaled service.
    public func tick() async {
        guard let desired = await loop.pipeline.lastGood, let observed = await loop.pipeline.lastObserved else { return }
        let specs = desired.services.values.filter { $0.autoscale != nil }.sorted { $0.name < $1.name }
        let names = Set(specs.map(\.name))
        board.keep(only: names)
        states = states.filter { names.contains($0.key) }
        trackers = trackers.filter { names.contains($0.key) }
        guard !specs.isEmpty else { return }
        let now = nowMs()
        let report: TrafficReport?
        do {
            report = try await statistics.traffic()
            if trafficFailing { logger.info("autoscaler: the balancer answers again") }
            trafficFailing = false
        } catch {
            if !trafficFailing {
                logger.warning("autoscaler: cannot read the balancer's counters; counts stay as they are", metadata: ["error": "\(error)"])
            }
            trafficFailing = true
            report = nil
        }
        if let report { await declareIfNeeded(specs, uptime: report.uptimeSeconds, now: now) }
        for spec in specs {
            guard let autoscale = spec.autoscale else { continue }
            let name = spec.name
            var state = states[name] ?? AutoscaleState(
                replicas: AutoscaledReplicas.count(spec, running: observed.service(name)?.instances.count ?? 0), since: now)
            var rate: MeasuredRate?
            var decision: AutoscaleDecision?
            if let report {
                let traffic = report.service(name)
                trackers[name, default: RateTracker()].record(traffic, uptimeSeconds: report.uptimeSeconds, at: now)
                if let measured = trackers[name]?.rate(windowMs: options.windowMs) {
                    rate = MeasuredRate(perSecond: measured.perSecond, windowMs: measured.windowMs)
                }
                if (traffic?.connectionsWaiting ?? 0) > 0 {
                    decision = Autoscaler.demand(&state, spec: autoscale, now: now)
                }
                if decision == nil, let rate {
                    decision = Autoscaler.step(&state, spec: autoscale, rate: rate.perSecond, windowMs: rate.windowMs, now: now)
                }
            } else if state.replicas != Autoscaler.clamp(state.replicas, autoscale) {
                // No rate, but min or max changed.
                decision = Autoscaler.step(&state, spec: autoscale, rate: 0, windowMs: 0, now: now)
            }
            states[name] = state
            board.record(name, replicas: state.replicas, rate: rate, decision: decision, at: Date())
            if let decision {
                logger.info(
                    "autoscale \(decision.summary)",
                    metadata: ["service.name": "\(name)", "autoscale.from": "\(decision.from)", "autoscale.to": "\(decision.to)"])
                await loop.autoscale(name, decision: decision)
            }
        }
    }

    /// Tells the balancer which autoscaled services publish ports (so it listens, and holds
    /// connections, while they run no replica): when the set changes, when the balancer
    /// restarted, and every 10 s.
    func declareIfNeeded(_ specs: [ServiceSpec], uptime: Int64, now: Int64) async {
        guard let declare else { return }
        let services = specs.compactMap { spec -> StandbyService? in
            let ports = spec.ports.compactMap(\.publish).sorted()
            return ports.isEmpty ? nil : StandbyService(service: spec.name, publish: ports)
        }
        let restarted = uptime < balancerUptime
        balancerUptime = uptime
        guard services != declared || restarted || now - lastDeclare >= 10_000 else { return }
        do {
            try await declare(services)
            declared = services
            lastDeclare = now
        } catch {
            logger.warning("autoscaler: cannot tell the balancer which services to hold connections for", metadata: ["error": "\(error)"])
        }
    }
}
