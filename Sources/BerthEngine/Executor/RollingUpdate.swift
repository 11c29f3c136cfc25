import BerthCore

/// Update to a new revision: rolling (surge and unavailability bounds) or recreate.
extension StepContext {
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

    /// Which instance goes first: starting ones (serving nothing yet), then the newest.
    static func removalOrder(_ a: Instance, _ b: Instance) -> Bool {
        let (ra, rb) = (a.state == .running ? 1 : 0, b.state == .running ? 1 : 0)
        if ra != rb { return ra < rb }
        if (a.created ?? "") != (b.created ?? "") { return (a.created ?? "") > (b.created ?? "") }
        return a.id > b.id
    }
}
