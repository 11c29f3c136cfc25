public import BerthCore
import Synchronization

/// Carries out a `Plan` through any `ContainerRuntime`: the plan is data, this is its
/// interpreter (STYLE #9).
///
/// - Waves run in order; the steps of one wave run concurrently (one task per service, a
///   service's own steps in plan order).
/// - `dependsOn` is health-gated: a step starts only when every service it depends on is
///   healthy (its steps in this apply succeeded, or, with no steps, an instance of it runs).
///   Otherwise it is skipped, and says why: "depends on booking, whose update failed".
/// - create / scale up: start instances, wait until healthy (deadline: progressDeadline).
///   scale down and delete: drain, then stop with stopGracePeriod. A drain that no load
///   balancer answered does not fail the step: the instance is stopped anyway, and for a
///   service that publishes a port the report warns once (`ApplyReport.warnings`, and a
///   `notDrained` event) that its retired replicas' connections were not drained.
/// - heal: an exited instance is removed, then replaced; an unhealthy one is replaced first
///   and removed once the replacement is healthy.
/// - update, rolling: never more than replicas + maxSurge instances, never fewer than
///   replicas − maxUnavailable serving; per replica start new → healthy → router add →
///   router drain old → stop old. A new instance that fails, or misses progressDeadline,
///   rolls the service back (new revision removed, the old count restored at the old
///   revision from the spec the runtime recorded) or pauses it, per onFailure.
///   Recreate: stop every old instance, then start the new ones.
///
/// Crash safety lives in the runtime's naming and labels: whatever an interrupted step
/// leaves (created-never-started, never-healthy, surplus) is observed and planned away by
/// the next apply.
public struct Executor: Sendable {
    public var runtime: any ContainerRuntime
    public var router: any TrafficRouter
    public var project: String
    /// One writer per service: every apply through executors that share these locks (a
    /// watch's syncs and heals) acts on a service one at a time.
    public var locks: ServiceLocks

    public init(
        runtime: any ContainerRuntime, project: String, router: any TrafficRouter = NoTrafficRouter(),
        locks: ServiceLocks = ServiceLocks()
    ) {
        self.runtime = runtime
        self.project = project
        self.router = router
        self.locks = locks
    }

    /// Runs `plan` (made from `desired` and `observed`) and reports every step's outcome.
    /// Never throws: runtime errors become failed steps. `shouldStop` is asked before each
    /// wave: once it says yes, the wave in flight has finished and every later step is
    /// `skipped("berth is stopping")`.
    ///
    /// Each service's steps run holding its lock. With a `basis`, a service that another
    /// apply changed since the observation behind the plan is planned afresh first
    /// (`PlanBasis.replan`), so two applies never act twice on one change.
    public func apply(
        _ plan: Plan, desired: DesiredState, observed: ObservedState,
        onEvent: @escaping @Sendable (ApplyEvent) -> Void = { _ in },
        shouldStop: @Sendable () async -> Bool = { false },
        basis: PlanBasis? = nil
    ) async -> ApplyReport {
        let clock = ContinuousClock()
        let begin = clock.now
        let running = observed.servicesByName
        var reports: [StepReport] = []
        /// Services whose steps in this apply did not succeed, with the word for why.
        var unhealthy: [String: String] = [:]
        let prepared: Bool
        if plan.steps.contains(where: { $0.action != .delete }) {
            do {
                try await runtime.prepare(project: project)
                prepared = true
            } catch {
                prepared = false
                for step in plan.steps {
                    let report = StepReport(
                        step: step, outcome: .failed("the runtime could not be prepared: \(error)"), duration: .zero)
                    onEvent(ApplyEvent(service: step.service, kind: .stepFinished(report)))
                    reports.append(report)
                }
            }
        } else {
            prepared = true
        }
        guard prepared else { return ApplyReport(plan: plan, steps: reports, duration: clock.now - begin) }

        let warnings = ApplyWarnings()
        /// The generation this apply left each service at (its own later waves are not stale).
        let left = Generations()
        let touched = Set(plan.steps.map(\.service))
        let waves = Dictionary(grouping: plan.steps, by: \.wave).sorted { $0.key < $1.key }
        for (_, steps) in waves {
            if await shouldStop() {
                for step in steps {
                    let report = StepReport(step: step, outcome: .skipped("berth is stopping"), duration: .zero)
                    onEvent(ApplyEvent(service: step.service, kind: .stepFinished(report)))
                    reports.append(report)
                }
                continue
            }
            // One task per service; its steps in plan order.
            var byService: [String: [PlanStep]] = [:]
            for step in steps { byService[step.service, default: []].append(step) }
            let names = byService.keys.sorted()
            let results = await withTaskGroup(of: [StepReport].self) { group in
                for name in names {
                    let spec = desired.services[name]
                    let blocker = spec.flatMap { gate($0, unhealthy: unhealthy, touched: touched, running: running) }
                    let planned = (steps: byService[name]!, instances: running[name]?.instances ?? [])
                    group.addTask {
                        let (mode, claimed, serviceSteps, instances) = await hold(name, planned, basis: basis, left: left)
                        let context = StepContext(
                            executor: self, spec: spec, instances: instances, commit: plan.revision, warnings: warnings,
                            onEvent: onEvent)
                        var out: [StepReport] = []
                        for step in serviceSteps {
                            let started = ContinuousClock.now
                            let outcome: StepOutcome
                            if let blocker {
                                outcome = .skipped(blocker)
                            } else if let failed = out.first(where: { !$0.outcome.isSuccess }) {
                                outcome = .skipped("the \(failed.step.action.rawValue) before it did not succeed")
                            } else {
                                outcome = await context.run(step)
                            }
                            var report = StepReport(step: step, outcome: outcome, duration: ContinuousClock.now - started)
                            if step.startsInstances || step.action == .update { report.image = context.image.digest }
                            (report.exitedBeforeHealthy, report.failedOtherwise) = context.starts.take()
                            onEvent(ApplyEvent(service: step.service, kind: .stepFinished(report)))
                            out.append(report)
                        }
                        let changed = out.contains { if case .skipped = $0.outcome { false } else { true } }
                        left.set(name, await locks.release(name, mode, claimed: claimed, changed: changed))
                        return out
                    }
                }
                var all: [StepReport] = []
                for await r in group { all += r }
                return all
            }
            for r in results where !r.outcome.isSuccess && unhealthy[r.step.service] == nil {
                switch r.outcome {
                case .skipped: unhealthy[r.step.service] = "which was skipped"
                case .rolledBack: unhealthy[r.step.service] = "whose \(r.step.action.rawValue) failed and was rolled back"
                case .paused: unhealthy[r.step.service] = "whose \(r.step.action.rawValue) failed and is paused"
                default: unhealthy[r.step.service] = "whose \(r.step.action.rawValue) failed"
                }
            }
            reports += results
        }
        // Plan order; steps planned afresh (a stale service) sort as plans do.
        let order = Dictionary(plan.steps.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { a, _ in a })
        reports.sort { a, b in
            switch (order[a.step], order[b.step]) {
            case let (x?, y?): x < y
            case (nil, nil): PlanStep.precedes(a.step, b.step)
            case (nil, _?): false
            case (_?, nil): true
            }
        }
        return ApplyReport(plan: plan, steps: reports, duration: clock.now - begin, warnings: warnings.sorted)
    }

