import BerthCore
import Synchronization

/// Carries out the steps of one service: everything one step needs, and nothing shared
/// with other services' steps (which run concurrently).
struct StepContext: Sendable {
    let executor: Executor
    /// The desired spec (nil for a service that is being deleted).
    let spec: ServiceSpec?
    /// The service's instances as observed when the plan was made.
    let instances: [Instance]
    let commit: String?
    /// The apply's warnings, shared by the steps of every service.
    let warnings: ApplyWarnings
    let onEvent: @Sendable (ApplyEvent) -> Void
    /// The image digest this service's steps ran (`prepareImage`).
    let image = ImageNote()
    /// How the current step's new instances failed (`awaitHealthy`, `launch`).
    let starts = StartFailures()

    var runtime: any ContainerRuntime { executor.runtime }
    var router: any TrafficRouter { executor.router }

    func run(_ step: PlanStep) async -> StepOutcome {
        var detail = step.reason
        if let strategy = step.strategy { detail += " (\(strategy.description))" }
        onEvent(ApplyEvent(service: step.service, kind: .stepStarted(step.action, detail: detail)))
        if let services = wholeServices { return await runWholeService(step, on: services) }
        if let failure = await prepareImage(for: step) { return .failed(failure) }
        switch step.action {
        case .delete:
            return await removeListed(step)
        case .scale:
            let from = step.from?.replicas ?? instances.count
            let to = step.to?.replicas ?? 0
            if to > from && (step.instances ?? []).isEmpty {
                return await scaleUp(step, count: to - from)
            }
            return await removeListed(step)
        case .create:
            return await scaleUp(step, count: step.to?.replicas ?? 0)
        case .heal:
            return await heal(step)
        case .update:
            return await update(step)
        }
    }

    // MARK: - Instances

    enum Started: Sendable {
        case healthy(Instance)
        /// The instance when one was made, and why it is not healthy.
        case failed(Instance?, String)

        var instance: Instance? {
            switch self {
            case .healthy(let i): i
            case .failed(let i, _): i
            }
        }
        var failure: String? {
            if case .failed(_, let why) = self { return why }
            return nil
        }
    }

    func emit(_ service: String, _ kind: ApplyEvent.Kind) {
        onEvent(ApplyEvent(service: service, kind: kind))
    }

    func deadline(_ spec: ServiceSpec) -> ContinuousClock.Instant {
        .now + .milliseconds(max(0, spec.update.progressDeadline.milliseconds))
    }

    /// Starts one instance of `spec`, waits until it is healthy, puts it into rotation.
    func startHealthy(_ spec: ServiceSpec, until deadline: ContinuousClock.Instant) async -> Started {
        await startHealthy(spec, until: deadline, commit: commit)
    }

    /// As `startHealthy(_:until:)`, labelled with `commit` (a rollback restores the old
    /// revision under the commit it came from, not the one that failed).
    func startHealthy(_ spec: ServiceSpec, until deadline: ContinuousClock.Instant, commit: String?) async -> Started {
        switch await launch(spec, commit: commit) {
        case .success(let instance): await awaitHealthy(instance, spec: spec, until: deadline)
        case .failure(let failure): .failed(nil, failure.reason)
        }
    }

    struct LaunchFailure: Error { var reason: String }

    /// Creates and starts one instance of `spec` (not yet healthy, not in rotation).
    func launch(_ spec: ServiceSpec, commit: String?) async -> Result<Instance, LaunchFailure> {
        do {
            let instance = try await runtime.startInstance(
                InstanceRequest(project: executor.project, spec: spec, commit: commit, imageDigest: image.digest))
            emit(spec.name, .started(instance: instance.id))
            return .success(instance)
        } catch {
            starts.failedOtherwise()
            return .failure(LaunchFailure(reason: "could not start an instance: \(error)"))
        }
    }

