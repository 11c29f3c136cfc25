/// Which instances serve a project's services, and where the balancer reaches them: a
/// snapshot, then a stream of changes. The balancer (`berth proxy`) builds its endpoint
/// table from it and probes each endpoint itself with the endpoint's health check; this
/// port only says what runs where.
///
/// BerthDocker implements it over one Docker Engine (container labels, events, each
/// container's address on the project network, its container ports). A Swarm runtime
/// implements it over tasks: a task on another node is `host` = that node's address and
/// each port the one the task published in host mode. So an endpoint is always a host and
/// a port, never a container address that only one host can reach.
public protocol EndpointSource: Sendable {
    /// The project's instances now: the running ones with where they are reached, and the
    /// ids of those that exist but do not run (stopped, exited, never started).
    func endpoints(project: String) async throws -> EndpointSnapshot

    /// One instance of the project now, when it runs; nil when it does not run or is
    /// unknown. (The balancer asks when it is told about an instance it has not seen yet.)
    func endpoint(project: String, instanceID: String) async throws -> ServiceEndpoint?

    /// The project's changes from the moment this returns: the subscription is in place, so
    /// a snapshot taken after it misses nothing. The stream ends (or throws) when the
    /// runtime closes it; the consumer then subscribes again and takes a new snapshot.
    /// Cancelling the iterating task ends it.
    func endpointChanges(project: String) async throws -> AsyncThrowingStream<EndpointChange, any Error>

    /// Runs an `exec` health check's command inside the instance, for the balancer's
    /// probes. Runtimes that cannot (or run health checks themselves) keep the default,
    /// which throws `EndpointSourceError.execUnsupported`.
    func exec(instanceID: String, command: [String]) async throws -> CommandOutput
}

extension EndpointSource {
    public func exec(instanceID: String, command: [String]) async throws -> CommandOutput {
        throw EndpointSourceError.execUnsupported
    }
}

/// One running instance as the balancer reaches it.
public struct ServiceEndpoint: Sendable, Hashable {
    /// The instance id (Docker: the container id; Swarm: the task's container id).
    public var instanceID: String
    public var service: String
    public var revision: Revision?
    /// The node the instance runs on; nil on one Docker host.
    public var node: String?
    /// Host name or IP address where the instance's ports answer (Docker: the container's
    /// address on the project network; Swarm: the address of the task's node).
    public var host: String
    /// The instance's container ports as reached at `host`, sorted by container port.
    public var ports: [EndpointPort]
    /// Probed by the balancer; nil: ready as soon as it runs.
    public var health: HealthCheck?
    /// How long a stop waits before SIGKILL (the service's `stopGracePeriod`).
    public var stopGracePeriod: Millis

    public init(
        instanceID: String, service: String, revision: Revision? = nil, node: String? = nil, host: String,
        ports: [EndpointPort], health: HealthCheck? = nil, stopGracePeriod: Millis = .seconds(10)
    ) {
        self.instanceID = instanceID
        self.service = service
        self.revision = revision
        self.node = node
        self.host = host
        self.ports = ports.sorted { ($0.containerPort, $0.port) < ($1.containerPort, $1.port) }
        self.health = health
        self.stopGracePeriod = stopGracePeriod
    }

    /// Where `containerPort` answers at `host`: its `EndpointPort`'s port, else the same
    /// number (Docker reaches every container port at the container's address).
    public func port(reaching containerPort: Int) -> Int {
        ports.first { $0.containerPort == containerPort }?.port ?? containerPort
    }

    /// Published host port → port at `host`, for the ports the service publishes.
    public var publishedPorts: [Int: Int] {
        var out: [Int: Int] = [:]
        for p in ports { if let publish = p.publish { out[publish] = p.port } }
        return out
    }
}

/// One container port of an endpoint.
public struct EndpointPort: Sendable, Hashable {
    /// The port inside the container (`ports[].containerPort` of the spec).
    public var containerPort: Int
    /// The host port the service publishes it on, where the balancer listens; nil when the
    /// spec does not publish it.
    public var publish: Int?
    /// Where it answers at the endpoint's host: the container port itself on Docker, the
    /// host-mode port of the task on Swarm.
    public var port: Int

    public init(containerPort: Int, publish: Int? = nil, port: Int? = nil) {
        self.containerPort = containerPort
        self.publish = publish
        self.port = port ?? containerPort
    }
}

/// What runs now: `running` sorted by instance id, `stopped` sorted.
public struct EndpointSnapshot: Sendable, Hashable {
    public var running: [ServiceEndpoint]
    /// Instances that exist but do not run: no new connections; their open ones finish.
    public var stopped: [String]

    public init(running: [ServiceEndpoint], stopped: [String] = []) {
        self.running = running.sorted { $0.instanceID < $1.instanceID }
        self.stopped = stopped.sorted()
    }
}

/// One change the runtime reports.
public enum EndpointChange: Sendable, Hashable {
    /// The instance started: a new life (after a stop it is probed afresh). A late report
    /// of the life the consumer already follows changes nothing.
    case started(ServiceEndpoint)
    /// The runtime is stopping it, or it stopped (Docker: kill, stop, die): no new
    /// connections from this moment, before the instance has even handled SIGTERM.
    case stopping(instanceID: String)
    /// It is gone: forget it.
    case removed(instanceID: String)
}

/// What a command run in an instance printed and how it ended.
public struct CommandOutput: Sendable, Hashable {
    public var exitCode: Int
    public var stdout: String
    public var stderr: String

    public init(exitCode: Int, stdout: String = "", stderr: String = "") {
        self.exitCode = exitCode
        self.stdout = stdout
        self.stderr = stderr
    }
}

public enum EndpointSourceError: Error, Hashable, CustomStringConvertible {
    case execUnsupported

    public var description: String {
        switch self {
        case .execUnsupported: "this runtime cannot run exec health checks for the balancer"
        }
    }
}
