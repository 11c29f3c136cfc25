public import BerthCore

/// An in-memory container engine as a value: applies plan steps to an `ObservedState`
/// deterministically. New instance ids are `SERVICE-NNNN` from a counter that starts at
/// `seed`, so the same steps on the same state always give the same ids.
///
/// Step semantics (the ones the executor implements against a real engine):
/// - `create`: start `to.replicas` instances of `to.revision`;
/// - `update`: end with `to.replicas` instances of `to.revision`: stop the listed
///   instances, keep at most `to.replicas` of the others, start what is missing;
/// - `scale`: up → start `to - from` instances; down → stop the listed instances
///   (a scale to 0 from another revision lists them all);
/// - `heal`: replace each listed instance by a new one of `to.revision`;
/// - `delete`: remove every listed instance.
///
/// Failures are scripted with `FakeFailure`.
public struct FakeCluster: Sendable, Hashable {
    public private(set) var state: ObservedState
    public var failures: [FakeFailure]
    private var counter: Int

    public init(state: ObservedState, seed: Int = 1, failures: [FakeFailure] = []) {
        self.state = state.normalized
        self.counter = seed
        self.failures = failures
    }

    /// The outcome of one step.
    public enum Outcome: Sendable, Hashable {
        case succeeded
        case failed(String)
    }

    /// Applies every step in plan order; a failed step leaves what it could not change and
    /// the remaining steps still run (a step's failure is reported, not fatal here).
    @discardableResult
    public mutating func apply(_ plan: Plan) -> [Outcome] {
        plan.steps.map { apply($0, commit: plan.revision) }
    }

    public mutating func apply(_ step: PlanStep, commit: String?) -> Outcome {
        let name = step.service
        var instances = state.service(name)?.instances ?? []
        let listed = Set(step.instances ?? [])
        var outcome = Outcome.succeeded

        func start(_ count: Int) -> [Instance] {
            guard let to = step.to, count > 0 else { return [] }
            if failures.contains(.createFails(service: name)) {
                outcome = .failed("creating \(name) failed (scripted)")
                return []
            }
            let unhealthy = failures.contains(.neverHealthy(service: name))
            if unhealthy { outcome = .failed("\(name) revision \(to.revision) never became healthy (scripted)") }
            return (0..<count).map { _ in
                makeInstance(name, revision: to.revision, image: to.image, commit: commit,
                             state: unhealthy ? .unhealthy : .running)
            }
        }

        switch step.action {
        case .create:
            instances += start(step.to?.replicas ?? 0)
        case .update:
            let to = step.to!
            // The listed instances go; of the others, the first `to.replicas` by id stay.
            let keep = instances.filter { !listed.contains($0.id) }.sorted { $0.id < $1.id }
                .prefix(to.replicas)
            let fresh = start(to.replicas - keep.count)
            if case .failed = outcome {
                // Rolled back: the new instances go, the old ones stay.
                break
            }
            instances = Array(keep) + fresh
        case .scale:
            let from = step.from?.replicas ?? instances.count
            let to = step.to?.replicas ?? 0
            if to > from {
                instances += start(to - from)
            } else {
                instances.removeAll { listed.contains($0.id) }
            }
        case .heal:
            let replacements = start(listed.count)
            if case .succeeded = outcome {
                instances.removeAll { listed.contains($0.id) }
                instances += replacements
            }
        case .delete:
            instances.removeAll { listed.contains($0.id) }
        }
        setInstances(instances, of: name)
        return outcome
    }

    /// The service `name` ends with `replicas` running instances of `revision`: instances of
    /// it that run are kept (lowest ids first), everything else goes, the rest is started —
    /// what a cluster engine does with a whole service (`FakeRuntime.applyService`).
    public mutating func converge(_ name: String, revision: String, image: String?, replicas: Int, commit: String?) {
        let current = (state.service(name)?.instances ?? []).filter { $0.revision.id == revision && $0.state == .running }
        var instances = Array(current.sorted { $0.id < $1.id }.prefix(replicas))
        for _ in instances.count..<max(instances.count, replicas) {
            instances.append(makeInstance(name, revision: revision, image: image, commit: commit, state: .running))
        }
        setInstances(instances, of: name)
    }

    /// Marks an instance failed (a crash), as the engine would report it.
    public mutating func crash(_ id: String, exitCode: Int = 137) {
        for s in state.services.indices {
            for i in state.services[s].instances.indices where state.services[s].instances[i].id == id {
                state.services[s].instances[i].state = .exited
                state.services[s].instances[i].exitCode = exitCode
                state.services[s].instances[i].restartCount += 1
            }
        }
    }

    public mutating func makeInstance(
        _ service: String, revision: String, image: String?, commit: String?, state: Instance.State
    ) -> Instance {
        defer { counter += 1 }
        let digits = String(counter)
        let id = "\(service)-" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
        return Instance(
            id: id, service: service, revision: Revision(revision), commit: commit, image: image,
            state: state)
    }

    public mutating func remove(id: String) -> Bool {
        for s in state.services.indices {
            if let i = state.services[s].instances.firstIndex(where: { $0.id == id }) {
                state.services[s].instances.remove(at: i)
                if state.services[s].instances.isEmpty { state.services.remove(at: s) }
                return true
            }
        }
        return false
    }

    mutating func setInstances(_ instances: [Instance], of name: String) {
        state.services.removeAll { $0.name == name }
        if !instances.isEmpty {
            state.services.append(ObservedService(name: name, instances: instances))
        }
        state = state.normalized
    }

    mutating func add(_ instance: Instance) {
        var instances = state.service(instance.service)?.instances ?? []
        instances.append(instance)
        setInstances(instances, of: instance.service)
    }
}

/// A scripted failure of the fake engine.
public enum FakeFailure: Sendable, Hashable {
    /// Starting any instance of the service fails.
    case createFails(service: String)
    /// New instances of the service start but never become healthy (they are `unhealthy`,
    /// and an update rolls back).
    case neverHealthy(service: String)
}
