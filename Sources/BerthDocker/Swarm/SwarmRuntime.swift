import Foundation
public import BerthCore
public import Logging

/// Berth on a Docker Swarm, through one manager (`DOCKER_HOST`): each Berth service is one
/// Swarm service (`SwarmServiceMapping`), Swarm schedules, restarts, reschedules and rolls
/// out its tasks, and Berth keeps the plan, the order, the waiting and the verdict.
public struct SwarmRuntime: ServiceRuntime {
    public let client: DockerClient
    public var logger: Logger

    public init(client: DockerClient, logger: Logger = Logger(label: "berth.swarm")) {
        self.client = client
        self.logger = logger
    }

    /// Connects to the engine at `DOCKER_HOST` and checks that it is a Swarm manager: only a
    /// manager answers for services, tasks and nodes.
    public static func connect(
        environment: [String: String]? = nil, logger: Logger = Logger(label: "berth.swarm")
    ) async throws -> SwarmRuntime {
        let client = try await DockerClient.connect(environment: environment, logger: logger)
        let info = try await client.swarmInfo()
        switch (info.LocalNodeState ?? "inactive", info.ControlAvailable ?? false) {
        case ("active", true):
            return SwarmRuntime(client: client, logger: logger)
        case ("active", false):
            throw DockerError(
                .engine,
                "the Docker Engine at \(client.endpoint) is a Swarm worker; --runtime swarm needs a manager: set DOCKER_HOST to a manager's address (`docker node ls` on a manager lists them)")
        case ("inactive", _):
            throw DockerError(
                .engine,
                "the Docker Engine at \(client.endpoint) is not part of a Swarm; --runtime swarm needs a Swarm manager: set DOCKER_HOST to one, or run `docker swarm init` there, or use --runtime docker")
        case (let state, _):
            let error = info.Error.flatMap { $0.isEmpty ? nil : " (\($0))" } ?? ""
            throw DockerError(
                .engine,
                "the Docker Engine at \(client.endpoint) is in Swarm state \"\(state)\"\(error); --runtime swarm needs an active manager")
        }
    }

    // MARK: - Observe

    /// Everything the project runs, from services, tasks and nodes alone.
    public func observe(project: String) async throws -> ObservedState {
        async let services = client.listServices(labels: [BerthLabel.project: project])
        async let tasks = client.listTasks(labels: [BerthLabel.project: project])
        async let nodes = client.listNodes()
        return SwarmObservation.observedState(
            project: project, services: try await services, tasks: try await tasks, nodes: try await nodes)
    }

    /// The swarm's nodes, sorted by hostname.
    public func nodes() async throws -> [SwarmNodeStatus] {
        try await client.listNodes().map(SwarmNodeStatus.init).sorted { $0.hostname < $1.hostname }
    }

    // MARK: - Apply

    /// The project's attachable overlay network; created when missing. Idempotent.
    public func prepare(project: String) async throws {
        let name = SwarmNaming.network(project: project)
        let existing = try await client.listNetworks(labels: [BerthLabel.project: project])
        if existing.contains(where: { $0.Name == name }) { return }
        do {
            _ = try await client.createOverlayNetwork(name: name, labels: [BerthLabel.project: project])
        } catch let error as DockerError where error.code == .conflict {
            // Another Berth made it between our look and our create.
        }
    }

    /// The project's service of Berth name `name`, if any.
    func service(project: String, name: String) async throws -> Engine.SwarmService? {
        try await client.listServices(labels: [BerthLabel.project: project, BerthLabel.service: name]).first
    }
}

/// One Swarm node as `berth status` shows it.
public struct SwarmNodeStatus: Sendable, Hashable, Codable {
    public var id: String
    public var hostname: String
    /// `manager` or `worker`.
    public var role: String
    /// `ready`, `down`, `disconnected`, `unknown`.
    public var state: String
    /// `active`, `pause`, `drain`.
    public var availability: String
    public var address: String?
    public var leader: Bool

    public init(_ node: Engine.SwarmNode) {
        id = node.ID
        hostname = node.Description?.Hostname ?? node.ID
        role = node.Spec.Role ?? "worker"
        state = node.Status.State
        availability = node.Spec.Availability ?? "active"
        address = node.Status.Addr
        leader = node.ManagerStatus?.Leader ?? false
    }

    /// Ready and active: Swarm places tasks there.
    public var isSchedulable: Bool { state == "ready" && availability == "active" }

    /// Why Swarm places no task there, for people; nil when it does.
    public var warning: String? {
        if state != "ready" { return "node \(hostname) is \(state): its tasks are being replaced on other nodes" }
        switch availability {
        case "drain": return "node \(hostname) is drained: Swarm moves its tasks away"
        case "pause": return "node \(hostname) is paused: Swarm places no new task there"
        default: return nil
        }
    }
}
