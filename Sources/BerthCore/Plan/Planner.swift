/// Choices that change what a plan may do.
public struct PlanOptions: Sendable, Hashable {
    /// Delete services that are no longer in the desired state.
    public var prune: Bool
    /// Allow a plan that deletes more than half of the running services.
    public var allowMassDelete: Bool

    public init(prune: Bool = false, allowMassDelete: Bool = false) {
        self.prune = prune
        self.allowMassDelete = allowMassDelete
    }
}

/// Desired state + observed state → `Plan`. Pure: no I/O, no clock; the same input (in any
/// order) gives the same plan.
///
/// Per desired service, from its observed instances:
/// - none and replicas > 0 → `create`;
/// - any instance of another revision (strays with unknown revisions included) → one
///   `update` to the new revision at the new replica count (a `scale` when that count is 0);
/// - all at the desired revision, count differs → `scale` (a scale-down stops failing
///   instances first);
/// - exited or unhealthy instances left over → `heal` (unhealthy always; exited as the
///   restart policy says: `always`, `on-failure` with a non-zero code, never for `never`).
/// Services no longer desired → `delete` with `prune` (never while the desired state has
/// errors; more than half of the running services only with `allowMassDelete`), else a note.
///
/// Waves count only services that have steps. A create, update, scale or heal step is in
/// wave 0 when none of the services its service depends on, directly or transitively, has
/// a step; else one more than the highest wave among the steps of those services. So an
/// update of `api` whose dependency `db` is converged shares wave 0 with an unrelated
/// create, and a dependency is never after its dependent. Deletes come after every other
/// step, by the same rule in reverse over the services no longer desired (as their
/// observed `dependsOn` says): wave `first` when no service that depends on it, directly or
/// transitively, is deleted too; else one more than the highest such delete's wave. Waves
/// are dense by construction: a step in wave n > 0 waits for one in wave n − 1.
public enum Planner {
    public static func plan(
        desired: DesiredState, observed: ObservedState, options: PlanOptions = .init()
    ) throws(PlanError) -> Plan {
        // Every service gets a dense id, in the dictionary's own order: nothing below depends
        // on that order (the steps are put in their total order once, at the end), so the
        // names are never sorted. Specs are read in place through `positions`, never copied
        // (a ServiceSpec copy retains a dozen references; copying 10,000 of them was a third
        // of the planning time).
        let services = desired.services
        if let problems = PlanInputCheck.problems(services) { throw .unplannable(problems) }
        let count = services.count
        var ids: [String: Int] = [:]
        ids.reserveCapacity(count)
        var positions: [Dictionary<String, ServiceSpec>.Index] = []
        positions.reserveCapacity(count)
        var position = services.startIndex
        while position != services.endIndex {
            ids[services.keys[position]] = positions.count
            positions.append(position)
            services.formIndex(after: &position)
        }

        // The dependsOn edges over the ids. Unknown targets are the manifest checks' business
        // and ignored here.
        var edges: [(dependent: Int, dependency: Int)] = []
        for i in 0..<count {
            for name in services.values[positions[i]].dependsOn {
                if let d = ids[name] { edges.append((i, d)) }
            }
        }

        // Observed services by desired id, in one pass; the rest are orphans. Two entries
        // with one name (only a hand-written file has them) are merged first, then planned.
        var observedIndex = [Int](repeating: -1, count: count)
        var orphanIndices: [Int] = []
        var emptyOrphanIndices: [Int] = []  // no instances: no step, but maybe in a dependsOn chain
        var orphanNames: Set<String> = []
        var runningCount = 0  // services with instances; strays are no service
        for j in observed.services.indices {
            let name = observed.services[j].name
            let hasInstances = !observed.services[j].instances.isEmpty
            if let i = ids[name] {
                guard observedIndex[i] < 0 else { return try plan(desired: desired, observed: observed.merged, options: options) }
                observedIndex[i] = j
            } else {
                guard orphanNames.insert(name).inserted else {
                    return try plan(desired: desired, observed: observed.merged, options: options)
                }
                if hasInstances { orphanIndices.append(j) } else { emptyOrphanIndices.append(j) }
            }
            if hasInstances && name != ObservedService.straysName { runningCount += 1 }
        }

        // 1. Create, update, scale, heal; the wave is set once every service's steps are known.
        var steps: [PlanStep] = []
        var owner: [Int] = []  // the id of each step's service
        var hasStep = [Bool](repeating: false, count: count)
        for i in 0..<count {
            let p = positions[i]
            let j = observedIndex[i]
            let made: [PlanStep]
            if j < 0 {
                if services.values[p].replicas == 0 { continue }
                made = serviceSteps(services.values[p], instances: [], wave: 0)
            } else if isConverged(
                observed.services[j].instances, revision: services.values[p].revision,
                replicas: services.values[p].replicas, restart: services.values[p].restart)
            {
                continue  // the common case, converged, read in place
            } else {
                made = serviceSteps(services.values[p], instances: observed.services[j].instances, wave: 0)
            }
            if made.isEmpty { continue }
            hasStep[i] = true
            steps += made
            owner += repeatElement(i, count: made.count)
        }
        // Waves exist exactly when there is no cycle; only then are cycles spelled out, on
        // the name-sorted graph, so the message does not depend on the dictionary's order.
        guard let waves = DependencyGraph.stepWaves(count: count, edges: edges, hasStep: hasStep) else {
            throw .dependencyCycle(DependencyGraph(services: services.values).cycles())
        }
        var firstDeleteWave = 0
        for k in steps.indices {
            steps[k].wave = waves[owner[k]]
            firstDeleteWave = max(firstDeleteWave, steps[k].wave + 1)
        }

        // 2. Services no longer desired.
        var notes: [PlanNote] = []
        let orphans = orphanIndices.map { observed.services[$0] }.sorted { $0.name < $1.name }
        if !orphans.isEmpty {
            if !options.prune || desired.hasErrors {
                let errors = desired.diagnostics.filter { $0.severity == .error }.count
                for o in orphans {
                    let ids = o.instances.map(\.id)
                    let count = "\(ids.count) instance\(ids.count == 1 ? "" : "s")"
                    if desired.hasErrors {
                        // Held back, not "pass --prune": the service may only have failed to
                        // load, and nothing of a desired state with errors is applied.
                        notes.append(PlanNote(
                            kind: .pruneBlocked, service: o.name, instances: ids,
                            message: "held back as it runs (\(count)): the desired state has "
                                + "\(errors) error\(errors == 1 ? "" : "s"), and berth never prunes then; fix them first"))
                    } else {
                        notes.append(PlanNote(
                            kind: .wouldPrune, service: o.name, instances: ids,
                            message: "not in the desired state (\(count)); kept by --no-prune (leave it out to delete it)"))
                    }
                }
            } else {
                let deleting = orphans.filter { !$0.isStrays }
                if deleting.count * 2 > runningCount && !options.allowMassDelete {
                    throw .massDelete(deleting: deleting.map(\.name), running: runningCount)
                }
                let empty = emptyOrphanIndices.map { observed.services[$0] }
                steps += deleteSteps(orphans, passingThrough: empty, firstWave: firstDeleteWave)
            }
        }
        // The total order, sorting small keys: a PlanStep is large, and moving or copying it
        // inside a sort costs.
        let keys = steps.map(\.sortKey)
        let order = keys.indices.sorted { keys[$0] < keys[$1] }
        var plan = Plan(
            revision: desired.commit, project: observed.project, sortedSteps: order.map { steps[$0] },
            notes: notes, desiredErrors: desired.diagnostics.filter { $0.severity == .error }.count)
        plan.prune = options.prune
        return plan
    }

