public import BerthCore

/// `ContainerRuntime` over a `FakeCluster`: deterministic, in memory, with scripted failures.
/// With `managesRollouts`, it is also a runtime that rolls out whole services itself (as
/// Docker Swarm does): the executor then calls `applyService` / `removeService` only.
public actor FakeRuntime: ServiceRuntime {
    public private(set) var cluster: FakeCluster
    /// Every call, in order, for assertions: "start booking", "remove booking-0001",
    /// "applyService booking x2".
    public private(set) var calls: [String] = []
    public nonisolated let managesRollouts: Bool

    public init(cluster: FakeCluster, managesRollouts: Bool = false) {
        self.cluster = cluster
        self.managesRollouts = managesRollouts
    }

    public init(state: ObservedState, seed: Int = 1, failures: [FakeFailure] = [], managesRollouts: Bool = false) {
        self.cluster = FakeCluster(state: state, seed: seed, failures: failures)
        self.managesRollouts = managesRollouts
    }

    /// Replaces the scripted failures.
    public func script(_ failures: [FakeFailure]) { cluster.failures = failures }

    /// The whole service converged on `replicas` of the request's revision, as a cluster
    /// engine does it: `createFails` fails, `neverHealthy` rolls back (the service as it was).
    public func applyService(_ request: ServiceRequest) async throws -> ServiceOutcome {
        let name = request.spec.name
        calls.append("applyService \(name) x\(request.replicas)")
        if cluster.failures.contains(.createFails(service: name)) {
            return .failed("creating \(name) failed (scripted)")
        }
        if cluster.failures.contains(.neverHealthy(service: name)) && request.replicas > 0 {
            return .rolledBack("\(name) revision \(request.spec.revision.id) never became healthy (scripted)")
        }
        cluster.converge(
            name, revision: request.spec.revision.id, image: request.spec.image, replicas: request.replicas,
            commit: request.commit)
        return .converged
    }

    public func removeService(project: String, service: String, grace: Millis) async throws {
        calls.append("removeService \(service)")
        cluster.converge(service, revision: "", image: nil, replicas: 0, commit: nil)
    }

    public func observe(project: String) async throws -> ObservedState {
        calls.append("observe \(project)")
        guard project == cluster.state.project else { return .none(project: project) }
        return cluster.state
    }

    public func startInstance(_ request: InstanceRequest) async throws -> Instance {
        let name = request.spec.name
        calls.append("start \(name)")
        if cluster.failures.contains(.createFails(service: name)) {
            throw FakeRuntimeError(message: "creating \(name) failed (scripted)")
        }
        let unhealthy = cluster.failures.contains(.neverHealthy(service: name))
        let instance = cluster.makeInstance(
            name, revision: request.spec.revision.id, image: request.spec.image, commit: request.commit,
            state: unhealthy ? .unhealthy : .running)
        cluster.add(instance)
        return instance
    }

    public func removeInstance(id: String, grace: Millis) async throws {
        calls.append("remove \(id)")
        guard cluster.remove(id: id) else {
            throw FakeRuntimeError(message: "no such instance: \(id)")
        }
    }

    /// Answers from the instance's current state: running → healthy; unhealthy (as
    /// `.neverHealthy` starts them) → unhealthy; exited or gone → exited. Never waits.
    public func waitHealthy(_ instance: Instance, check: HealthCheck?, deadline: ContinuousClock.Instant)
        async throws -> HealthOutcome
    {
        calls.append("waitHealthy \(instance.id)")
        let current = cluster.state.service(instance.service)?.instances.first { $0.id == instance.id }
        switch current?.state {
        case .running?: return .healthy
        case .unhealthy?: return .unhealthy(lastFailure: "never becomes healthy (scripted)")
        case .starting?: return .timedOut(lastFailure: nil)
        case .exited?: return .exited(code: current?.exitCode)
        case nil: return .exited(code: nil)
        }
    }

    /// Applies a whole plan with `FakeCluster`'s step semantics.
    @discardableResult
    public func apply(_ plan: Plan) -> [FakeCluster.Outcome] { cluster.apply(plan) }

    public func crash(_ id: String, exitCode: Int = 137) { cluster.crash(id, exitCode: exitCode) }
}

public struct FakeRuntimeError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
