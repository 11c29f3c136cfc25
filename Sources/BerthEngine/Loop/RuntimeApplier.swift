public import BerthCore

/// The loop's own plan interpreter over any `ContainerRuntime`, used for the heals that
/// follow runtime events (the engine's `Executor` applies everything else): waves in order,
/// the steps of a wave at once, instances of a step at once.
///
/// - `create` / scale up: start the missing instances, wait until each is healthy.
/// - scale down / `delete`: remove the listed instances with the service's grace period.
/// - `heal`: start each replacement and remove the failed instance at the same moment (the
///   failed one serves nothing), then wait until the replacement is healthy. This is the
///   path a killed instance takes, so it does nothing else.
/// - `update`: rolling in batches of `maxSurge` (start new → healthy → remove old); with
///   `maxSurge` 0, remove `maxUnavailable` old first. A new instance that is not healthy
///   before `progressDeadline` rolls the step back (new instances removed, old ones kept)
///   when `onFailure` is `rollback`; with `pause` the step fails and is left as it is.
///   `recreate`: remove all old, then start all new.
public struct RuntimeApplier: PlanApplier {
    public let runtime: any ContainerRuntime
    public let project: String

    public init(runtime: any ContainerRuntime, project: String) {
        self.runtime = runtime
        self.project = project
    }

    public func apply(_ plan: Plan, desired: DesiredState, observed: ObservedState, shouldStop: @Sendable () async -> Bool) async -> [AppliedStep] {
        var reports: [AppliedStep] = []
        let waves = Dictionary(grouping: plan.steps, by: \.wave)
        for wave in waves.keys.sorted() {
            let steps = waves[wave]!
            if await shouldStop() {
                reports += steps.map { AppliedStep(step: $0, outcome: .skipped, message: "berth is stopping", durationMs: 0) }
                continue
            }
            let results = await withTaskGroup(of: (Int, AppliedStep).self) { group in
                for (i, step) in steps.enumerated() {
                    group.addTask { (i, await run(step, spec: desired.services[step.service], commit: plan.revision)) }
                }
                var out: [(Int, AppliedStep)] = []
                for await r in group { out.append(r) }
                return out.sorted { $0.0 < $1.0 }.map(\.1)
            }
            reports += results
        }
        return reports
    }

    private struct StepFailure: Error {
        var message: String
        var rolledBack = false
        var instanceFailures = 0
        /// The instance that was started but did not become healthy, if any.
        var instance: Instance? = nil
    }

    func run(_ step: PlanStep, spec: ServiceSpec?, commit: String?) async -> AppliedStep {
        let clock = ContinuousClock()
        let started = clock.now
        func report(_ outcome: JournalOutcome, _ message: String = "", failures: Int = 0) -> AppliedStep {
            let elapsed = clock.now - started
            let ms = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
            return AppliedStep(step: step, outcome: outcome, message: message, durationMs: ms, instanceFailures: failures)
        }
        do {
            switch step.action {
            case .delete:
                try await remove(step.instances ?? [], grace: spec?.stopGracePeriod ?? .seconds(10))
            case .create:
                let spec = try require(spec, step)
                try await startHealthy(step.to?.replicas ?? spec.replicas, spec: spec, commit: commit)
            case .scale:
                let spec = try require(spec, step)
                let from = step.from?.replicas ?? 0, to = step.to?.replicas ?? spec.replicas
                if let victims = step.instances, !victims.isEmpty {
                    try await remove(victims, grace: spec.stopGracePeriod)
                } else if to > from {
                    try await startHealthy(to - from, spec: spec, commit: commit)
                }
            case .heal:
                let spec = try require(spec, step)
                try await heal(step.instances ?? [], spec: spec, commit: commit)
            case .update:
                let spec = try require(spec, step)
                try await update(step, spec: spec, commit: commit)
            }
            return report(.succeeded)
        } catch let failure as StartFailure {
            return report(.failed, failure.failure.message, failures: failure.failure.instanceFailures)
        } catch let failure as StepFailure {
            return report(failure.rolledBack ? .rolledBack : .failed, failure.message, failures: failure.instanceFailures)
        } catch {
            return report(.failed, "\(error)")
        }
    }

    private func require(_ spec: ServiceSpec?, _ step: PlanStep) throws -> ServiceSpec {
        guard let spec else { throw StepFailure(message: "\(step.service) is not in the desired state") }
        return spec
    }