    /// `want` instances, all of `revision`, none to replace: nothing to do.
    @inline(__always)
    static func isConverged(_ instances: [Instance], revision: Revision, replicas want: Int, restart: RestartPolicy) -> Bool {
        guard instances.count == want else { return false }
        for k in instances.indices where instances[k].revision != revision || needsReplacement(instances[k], restart: restart) {
            return false
        }
        return true
    }

    // MARK: - One desired service

    static func serviceSteps(_ spec: ServiceSpec, instances unsorted: [Instance], wave: Int) -> [PlanStep] {
        let revision = spec.revision
        let want = spec.replicas
        if isConverged(unsorted, revision: revision, replicas: want, restart: spec.restart) { return [] }
        let instances = unsorted.sorted { $0.id < $1.id }
        let target = PlanStep.Endpoint(image: spec.image, replicas: want, revision: revision.id)

        if instances.isEmpty {
            guard want > 0 else { return [] }
            var to = target
            to.env = maskedEnv(spec.env)
            return [PlanStep(
                action: .create, service: spec.name, wave: wave,
                reason: "new service: nothing runs yet", to: to)]
        }

        let old = instances.filter { $0.revision != revision }
        if !old.isEmpty {
            let from = PlanStep.Endpoint(
                image: mostCommon(old.map { $0.image ?? "" }), replicas: instances.count,
                revision: mostCommon(old.map(\.revision.id)))
            if want == 0 {
                return [PlanStep(
                    action: .scale, service: spec.name, wave: wave,
                    reason: "replicas \(instances.count) → 0", from: from, to: target,
                    instances: instances.map(\.id))]
            }
            var why: [String] = []
            if from.image != spec.image && !from.image.isEmpty {
                why.append("image \(from.image) → \(spec.image)")
            } else {
                why.append("spec changed (revision \(from.revision) → \(revision.id))")
            }
            if instances.count != want { why.append("replicas \(instances.count) → \(want)") }
            let oldRevisions = Set(old.map(\.revision)).count
            if oldRevisions > 1 { why.append("\(oldRevisions) old revisions running") }
            // Failing instances of the new revision are replaced by the update too, and
            // new-revision ones beyond the replica count are stopped (as a scale-down would).
            var replaced = old + instances.filter { $0.revision == revision && $0.isFailing }
            let healthyCurrent = instances.filter { $0.revision == revision && !$0.isFailing }
            if healthyCurrent.count > want {
                replaced += healthyCurrent.sorted(by: removalOrder).prefix(healthyCurrent.count - want)
            }
            return [PlanStep(
                action: .update, service: spec.name, wave: wave,
                reason: why.joined(separator: "; "), from: from, to: target,
                strategy: strategy(spec.update, replicas: want), instances: replaced.map(\.id))]
        }

        var steps: [PlanStep] = []
        var kept = instances
        let current = PlanStep.Endpoint(image: spec.image, replicas: instances.count, revision: revision.id)
        if instances.count > want {
            // Stop failing instances first, then starting ones, then the newest-named.
            let victims = instances.sorted(by: removalOrder).prefix(instances.count - want)
            let gone = Set(victims.map(\.id))
            kept = instances.filter { !gone.contains($0.id) }
            steps.append(PlanStep(
                action: .scale, service: spec.name, wave: wave,
                reason: "replicas \(instances.count) → \(want)", from: current, to: target,
                instances: Array(gone)))
        } else if instances.count < want {
            steps.append(PlanStep(
                action: .scale, service: spec.name, wave: wave,
                reason: "replicas \(instances.count) → \(want)", from: current, to: target))
        }
        let heal = kept.filter { needsReplacement($0, restart: spec.restart) }
        if !heal.isEmpty {
            let healEndpoint = PlanStep.Endpoint(image: spec.image, replicas: kept.count, revision: revision.id)
            steps.append(PlanStep(
                action: .heal, service: spec.name, wave: wave,
                reason: heal.compactMap(\.failureDescription).joined(separator: "; "),
                from: healEndpoint, to: healEndpoint, instances: heal.map(\.id)))
        }
        return steps
    }

