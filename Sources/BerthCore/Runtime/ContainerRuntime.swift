/// What Berth needs from a container engine. BerthDocker implements it over the Docker
/// Engine API; BerthTestSupport has a deterministic in-memory double. Draft: add
/// requirements as the executor needs them, keep every one value-typed and Sendable.
public protocol ContainerRuntime: Sendable {
    /// Everything this project runs, rebuilt from labels alone.
    func observe(project: String) async throws -> ObservedState

    /// Creates and starts one instance of `spec` (labelled with project, service, revision
    /// and commit) and returns it as observed right after start.
    func startInstance(_ request: InstanceRequest) async throws -> Instance

    /// Stops (SIGTERM, then SIGKILL after `grace`) and removes an instance.
    func removeInstance(id: String, grace: Millis) async throws
}

public struct InstanceRequest: Sendable, Hashable {
    public var project: String
    public var spec: ServiceSpec
    public var commit: String?
    public init(project: String, spec: ServiceSpec, commit: String?) {
        self.project = project
        self.spec = spec
        self.commit = commit
    }
}
