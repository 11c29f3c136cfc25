public import BerthCore
public import Foundation
import Logging

/// The source and observe stages, and what the runtime reports between syncs.
extension SyncPipeline {
    // MARK: - Source

    /// Fetches and reads the desired state. A valid one becomes `lastGood`; an invalid one
    /// is recorded (once per commit) and the last good one is kept; git that cannot be read
    /// leaves running services alone and asks for a retry.
    func readSource(_ run: inout SyncRun) async {
        let desired: DesiredState
        do {
            desired = try await provider.fetch()
        } catch {
            fetchFailures += 1
            sourceError = "\(error)"
            run.sourceFailure = error
            run.errors.append("git: \(error)")
            run.retry = SyncFollowUp.Retry(failures: fetchFailures, fetch: true)
            logger.error("could not read desired state from git; running services are left alone",
                         metadata: ["error": "\(error)"])
            events.publish(.error("git: \(error)"), at: now())
            await noteSourceDown(error, run: run)
            return
        }
        await noteSourceUp(commit: desired.commit, run: run)
        fetchFailures = 0
        sourceError = nil
        let isNew = desired.commit != newestCommit
        newestCommit = desired.commit
        if isNew { await checkHistory(of: desired.commit, run: &run) }
        // A plan (read-only) covers the services that loaded, as `Planner` does with errors.
        guard !desired.hasErrors || options.readOnly else {
            run.invalidDesired = desired
            if isNew || invalid == nil {
                let rendered = desired.diagnostics.filter { $0.severity == .error }.map(\.rendered)
                invalid = InvalidCommit(commit: desired.commit, errors: rendered)
                metrics.invalidCommit = desired.commit ?? ""
                metrics.invalidErrors = rendered.count
                logger.error(
                    "commit has invalid manifests; keeping the last good desired state",
                    metadata: ["git.commit": "\(desired.commit ?? "")", "errors": "\(rendered.count)",
                               "error": "\(rendered.first ?? "")"])
                events.publish(.invalidCommit(commit: desired.commit, errors: rendered), at: now())
                await journal(JournalRecord(
                    started: Timestamp.string(run.started), ended: Timestamp.string(now()), commit: desired.commit,
                    trigger: .commit, result: .invalid, errors: run.errors + rendered), seconds: run.seconds)
            }
            if lastGood == nil, let applied = lastAppliedCommit {
                // A restarted watch: keep what it applied last.
                if let previous = try? await provider.desiredState(at: applied), !previous.hasErrors {
                    lastGood = previous
                    logger.info("keeping the last applied desired state", metadata: ["git.commit": "\(applied)"])
                }
            }
            if lastGood == nil {
                // Nothing to sync to: observe anyway, so that status shows what runs.
                invalidDesired = desired
                _ = try? await observe(marking: [:])
            }
            return
        }
        invalid = nil
        invalidDesired = nil
        metrics.invalidCommit = nil
        metrics.invalidErrors = 0
        if let previous = lastGood {
            run.commitChanged = previous.commit != desired.commit
        } else {
            run.commitChanged = desired.commit != lastAppliedCommit
        }
        if run.commitChanged {
            logger.info("new desired state", metadata: ["git.commit": "\(desired.commit ?? "")"])
        }
        lastGood = desired
    }

    // MARK: - Observe

    /// What runs, with the instances the runtime reported dead since marked (those marks
    /// are used up).
    func observeStage(_ run: inout SyncRun) async throws(PrepareFailure) -> (ObservedState, [String: ServiceLocks.Generation]) {
        let hints = dead
        dead = [:]
        do {
            let fresh = try await observe(marking: hints)
            if observeFailures > 0 { logger.info("the runtime is reachable again") }
            observeFailures = 0
            runtimeError = nil
            logger.debug("observed", metadata: ["duration.ms": "\((ContinuousClock.now - run.startedAt).wholeMilliseconds)"])
            return (fresh.state, fresh.generations)
        } catch {
            observeFailures += 1
            runtimeError = "\(error)"
            run.retry = SyncFollowUp.Retry(failures: observeFailures, fetch: false)
            logger.error("could not observe the runtime; retrying", metadata: ["error": "\(error)"])
            throw .observe(error)
        }
    }