    /// Whether a failing instance is replaced: unhealthy always; exited per restart policy.
    static func needsReplacement(_ i: Instance, restart: RestartPolicy) -> Bool {
        switch i.state {
        case .running, .starting: return false
        case .unhealthy: return true
        case .exited:
            switch restart {
            case .always: return true
            case .onFailure: return i.exitCode != 0
            case .never: return false
            }
        }
    }

    /// Which instances a scale-down stops first: exited, unhealthy, starting, running;
    /// the highest id first among equals.
    static func removalOrder(_ a: Instance, _ b: Instance) -> Bool {
        let (ra, rb) = (removalRank(a), removalRank(b))
        return ra != rb ? ra < rb : a.id > b.id
    }

    private static func removalRank(_ i: Instance) -> Int {
        switch i.state {
        case .exited: 0
        case .unhealthy: 1
        case .starting: 2
        case .running: 3
        }
    }

    static func strategy(_ policy: UpdatePolicy, replicas: Int) -> PlanStep.Strategy {
        switch policy.strategy {
        case .recreate:
            return PlanStep.Strategy(type: .recreate)
        case .rolling:
            var surge = policy.maxSurge.resolve(replicas: replicas, roundUp: true)
            let unavailable = policy.maxUnavailable.resolve(replicas: replicas, roundUp: false)
            // Both zero would never make progress; Kubernetes rejects it, Berth surges by one.
            if surge == 0 && unavailable == 0 { surge = 1 }
            return PlanStep.Strategy(type: .rolling, maxSurge: surge, maxUnavailable: unavailable)
        }
    }