    private func remove(_ ids: [String], grace: Millis) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for id in ids { group.addTask { try await runtime.removeInstance(id: id, grace: grace) } }
            try await group.waitForAll()
        }
    }

    /// Starts `count` instances at once and waits until each is healthy. Returns the started
    /// instances; throws with every failure named when any did not become healthy.
    @discardableResult
    private func startHealthy(_ count: Int, spec: ServiceSpec, commit: String?) async throws -> [Instance] {
        guard count > 0 else { return [] }
        let request = InstanceRequest(project: project, spec: spec, commit: commit)
        let deadline = ContinuousClock.now + .milliseconds(spec.update.progressDeadline.milliseconds)
        let results = await withTaskGroup(of: Result<Instance, StepFailure>.self) { group in
            for _ in 0..<count {
                group.addTask { await startOne(request, spec: spec, deadline: deadline) }
            }
            var out: [Result<Instance, StepFailure>] = []
            for await r in group { out.append(r) }
            return out
        }
        let failures = results.compactMap { if case .failure(let f) = $0 { f } else { nil } }
        if !failures.isEmpty {
            // Every instance that was created, healthy or not, so a rollback removes them all.
            let started = results.compactMap { try? $0.get() } + failures.compactMap(\.instance)
            var failure = StepFailure(
                message: failures.map(\.message).sorted().joined(separator: "; "),
                instanceFailures: failures.reduce(0) { $0 + $1.instanceFailures })
            failure.rolledBack = false
            throw StartFailure(started: started, failure: failure)
        }
        return results.compactMap { try? $0.get() }
    }

    private struct StartFailure: Error {
        var started: [Instance]
        var failure: StepFailure
    }

    private func startOne(_ request: InstanceRequest, spec: ServiceSpec, deadline: ContinuousClock.Instant) async -> Result<Instance, StepFailure> {
        let instance: Instance
        do {
            instance = try await runtime.startInstance(request)
        } catch {
            return .failure(StepFailure(message: "starting \(spec.name) failed: \(error)"))
        }
        do {
            let outcome = try await runtime.waitHealthy(instance, check: spec.health, deadline: deadline)
            if outcome.isHealthy { return .success(instance) }
            // An instance that exited is counted by its `die` event; one that runs but never
            // becomes healthy is counted here.
            if case .exited = outcome { return .failure(StepFailure(message: "\(instance.id): \(outcome)", instance: instance)) }
            return .failure(StepFailure(message: "\(instance.id): \(outcome)", instanceFailures: 1, instance: instance))
        } catch {
            return .failure(StepFailure(message: "\(instance.id): health check failed: \(error)", instance: instance))
        }
    }

    private func heal(_ failed: [String], spec: ServiceSpec, commit: String?) async throws {
        // Replacements are created and started first: removing the dead container competes
        // with the start inside the engine (network teardown), and it serves nothing anyway.
        let request = InstanceRequest(project: project, spec: spec, commit: commit)
        let deadline = ContinuousClock.now + .milliseconds(spec.update.progressDeadline.milliseconds)
        let started = await withTaskGroup(of: Result<Instance, StepFailure>.self) { group in
            for _ in failed {
                group.addTask {
                    do { return .success(try await runtime.startInstance(request)) } catch {
                        return .failure(StepFailure(message: "starting \(spec.name) failed: \(error)"))
                    }
                }
            }
            var out: [Result<Instance, StepFailure>] = []
            for await r in group { out.append(r) }
            return out
        }
        async let removal: Void = remove(failed, grace: Millis(min(spec.stopGracePeriod.milliseconds, 1000)))
        let waited = await withTaskGroup(of: StepFailure?.self) { group in
            for result in started {
                group.addTask {
                    guard case .success(let instance) = result else {
                        if case .failure(let f) = result { return f }
                        return nil
                    }
                    do {
                        let outcome = try await runtime.waitHealthy(instance, check: spec.health, deadline: deadline)
                        if outcome.isHealthy { return nil }
                        if case .exited = outcome { return StepFailure(message: "\(instance.id): \(outcome)") }
                        return StepFailure(message: "\(instance.id): \(outcome)", instanceFailures: 1)
                    } catch {
                        return StepFailure(message: "\(instance.id): health check failed: \(error)")
                    }
                }
            }
            var out: [StepFailure] = []
            for await f in group { if let f { out.append(f) } }
            return out
        }
        var failures = waited
        do { try await removal } catch { failures.append(StepFailure(message: "removing failed instances: \(error)")) }
        if !failures.isEmpty {
            throw StepFailure(
                message: failures.map(\.message).sorted().joined(separator: "; "),
                instanceFailures: failures.reduce(0) { $0 + $1.instanceFailures })
        }
    }

    private func update(_ step: PlanStep, spec: ServiceSpec, commit: String?) async throws {
        let old = step.instances ?? []
        let want = step.to?.replicas ?? spec.replicas
        let keptNew = max(0, (step.from?.replicas ?? old.count) - old.count)
        var toStart = max(0, want - keptNew)
        var remaining = old
        let grace = spec.stopGracePeriod
        if spec.update.strategy == .recreate {
            try await remove(remaining, grace: grace)
            do { try await startHealthy(toStart, spec: spec, commit: commit) } catch let error as StartFailure {
                throw error.failure
            }
            return
        }
        let surge = max(0, step.strategy?.maxSurge ?? 1)
        let unavailable = max(0, step.strategy?.maxUnavailable ?? 0)
        var started: [Instance] = []
        while toStart > 0 || !remaining.isEmpty {
            if toStart == 0 {
                try await remove(remaining, grace: grace)
                remaining = []
                break
            }
            var batch = surge > 0 ? min(surge, toStart) : min(max(1, unavailable), toStart)
            if surge == 0 {
                // No room above the replica count: make room first.
                let victims = Array(remaining.prefix(batch))
                try await remove(victims, grace: grace)
                remaining.removeFirst(victims.count)
                batch = max(1, victims.count)
            }
            do {
                started += try await startHealthy(batch, spec: spec, commit: commit)
            } catch let error as StartFailure {
                var failure = error.failure
                if spec.update.onFailure == .rollback {
                    try? await remove((started + error.started).map(\.id), grace: grace)
                    failure.message = "rollout of revision \(spec.revision.id) failed and was rolled back: \(failure.message)"
                    failure.rolledBack = true
                } else {
                    failure.message = "rollout of revision \(spec.revision.id) paused: \(failure.message)"
                }
                throw failure
            }
            toStart -= batch
            if surge > 0 {
                let victims = Array(remaining.prefix(batch))
                try await remove(victims, grace: grace)
                remaining.removeFirst(victims.count)
            }
        }
    }
}