    /// Observes the runtime; the newest observation (by when it began) is kept, with the
    /// services' generations taken just before it began.
    func observe(marking hints: [String: DeadInstance]) async throws -> Observation {
        observationCount += 1
        let number = observationCount
        let generations = await executor.locks.snapshot()
        let state = try await runtime.observe(project: project).marking(hints)
        let fresh = Observation(state: state, generations: generations, number: number)
        if (observation?.number ?? 0) < number { observation = fresh }
        return fresh
    }

    /// What the overlays need that takes I/O: the spec each held-back service was rolled
    /// back to, read from its old instances (once; remembered until its rollout is retried);
    /// the controls in force, and those `desired` ended (`controlsInForce`).
    func overlayContext(desired: DesiredState, observed: ObservedState) async -> (OverlayContext, released: [ReleasedControl]) {
        for (name, held) in heldBack.sorted(by: { $0.key < $1.key })
        where held.outcome == .rolledBack && desired.services[name]?.revision.id == held.revision && heldSpecs[name] == nil {
            let old = (observed.service(name)?.instances ?? []).filter { $0.revision.id != held.revision }
            // The most common old revision's spec.
            if let spec = await recordedSpec(of: old) { heldSpecs[name] = spec }
        }
        let (controls, released) = await controlsInForce(desired)
        let context = OverlayContext(
            observed: observed, heldBack: heldBack, rolledBackSpecs: heldSpecs, autoscaled: decidedCounts,
            controls: controls, now: now())
        return (context, released)
    }

    /// The operator's controls that `desired` (git's) leaves in force, read afresh from their
    /// file on every plan (a `berth scale` while watch runs takes effect at the next sync).
    /// Those a newer commit ended (returned as `released`) are removed from the file,
    /// logged, published and journaled once, here — except by a read-only pipeline (`berth
    /// plan`), which plans without them and leaves the file and the journal alone.
    func controlsInForce(_ desired: DesiredState) async -> (ProjectControls, released: [ReleasedControl]) {
        guard let store = controlsStore else { return (ProjectControls(), []) }
        let controls: ProjectControls
        do {
            controls = try store.read()
        } catch {
            logger.error("cannot read the controls; syncing as git says", metadata: ["error": "\(error)"])
            return (ProjectControls(), [])
        }
        let released = controls.released(by: desired)
        guard !released.isEmpty else { return (controls, []) }
        if options.readOnly { return (controls.removing(released), released) }
        do {
            try store.update { $0 = $0.removing($0.released(by: desired)) }
        } catch {
            logger.error("cannot update the controls", metadata: ["error": "\(error)"])
        }
        let t = Timestamp.string(now())
        for r in released {
            logger.info("\(r.sentence)", metadata: ["service.name": "\(r.service)"])
            events.publish(.control(service: r.service, message: r.sentence), at: now())
        }
        // A record of its own (not a sync: the sync that follows is journaled as usual).
        do {
            _ = try await journal?.append(JournalRecord(
                started: t, ended: t, commit: desired.commit, trigger: .commit, result: .succeeded,
                steps: released.map {
                    JournalStep(
                        action: $0.kind == .pin ? "unpin" : "unscale", service: $0.service, wave: 0, reason: $0.reason,
                        outcome: .succeeded, durationMs: 0)
                }))
        } catch {
            logger.error("could not write the journal", metadata: ["error": "\(error)"])
        }
        return (controls.removing(released), released)
    }

    // MARK: - What the runtime reports between syncs