    /// Waits until `instance` is healthy, then puts it into rotation.
    func awaitHealthy(_ instance: Instance, spec: ServiceSpec, until deadline: ContinuousClock.Instant) async -> Started {
        let outcome: HealthOutcome
        do {
            outcome = try await runtime.waitHealthy(instance, check: spec.health, deadline: deadline)
        } catch {
            starts.failedOtherwise()
            let why = "could not be checked: \(error)"
            emit(spec.name, .notHealthy(instance: instance.id, reason: why))
            return .failed(instance, "\(shortID(instance.id)) \(why)")
        }
        guard outcome.isHealthy else {
            if case .exited = outcome { starts.exited(instance.id) } else { starts.failedOtherwise() }
            emit(spec.name, .notHealthy(instance: instance.id, reason: outcome.description))
            return .failed(instance, "\(shortID(instance.id)) \(outcome.description)")
        }
        var ready = instance
        ready.state = .running
        emit(spec.name, .healthy(instance: instance.id))
        await router.instanceReady(ready)
        return .healthy(ready)
    }

    /// Starts `count` instances at once; results in start order is not promised.
    func startMany(_ spec: ServiceSpec, count: Int, until deadline: ContinuousClock.Instant) async -> [Started] {
        await startMany(spec, count: count, until: deadline, commit: commit)
    }

    func startMany(
        _ spec: ServiceSpec, count: Int, until deadline: ContinuousClock.Instant, commit: String?
    ) async -> [Started] {
        guard count > 0 else { return [] }
        return await withTaskGroup(of: Started.self) { group in
            for _ in 0..<count { group.addTask { await startHealthy(spec, until: deadline, commit: commit) } }
            var out: [Started] = []
            for await r in group { out.append(r) }
            return out
        }
    }

    /// Takes `instance` out of rotation, lets it drain (for up to `grace`), stops it
    /// (SIGTERM, SIGKILL after `grace`) and removes it. Returns why it could not, or nil.
    func stop(_ instance: Instance, grace: Millis) async -> String? {
        if instance.state != .exited {
            emit(instance.service, .draining(instance: instance.id))
            let outcome = await router.drain(instance, grace: grace, stopTimeout: grace)
            // Said once per service, and only where clients go through the balancer.
            if case .notDrained(let reason) = outcome, spec?.ports.contains(where: { $0.publish != nil }) == true,
                warnings.add(.notDrained(service: instance.service, reason: reason))
            {
                emit(instance.service, .notDrained(reason: reason))
            }
        }
        await executor.locks.noteRemoving(instance.id)
        do {
            try await runtime.removeInstance(id: instance.id, grace: grace)
        } catch {
            emit(instance.service, .stopFailed(instance: instance.id, reason: "\(error)"))
            return "could not stop \(shortID(instance.id)): \(error)"
        }
        emit(instance.service, .stopped(instance: instance.id))
        return nil
    }

    /// Stops every one of `victims` at once; the reasons of those that could not be stopped.
    func stopMany(_ victims: [Instance], grace: Millis) async -> [String] {
        guard !victims.isEmpty else { return [] }
        return await withTaskGroup(of: String?.self) { group in
            for v in victims { group.addTask { await stop(v, grace: grace) } }
            var out: [String] = []
            for await r in group { if let r { out.append(r) } }
            return out.sorted()
        }
    }

    /// The observed instance with `id`, or a stand-in for one that was not observed.
    func instance(_ id: String, service: String) -> Instance {
        instances.first { $0.id == id }
            ?? Instance(id: id, service: service, revision: Revision(""), state: .running)
    }
}

/// The warnings of one apply: at most one per service.
final class ApplyWarnings: Sendable {
    private let byService = Mutex<[String: ApplyWarning]>([:])

    /// Records `warning` unless its service has one already; true when recorded.
    func add(_ warning: ApplyWarning) -> Bool {
        byService.withLock { all in
            guard all[warning.service] == nil else { return false }
            all[warning.service] = warning
            return true
        }
    }

    var sorted: [ApplyWarning] { byService.withLock { $0.values.sorted() } }
}
