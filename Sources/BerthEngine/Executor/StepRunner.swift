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

    var runtime: any ContainerRuntime { executor.runtime }
    var router: any TrafficRouter { executor.router }

    func run(_ step: PlanStep) async -> StepOutcome {
        var detail = step.reason
        if let strategy = step.strategy { detail += " (\(strategy.description))" }
        onEvent(ApplyEvent(service: step.service, kind: .stepStarted(step.action, detail: detail)))
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
        let instance: Instance
        do {
            instance = try await runtime.startInstance(
                InstanceRequest(project: executor.project, spec: spec, commit: commit))
        } catch {
            return .failed(nil, "could not start an instance: \(error)")
        }
        emit(spec.name, .started(instance: instance.id))
        let outcome: HealthOutcome
        do {
            outcome = try await runtime.waitHealthy(instance, check: spec.health, deadline: deadline)
        } catch {
            let why = "could not be checked: \(error)"
            emit(spec.name, .notHealthy(instance: instance.id, reason: why))
            return .failed(instance, "\(shortID(instance.id)) \(why)")
        }
        guard outcome.isHealthy else {
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

    /// Takes `instance` out of rotation, lets it drain, stops it (SIGTERM, SIGKILL after
    /// `grace`) and removes it. Returns why it could not, or nil.
    func stop(_ instance: Instance, grace: Millis) async -> String? {
        if instance.state != .exited {
            emit(instance.service, .draining(instance: instance.id))
            let outcome = await router.drain(instance, grace: grace)
            // Said once per service, and only where clients go through the balancer.
            if case .notDrained(let reason) = outcome, spec?.ports.contains(where: { $0.publish != nil }) == true,
                warnings.add(.notDrained(service: instance.service, reason: reason))
            {
                emit(instance.service, .notDrained(reason: reason))
            }
        }
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

    // MARK: - Steps

    func scaleUp(_ step: PlanStep, count: Int) async -> StepOutcome {
        guard let spec else { return .failed("no desired spec for \(step.service)") }
        let results = await startMany(spec, count: count, until: deadline(spec))
        let failures = results.compactMap(\.failure).sorted()
        if failures.isEmpty { return .succeeded }
        return .failed(
            "\(failures.count) of \(count) new instance\(count == 1 ? "" : "s") did not become healthy: "
                + failures.joined(separator: "; "))
    }

    /// Scale down, scale to 0, delete: stop the listed instances.
    func removeListed(_ step: PlanStep) async -> StepOutcome {
        let ids = step.instances ?? []
        guard !ids.isEmpty else { return .succeeded }
        var grace = spec?.stopGracePeriod
        if grace == nil {
            // A deleted service: the grace period its instances were started with.
            grace = (try? await runtime.recordedSpec(instanceID: ids[0]))??.stopGracePeriod
        }
        let errors = await stopMany(ids.map { instance($0, service: step.service) }, grace: grace ?? .seconds(10))
        return errors.isEmpty ? .succeeded : .failed(errors.joined(separator: "; "))
    }

    /// Each failing instance is replaced, keeping the count: an exited one is removed and
    /// then replaced; an unhealthy one is removed once its replacement is healthy.
    func heal(_ step: PlanStep) async -> StepOutcome {
        guard let spec else { return .failed("no desired spec for \(step.service)") }
        let ids = step.instances ?? []
        let until = deadline(spec)
        let errors = await withTaskGroup(of: String?.self) { group in
            for id in ids {
                let old = instance(id, service: step.service)
                group.addTask {
                    if old.state == .exited {
                        if let error = await stop(old, grace: spec.stopGracePeriod) { return error }
                        return await startHealthy(spec, until: until).failure
                    }
                    let replacement = await startHealthy(spec, until: until)
                    if let failure = replacement.failure { return "could not replace \(shortID(id)): \(failure)" }
                    return await stop(old, grace: spec.stopGracePeriod)
                }
            }
            var out: [String] = []
            for await e in group { if let e { out.append(e) } }
            return out.sorted()
        }
        return errors.isEmpty ? .succeeded : .failed(errors.joined(separator: "; "))
    }

    /// A rolling or recreate update to `spec`'s revision at `to.replicas`.
    func update(_ step: PlanStep) async -> StepOutcome {
        guard let spec, let to = step.to else { return .failed("no desired spec for \(step.service)") }
        let n = to.replicas
        let listed = Set(step.instances ?? [])
        var old = instances.filter { listed.contains($0.id) }
        var fresh = instances.filter { !listed.contains($0.id) && $0.revision == spec.revision && !$0.isFailing }
        let fromRevision = step.from?.revision ?? old.first?.revision.id ?? ""

        // The previous spec, read while its instances still exist, so a rollback can start
        // it again.
        var previous: ServiceSpec? = nil
        var previousCommit: String? = nil
        if let sample = old.first(where: { $0.revision.id == fromRevision && $0.state != .exited })
            ?? old.first(where: { $0.revision != spec.revision })
        {
            previous = (try? await runtime.recordedSpec(instanceID: sample.id)) ?? nil
            previousCommit = sample.commit
        }
        // Instances of the new revision that served before this update began (an earlier
        // paused rollout): a rollback undoes only what this step started.
        let keptNew = Set(fresh.map(\.id))
        let oldGrace = previous?.stopGracePeriod ?? spec.stopGracePeriod

        // Failing instances serve nothing: they go first, and are not restored by a rollback.
        let failing = old.filter(\.isFailing)
        old.removeAll(where: \.isFailing)
        let liveOldAtStart = old.count
        var errors = await stopMany(failing, grace: oldGrace)
        if !errors.isEmpty { return .failed(errors.joined(separator: "; ")) }

        let rollout = Rollout(
            spec: spec, replicas: n, fromRevision: fromRevision, fromImage: step.from?.image ?? "",
            previous: previous, previousCommit: previousCommit, liveOldAtStart: liveOldAtStart, keptNew: keptNew)
        let strategy = step.strategy ?? PlanStep.Strategy(type: .rolling, maxSurge: 1, maxUnavailable: 0)
        switch strategy.type {
        case .recreate:
            errors = await stopMany(old, grace: oldGrace)
            old = []
            if !errors.isEmpty { return .failed(errors.joined(separator: "; ")) }
            let results = await startMany(spec, count: max(0, n - fresh.count), until: deadline(spec))
            fresh += results.compactMap { if case .healthy(let i) = $0 { i } else { nil } }
            if let reason = results.compactMap(\.failure).sorted().first {
                return await failed(rollout, reason: reason, old: old, fresh: fresh,
                                    failedNew: results.filter { $0.failure != nil }.compactMap(\.instance))
            }
        case .rolling:
            let surge = strategy.maxSurge ?? 1
            let unavailable = strategy.maxUnavailable ?? 0
            let floor = max(0, n - unavailable)
            while true {
                // Old instances go while enough others serve: never below replicas − maxUnavailable.
                let removable = min(old.count, max(0, fresh.count + old.count - floor))
                if removable > 0 {
                    let victims = Array(old.sorted(by: Self.removalOrder).prefix(removable))
                    let gone = Set(victims.map(\.id))
                    old.removeAll { gone.contains($0.id) }
                    errors = await stopMany(victims, grace: oldGrace)
                    if !errors.isEmpty { return .failed(errors.joined(separator: "; ")) }
                }
                if fresh.count >= n && old.isEmpty { break }
                // New instances start while the total stays within replicas + maxSurge.
                let toStart = min(n - fresh.count, n + surge - (fresh.count + old.count))
                if toStart <= 0 {
                    if removable == 0 {
                        return .failed(
                            "the rollout cannot progress with maxSurge \(surge) and maxUnavailable \(unavailable) at \(n) replicas")
                    }
                    continue
                }
                let results = await startMany(spec, count: toStart, until: deadline(spec))
                fresh += results.compactMap { if case .healthy(let i) = $0 { i } else { nil } }
                if let reason = results.compactMap(\.failure).sorted().first {
                    return await failed(rollout, reason: reason, old: old, fresh: fresh,
                                        failedNew: results.filter { $0.failure != nil }.compactMap(\.instance))
                }
            }
        }
        // More instances of the new revision than wanted (kept from before): the newest go.
        if fresh.count > n {
            let surplus = Array(fresh.sorted(by: Self.removalOrder).prefix(fresh.count - n))
            errors = await stopMany(surplus, grace: spec.stopGracePeriod)
            if !errors.isEmpty { return .failed(errors.joined(separator: "; ")) }
        }
        return .succeeded
    }

    /// What a failed rollout needs to roll back or pause.
    struct Rollout: Sendable {
        var spec: ServiceSpec
        var replicas: Int
        var fromRevision: String
        var fromImage: String
        var previous: ServiceSpec?
        /// The commit the old instances were started from (their `berth.commit`).
        var previousCommit: String?
        var liveOldAtStart: Int
        /// Ids of new-revision instances that already ran when the step began.
        var keptNew: Set<String>
    }

    /// A new instance failed or missed the deadline: roll back or pause, per onFailure.
    func failed(_ r: Rollout, reason: String, old: [Instance], fresh: [Instance], failedNew: [Instance]) async -> StepOutcome {
        let name = r.spec.name
        let newText = "revision \(r.spec.revision.id) (\(r.spec.image))"
        let oldText = r.fromImage.isEmpty ? r.fromRevision : "\(r.fromRevision) (\(r.fromImage))"
        switch r.spec.update.onFailure {
        case .pause:
            return .paused(
                "rollout of \(newText) failed (\(reason)): paused as onFailure says; "
                    + "\(fresh.count) of \(r.replicas) replica\(r.replicas == 1 ? "" : "s") run the new revision, "
                    + "\(old.count) the old one; fix the manifest and apply again")
        case .rollback:
            emit(name, .rollingBack(reason: reason))
            let missing = max(0, r.liveOldAtStart - old.count)
            var restored = 0
            var notes: [String] = []
            if missing > 0 {
                if let previous = r.previous {
                    let results = await startMany(
                        previous, count: missing, until: deadline(previous), commit: r.previousCommit)
                    restored = results.filter { $0.failure == nil }.count
                    let broken = results.filter { $0.failure != nil }.compactMap(\.instance)
                    _ = await stopMany(broken, grace: previous.stopGracePeriod)
                    if let why = results.compactMap(\.failure).sorted().first {
                        notes.append("restoring the old revision failed too: \(why)")
                    }
                } else {
                    notes.append("the spec of revision \(r.fromRevision) was not recorded, so its stopped replicas could not be started again")
                }
            }
            // Only what this step started goes; new-revision replicas that served before it
            // keep serving.
            let startedHere = fresh.filter { !r.keptNew.contains($0.id) }
            let kept = fresh.count - startedHere.count
            let errors = await stopMany(startedHere + failedNew, grace: r.spec.stopGracePeriod)
            notes += errors
            let serving = old.count + restored
            var text = "rollout of \(newText) failed (\(reason)): rolled back to \(oldText); "
                + "\(serving) of \(r.liveOldAtStart) replica\(r.liveOldAtStart == 1 ? "" : "s") serve the old revision"
            if kept > 0 {
                text += "; \(kept) replica\(kept == 1 ? "" : "s") of revision \(r.spec.revision.id) that served before this update \(kept == 1 ? "keeps" : "keep") serving"
            }
            if !notes.isEmpty { text += "; " + notes.joined(separator: "; ") }
            return .rolledBack(text)
        }
    }

    /// Which instance goes first: starting ones (serving nothing yet), then the newest.
    static func removalOrder(_ a: Instance, _ b: Instance) -> Bool {
        let (ra, rb) = (a.state == .running ? 1 : 0, b.state == .running ? 1 : 0)
        if ra != rb { return ra < rb }
        if (a.created ?? "") != (b.created ?? "") { return (a.created ?? "") > (b.created ?? "") }
        return a.id > b.id
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
