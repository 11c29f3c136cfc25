/// A runtime that rolls out, scales and restarts a whole service itself: a cluster engine
/// (Docker Swarm; Kubernetes later). With `managesRollouts`, the executor hands it one
/// service per plan step — create, update, scale, heal: `applyService`; delete:
/// `removeService` — and waits for it to converge, instead of starting and stopping
/// instances. Waves, the `dependsOn` health gate, truthful outcomes (a rollback the runtime
/// made is a failure, and holds the revision back), the journal and the events stay Berth's.
///
/// A runtime that manages rollouts is never asked to start or remove one instance: the
/// defaults of `startInstance` and `removeInstance` below say so if anything does.
public protocol ServiceRuntime: ContainerRuntime {
    /// True when the executor should hand this runtime whole services.
    var managesRollouts: Bool { get }

    /// Makes the service of `request.spec` run `request.replicas` replicas of its revision
    /// (creating, updating or scaling it) and returns once the runtime converged, rolled the
    /// change back, paused it, failed, or `request.deadline` passed.
    func applyService(_ request: ServiceRequest) async throws -> ServiceOutcome

    /// Removes the project's service `service` and everything it runs (its instances are
    /// stopped with `grace`).
    func removeService(project: String, service: String, grace: Millis) async throws
}

extension ServiceRuntime {
    public var managesRollouts: Bool { true }

    public func startInstance(_ request: InstanceRequest) async throws -> Instance {
        throw ServiceRuntimeError.instanceCall("start an instance of \(request.spec.name)")
    }

    public func removeInstance(id: String, grace: Millis) async throws {
        throw ServiceRuntimeError.instanceCall("remove the instance \(id)")
    }
}

/// What the executor asks of a runtime that rolls out whole services.
public struct ServiceRequest: Sendable, Hashable {
    public var project: String
    /// The spec to run (its revision, image, update policy, health check, …).
    public var spec: ServiceSpec
    public var replicas: Int
    /// The commit the instances are labelled with.
    public var commit: String?
    /// Why: the plan step (`create`, `update`, `scale` or `heal`: converge as it is).
    public var action: PlanStep.Action
    /// The runtime has until then to converge (the spec's `progressDeadline` from the start).
    public var deadline: ContinuousClock.Instant

    public init(
        project: String, spec: ServiceSpec, replicas: Int, commit: String?, action: PlanStep.Action,
        deadline: ContinuousClock.Instant
    ) {
        self.project = project
        self.spec = spec
        self.replicas = replicas
        self.commit = commit
        self.action = action
        self.deadline = deadline
    }
}

/// How a whole-service change ended, as the runtime judged it. Only `converged` is success.
public enum ServiceOutcome: Sendable, Hashable {
    /// Every wanted replica runs the revision (and is healthy, where it has a check).
    case converged
    /// The change failed and the runtime restored the previous revision: why.
    case rolledBack(String)
    /// The change failed and the runtime left it as it stood: why.
    case paused(String)
    /// The change failed (nothing was restored): why.
    case failed(String)
    /// The deadline passed before it converged: the last progress seen.
    case timedOut(String)
}

public enum ServiceRuntimeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A runtime that rolls out whole services was asked to act on one instance.
    case instanceCall(String)

    public var description: String {
        switch self {
        case .instanceCall(let what):
            "this runtime rolls out whole services and was asked to \(what); that is a bug in Berth's executor, please report it"
        }
    }
}