    /// Takes the service for its steps: replacing its exited instances only, it shares the
    /// service with other heals (and keeps, of each heal step, the instances it claimed);
    /// else it holds it alone. A plan made before another apply changed the service (its
    /// generation moved on since `basis`) is made afresh, holding it alone.
    func hold(
        _ name: String, _ planned: (steps: [PlanStep], instances: [Instance]), basis: PlanBasis?, left: Generations
    ) async -> (ServiceLocks.Mode, Set<String>, [PlanStep], [Instance]) {
        var (steps, instances) = planned
        let exited = Set(instances.filter { $0.state == .exited }.map(\.id))
        let listed = Set(steps.flatMap { $0.instances ?? [] })
        let instanceSteps = (runtime as? any ServiceRuntime)?.managesRollouts != true
        if instanceSteps && steps.allSatisfy({ $0.action == .heal }) && listed.isSubset(of: exited) {
            let claimed = await locks.acquire(name, .replacing(listed))
            let since = left.get(name) ?? basis?.generations[name] ?? ServiceLocks.Generation()
            let now = await locks.generation(name)
            if basis == nil || now.exclusiveChanges == since.exclusiveChanges {
                steps = steps.compactMap { step in
                    var mine = step
                    mine.instances = (step.instances ?? []).filter(claimed.contains)
                    return mine.instances!.isEmpty ? nil : mine
                }
                return (.replacing(listed), claimed, steps, instances)
            }
            // An exclusive step changed the service meanwhile: plan it afresh, alone.
            await locks.release(name, .replacing(listed), claimed: claimed, changed: false)
        }
        await locks.acquire(name, .exclusive)
        let since = left.get(name) ?? basis?.generations[name] ?? ServiceLocks.Generation()
        if let basis, await locks.generation(name) != since, let fresh = await basis.replan(name) {
            (steps, instances) = (fresh.steps, fresh.instances)
        }
        return (.exclusive, [], steps, instances)
    }

    /// Why `spec` may not start yet (nil when every dependency is healthy).
    func gate(
        _ spec: ServiceSpec, unhealthy: [String: String], touched: Set<String>, running: [String: ObservedService]
    ) -> String? {
        for dependency in spec.dependsOn.sorted() {
            if let why = unhealthy[dependency] { return "depends on \(dependency), \(why)" }
            // A dependency with steps that all succeeded is healthy; one without steps must
            // already have a running instance.
            if touched.contains(dependency) { continue }
            let serving = running[dependency]?.instances.contains { $0.state == .running } ?? false
            if !serving { return "depends on \(dependency), which has no healthy instance" }
        }
        return nil
    }
}

/// Generations by service, shared by the service tasks of one apply.
final class Generations: Sendable {
    private let values = Mutex<[String: ServiceLocks.Generation]>([:])
    func get(_ service: String) -> ServiceLocks.Generation? { values.withLock { $0[service] } }
    func set(_ service: String, _ value: ServiceLocks.Generation) { values.withLock { $0[service] = value } }
}