    /// The most frequent value; ties go to the smallest.
    static func mostCommon(_ values: [String]) -> String {
        var counts: [String: Int] = [:]
        for v in values { counts[v, default: 0] += 1 }
        return counts.min { a, b in a.value != b.value ? a.value > b.value : a.key < b.key }?.key ?? ""
    }

    static func maskedEnv(_ env: [String: String]) -> [String: String]? {
        guard !env.isEmpty else { return nil }
        var out: [String: String] = [:]
        for (k, v) in env { out[k] = Secrets.display(envKey: k, value: v) }
        return out
    }

    // MARK: - Deletes

    /// Reverse dependency order among the deleted services: a service is deleted before
    /// the services it depended on, directly or through services no longer desired that
    /// have no instances left (`passingThrough`, no step of their own). A delete is in
    /// `firstWave` when nothing deleted depends on it, else one wave after the latest delete
    /// of a service that does. A cycle in the observed `dependsOn` labels (only a
    /// hand-written file has one): every delete in `firstWave`.
    static func deleteSteps(
        _ orphans: [ObservedService], passingThrough empty: [ObservedService] = [], firstWave: Int
    ) -> [PlanStep] {
        let graph = DependencyGraph(pairs: (orphans + empty).map { ($0.name, $0.dependsOn) })
        let deleted = Set(orphans.map(\.name))
        let levels = graph.stepWaveIndices(hasStep: graph.nodes.map { deleted.contains($0) }, reversed: true)
        var waves: [String: Int] = [:]
        if let levels { for (n, name) in graph.nodes.enumerated() { waves[name] = levels[n] } }
        return orphans.map { o in
            let ids = o.instances.map(\.id).sorted()
            let image = mostCommon(o.instances.map { $0.image ?? "" })
            return PlanStep(
                action: .delete, service: o.name, wave: firstWave + (waves[o.name] ?? 0),
                reason: "not in the desired state",
                from: PlanStep.Endpoint(
                    image: image, replicas: ids.count, revision: mostCommon(o.instances.map(\.revision.id))),
                instances: ids)
        }
    }
}

extension ObservedState {
    /// The same state with one entry per service name (`servicesByName`), in any order.
    fileprivate var merged: ObservedState {
        ObservedState(project: project, services: Array(servicesByName.values))
    }
}