    /// A managed instance died, was killed or disappeared: marks it. True when a heal is
    /// due (of `event.service`). A death with no `kill` before it is a crash, which the
    /// crash-loop backoff counts; the end of an instance this process stopped is no news.
    public func note(_ event: RuntimeEvent) async -> Bool {
        switch event.kind {
        case .died, .destroyed:
            if await executor.locks.removes(event.instanceID) { return false }
        case .killed(let signal) where Self.isSIGKILL(signal):
            // This process's own stop, past its grace period.
            if await executor.locks.removes(event.instanceID) { return false }
        default:
            break
        }
        let t = now()
        killed = killed.filter { t.timeIntervalSince($0.value) < 60 }
        healedAtKill.formIntersection(killed.keys)
        switch event.kind {
        case .killed(let signal):
            killed[event.instanceID] = t
            // SIGKILL cannot be caught or ignored: the instance is dead in all but Docker's
            // report, whose `die` follows 40–70 ms later (with all 3 replicas killed, the
            // last replacement started about 1 s after its kill). Heal it now; any other
            // signal may be handled, so it waits for the `die`.
            guard Self.isSIGKILL(signal), let service = event.service,
                  lastGood?.services[service] != nil || keptSpecs[service] != nil,
                  healedAtKill.insert(event.instanceID).inserted
            else { return false }
            logger.info(
                "instance killed",
                metadata: ["docker.container": "\(event.instanceID.prefix(12))", "service.name": "\(service)", "signal": "KILL"])
            dead[event.instanceID, default: DeadInstance(service: service, exitCode: 137, destroyed: false)].exitCode = 137
            return true
        case .died(let code):
            if healedAtKill.contains(event.instanceID) { return false }
            let wasKilled = killed[event.instanceID] != nil
            var meta: Logger.Metadata = ["docker.container": "\(event.instanceID.prefix(12))"]
            if let s = event.service { meta["service.name"] = "\(s)" }
            logger.info(
                wasKilled ? "instance killed" : "instance died",
                metadata: meta.merging(["exit.code": "\(code.map(String.init) ?? "?")"]) { a, _ in a })
            if !wasKilled, let service = event.service, lastGood?.services[service] != nil || keptSpecs[service] != nil {
                backoff.recordFailure(service, now: t)
            }
            dead[event.instanceID, default: DeadInstance(service: event.service, exitCode: code, destroyed: false)].exitCode = code
            return true
        case .destroyed:
            killed[event.instanceID] = nil
            dead[event.instanceID, default: DeadInstance(service: event.service, exitCode: nil, destroyed: true)].destroyed = true
            return true
        default:
            return false
        }
    }

    static func isSIGKILL(_ signal: String?) -> Bool {
        switch signal?.uppercased() {
        case "9", "KILL", "SIGKILL": true
        default: false
        }
    }

    /// The health monitor gave up on `instance`: a failure of its service, healed at once.
    public func noteUnhealthy(_ instance: Instance, why: String) {
        logger.warning(
            "instance unhealthy",
            metadata: ["service.name": "\(instance.service)", "docker.container": "\(instance.id.prefix(12))",
                       "health.failure": "\(why)"])
        if lastGood?.services[instance.service] != nil || keptSpecs[instance.service] != nil { backoff.recordFailure(instance.service, now: now()) }
        dead[instance.id, default: DeadInstance(service: instance.service, exitCode: nil, destroyed: false)].unhealthy = true
    }

    /// The services that the marks name, for the heal path (nil: there are no marks, a mark
    /// names no service, or nothing was observed yet). Whether the last observation will
    /// do is the heal's to decide (`heal`: it observes afresh when it does not list a mark).
    func healScope() -> Set<String>? {
        guard !dead.isEmpty, observation != nil, dead.values.allSatisfy({ $0.service != nil }) else { return nil }
        return Set(dead.values.compactMap(\.service))
    }

    /// Uses up the marks of `services`.
    func takeDead(for services: Set<String>) -> [String: DeadInstance] {
        let taken = dead.filter { $0.value.service.map(services.contains) ?? false }
        for id in taken.keys { dead[id] = nil }
        return taken
    }

    /// Running instances with a health check, for the health monitor, with the check.
    public func monitored() -> [(instance: Instance, check: HealthCheck)] {
        guard let desired = lastGood, let observed = observation?.state else { return [] }
        var out: [(instance: Instance, check: HealthCheck)] = []
        for service in observed.services {
            guard let check = (desired.services[service.name] ?? keptSpecs[service.name])?.health else { continue }
            for instance in service.instances where instance.state == .running { out.append((instance, check)) }
        }
        return out
    }
}
