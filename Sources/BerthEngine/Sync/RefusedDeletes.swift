public import BerthCore

/// A plan that would delete more than half of the running services is refused without
/// `--allow-mass-delete` (a wrong `--path` or `--ref` looks exactly like that). Before, the
/// refusal stopped the whole plan on every sync, so nothing was healed until the commit was
/// reverted (issue 18, finding 9). Now the services it would delete are kept as they run:
/// planned at the spec their instances were started from (the runtime's record, e.g. the
/// `berth.spec` label) and the count that runs, so they are healed; the services still
/// desired are planned as the commit says; nothing is deleted. The refusal stays what it
/// was: `planError` in status, journaled once, and the commit is not recorded as applied.
/// `berth apply` (a run `byHand`) still refuses the whole plan.
extension SyncPipeline {
    /// `desired` with each of `deleting` that still runs added back as it runs; none is
    /// deleted by a plan of the result made with `keepingOptions`.
    func keepingAsTheyRun(_ deleting: [String], desired: DesiredState, observed: ObservedState) async -> DesiredState {
        var out = desired
        var kept: [String: ServiceSpec] = [:]
        for name in deleting {
            let instances = observed.service(name)?.instances ?? []
            guard var spec = await recordedSpec(of: instances, cached: keptSpecs[name]) else { continue }
            spec.replicas = instances.count
            kept[name] = spec
            out.services[name] = spec
        }
        keptSpecs = kept
        return out
    }

    /// What a plan made while a mass delete is refused may do: never prune.
    var keepingOptions: PlanOptions {
        var plan = options.plan
        plan.prune = false
        return plan
    }

    /// The spec the most common revision of `instances` was started from, running ones
    /// asked first; `cached` when it is of that revision. Nil when the runtime has no record.
    func recordedSpec(of instances: [Instance], cached: ServiceSpec? = nil) async -> ServiceSpec? {
        let counts = Dictionary(grouping: instances, by: \.revision.id).mapValues(\.count)
        guard let revision = counts.max(by: { ($0.value, $1.key) < ($1.value, $0.key) })?.key else { return nil }
        if let cached, cached.revision.id == revision { return cached }
        let candidates = instances.filter { $0.revision.id == revision }
            .sorted { ($0.state == .running ? 0 : 1, $0.id) < ($1.state == .running ? 0 : 1, $1.id) }
        for instance in candidates {
            guard let spec = try? await runtime.recordedSpec(instanceID: instance.id) else { continue }
            return spec.revision.id == revision ? spec : nil
        }
        return nil
    }
}
