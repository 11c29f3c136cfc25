/// What Berth needs from a container engine. BerthDocker implements it over the Docker
/// Engine API; BerthTestSupport has a deterministic in-memory double. Draft: add
/// requirements as the executor needs them, keep every one value-typed and Sendable.
///
/// The executor's unit of work is one instance: `prepare` once per project, then for each
/// new replica `startInstance` → `waitHealthy` (until a deadline), and for each old one
/// `removeInstance` with the service's `stopGracePeriod`. `observe` and `events` tell it
/// what runs without keeping any state of its own.
public protocol ContainerRuntime: Sendable {
    /// Everything this project runs, rebuilt from labels alone.
    func observe(project: String) async throws -> ObservedState

    /// Creates and starts one instance of `spec` (labelled with project, service, revision
    /// and commit) and returns it as observed right after start.
    func startInstance(_ request: InstanceRequest) async throws -> Instance

    /// Stops (SIGTERM, then SIGKILL after `grace`) and removes an instance.
    func removeInstance(id: String, grace: Millis) async throws

    /// Makes what every instance of the project shares (Docker: the project network).
    /// Idempotent; `startInstance` may call it itself.
    func prepare(project: String) async throws

    /// Removes what an interrupted run left half-made (Docker: containers created but never
    /// started) and returns their ids. Call once an apply is confirmed, before starting
    /// anything. Recently created ones (Docker: under 10 s) are left alone, since another
    /// process (a running watch) may be between their create and their start.
    func sweep(project: String) async throws -> [String]

    /// Probes `instance` with `check` (interval, timeout, startPeriod, failureThreshold)
    /// until it passes, fails `failureThreshold` times in a row after the start period,
    /// exits, or `deadline` passes. With no check, an instance is healthy once it runs.
    func waitHealthy(_ instance: Instance, check: HealthCheck?, deadline: ContinuousClock.Instant)
        async throws -> HealthOutcome

    /// Where Berth (its probes, its load balancer) reaches the instance: a host name or IP
    /// address, to be combined with a container port. Nil when it has none (not running).
    func address(instanceID: String) async throws -> String?

    /// The project's instance lifecycle events, as they happen, until the task that
    /// iterates is cancelled.
    func events(project: String) -> AsyncThrowingStream<RuntimeEvent, any Error>

    /// The spec an instance was started from, when the runtime recorded it (Docker: the
    /// `berth.spec` label), so a rollback can start the previous revision again after its
    /// manifest is gone from git. Nil when unknown or when the instance is gone.
    func recordedSpec(instanceID: String) async throws -> ServiceSpec?

    /// Makes sure the engine has `spec`'s image before any of its instances is started or
    /// any old one stopped: pulls it when the engine does not have it, or with `always`
    /// (a rollout under `pullPolicy: Always`). Progress lines go to `progress` as they come.
    /// Returns the image's digest (`repo@sha256:…`) when known. Throws the registry's own
    /// message ("manifest unknown", "unauthorized") when the pull fails.
    func prepareImage(_ spec: ServiceSpec, always: Bool, progress: @escaping @Sendable (String) -> Void) async throws -> String?
}

extension ContainerRuntime {
    public func prepare(project: String) async throws {}

    public func sweep(project: String) async throws -> [String] { [] }

    public func address(instanceID: String) async throws -> String? { nil }

    /// For runtimes without probes: healthy when the instance, as started, runs.
    public func waitHealthy(_ instance: Instance, check: HealthCheck?, deadline: ContinuousClock.Instant)
        async throws -> HealthOutcome
    {
        switch instance.state {
        case .running: .healthy
        case .exited: .exited(code: instance.exitCode)
        case .starting, .unhealthy: .timedOut(lastFailure: nil)
        }
    }

    public func events(project: String) -> AsyncThrowingStream<RuntimeEvent, any Error> {
        AsyncThrowingStream { $0.finish() }
    }

    public func recordedSpec(instanceID: String) async throws -> ServiceSpec? { nil }

    public func prepareImage(_ spec: ServiceSpec, always: Bool, progress: @escaping @Sendable (String) -> Void) async throws -> String? {
        nil
    }
}

public struct InstanceRequest: Sendable, Hashable {
    public var project: String
    public var spec: ServiceSpec
    public var commit: String?
    /// The decrypted values of the secrets `spec` uses (env and files); never recorded.
    public var secrets: SecretValues
    /// The digest of `spec.image` as `prepareImage` found it, when it was asked: the
    /// runtime records it without asking the engine again (one call less per start).
    public var imageDigest: String?
    public init(
        project: String, spec: ServiceSpec, commit: String?, secrets: SecretValues = .none, imageDigest: String? = nil
    ) {
        self.project = project
        self.spec = spec
        self.commit = commit
        self.secrets = secrets
        self.imageDigest = imageDigest
    }
}

/// How waiting for an instance to become healthy ended.
public enum HealthOutcome: Sendable, Hashable, CustomStringConvertible {
    case healthy
    /// `failureThreshold` probes in a row failed after the start period.
    case unhealthy(lastFailure: String)
    /// The container stopped before it became healthy.
    case exited(code: Int?)
    /// The deadline passed before the instance became healthy.
    case timedOut(lastFailure: String?)

    public var isHealthy: Bool { self == .healthy }

    public var description: String {
        switch self {
        case .healthy: "healthy"
        case .unhealthy(let failure): "unhealthy: \(failure)"
        case .exited(let code?): "exited with code \(code) before it became healthy"
        case .exited(nil): "gone before it became healthy"
        case .timedOut(let failure?): "not healthy before the deadline; last probe: \(failure)"
        case .timedOut(nil): "not healthy before the deadline"
        }
    }
}

/// One change to an instance, as the runtime reports it.
public struct RuntimeEvent: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case created, started, died(exitCode: Int?), killed(signal: String?), stopped, destroyed
        /// Any other engine action, by its engine name.
        case other(String)
    }
    public var kind: Kind
    public var instanceID: String
    public var service: String?
    public var revision: Revision?
    /// Engine time in nanoseconds since 1970; informative only.
    public var timeNano: Int64?

    public init(kind: Kind, instanceID: String, service: String?, revision: Revision?, timeNano: Int64? = nil) {
        self.kind = kind
        self.instanceID = instanceID
        self.service = service
        self.revision = revision
        self.timeNano = timeNano
    }
}
