public import BerthCore
import Foundation
public import Logging

/// `EndpointSource` over a Docker Swarm, from a manager's services, tasks and nodes alone:
/// a running task is reached at its node's address (`Status.Addr`), each container port at
/// the host-mode port the task published for it; so `berth proxy` on any machine that
/// reaches the nodes balances over every node's tasks. The instance id is the task's id, as
/// in observed state.
///
/// Swarm 20.10 reports no task events, so changes come from polling (every 250 ms) and
/// comparing: a task that runs now and did not → `.started`; one that ran and now is
/// wanted `shutdown` (Swarm takes a task out of its DNS 2 s before it sends SIGTERM, so the
/// poll sees it first) or ended → `.stopping`; one gone from Swarm's history → `.removed`.
/// A task on a node that went down is `.stopping` once Swarm notices; until then the
/// balancer's own probes take it out of rotation.
public struct SwarmEndpointSource: EndpointSource {
    public let client: DockerClient
    public var logger: Logger
    /// How often `endpointChanges` polls.
    public var interval: Duration = .milliseconds(250)

    public init(client: DockerClient, logger: Logger = Logger(label: "berth.swarm.endpoints")) {
        self.client = client
        self.logger = logger
    }

    public func endpoints(project: String) async throws -> EndpointSnapshot {
        async let services = client.listServices(labels: [BerthLabel.project: project])
        async let tasks = client.listTasks(labels: [BerthLabel.project: project])
        async let nodes = client.listNodes()
        return Self.snapshot(services: try await services, tasks: try await tasks, nodes: try await nodes)
    }

    public func endpoint(project: String, instanceID: String) async throws -> ServiceEndpoint? {
        try await endpoints(project: project).running.first { $0.instanceID == instanceID }
    }

    public func endpointChanges(project: String) async throws -> AsyncThrowingStream<EndpointChange, any Error> {
        var previous = try await endpoints(project: project)
        let (stream, continuation) = AsyncThrowingStream<EndpointChange, any Error>.makeStream()
        let interval = self.interval
        let task = Task {
            do {
                while !Task.isCancelled {
                    try await Task.sleep(for: interval)
                    let now = try await endpoints(project: project)
                    for change in Self.changes(from: previous, to: now) { continuation.yield(change) }
                    previous = now
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// The changes between two snapshots, in a fixed order (removed, stopping, started;
    /// each by instance id).
    public static func changes(from old: EndpointSnapshot, to new: EndpointSnapshot) -> [EndpointChange] {
        let oldRunning = Set(old.running.map(\.instanceID))
        let newRunning = Dictionary(new.running.map { ($0.instanceID, $0) }, uniquingKeysWith: { a, _ in a })
        let newStopped = Set(new.stopped)
        let known = oldRunning.union(old.stopped)
        var out: [EndpointChange] = []
        for id in known.sorted() where newRunning[id] == nil && !newStopped.contains(id) {
            out.append(.removed(instanceID: id))
        }
        for id in oldRunning.sorted() where newRunning[id] == nil && newStopped.contains(id) {
            out.append(.stopping(instanceID: id))
        }
        for (id, endpoint) in newRunning.sorted(by: { $0.key < $1.key }) where !oldRunning.contains(id) {
            out.append(.started(endpoint))
        }
        return out
    }

    /// The project's tasks as the balancer reaches them. Running: wanted running, running,
    /// on a ready node, with a host port for every container port of its spec. Stopped:
    /// every other task Swarm still lists.
    public static func snapshot(
        services: [Engine.SwarmService], tasks: [Engine.SwarmTask], nodes: [Engine.SwarmNode]
    ) -> EndpointSnapshot {
        let servicesByID = Dictionary(services.map { ($0.ID, $0) }, uniquingKeysWith: { a, _ in a })
        let nodesByID = Dictionary(nodes.map { ($0.ID, $0) }, uniquingKeysWith: { a, _ in a })
        var running: [ServiceEndpoint] = []
        var stopped: [String] = []
        for task in tasks {
            guard let service = servicesByID[task.ServiceID] else { continue }
            let node = task.NodeID.flatMap { nodesByID[$0] }
            if task.DesiredState == "running", task.Status.State == "running", node?.Status.State == "ready",
                let endpoint = endpoint(task, service: service, node: node)
            {
                running.append(endpoint)
            } else {
                stopped.append(task.ID)
            }
        }
        return EndpointSnapshot(running: running, stopped: stopped)
    }

    /// One running task as an endpoint; nil when it is not Berth's, or its node has no
    /// address, or a container port of its spec has no published host port.
    static func endpoint(_ task: Engine.SwarmTask, service: Engine.SwarmService, node: Engine.SwarmNode?)
        -> ServiceEndpoint?
    {
        let revision = task.Spec.ContainerSpec.Labels?[BerthLabel.revision]
        // The labels of the spec this task was started from: during an update an old task
        // belongs to the previous spec.
        let labels =
            service.PreviousSpec?.Labels.flatMap { $0[BerthLabel.revision] == revision ? $0 : nil }
            ?? service.Spec.Labels ?? [:]
        guard let name = labels[BerthLabel.service], let host = node?.Status.Addr, !host.isEmpty else { return nil }
        let published = Dictionary(
            (task.Status.PortStatus?.Ports ?? []).compactMap { port in port.PublishedPort.map { (port.TargetPort, $0) } },
            uniquingKeysWith: { a, _ in a })
        let spec = BerthLabel.recordedSpec(labels)
        var ports: [EndpointPort] = []
        for port in spec?.ports ?? [] {
            guard let hostPort = published[port.containerPort] else { return nil }
            ports.append(EndpointPort(containerPort: port.containerPort, publish: port.publish, port: hostPort))
        }
        // The health check's port, when no traffic port is it (published for the probes).
        let check = BerthLabel.healthCheck(labels)
        if let probe = check.flatMap({ SwarmServiceMapping.probePort($0.probe) }),
            !ports.contains(where: { $0.containerPort == probe })
        {
            guard let hostPort = published[probe] else { return nil }
            ports.append(EndpointPort(containerPort: probe, publish: nil, port: hostPort))
        }
        let grace = labels[BerthLabel.stopGrace].flatMap(Int64.init).map(Millis.init) ?? spec?.stopGracePeriod ?? .seconds(10)
        return ServiceEndpoint(
            instanceID: task.ID, service: name, revision: revision.map(Revision.init),
            node: node?.Description?.Hostname, host: host, ports: ports, health: probed(check),
            stopGracePeriod: grace)
    }
}

extension SwarmEndpointSource {
    /// The check `berth proxy` runs itself: `http` and `tcp` (through the task's published
    /// port). An `exec` check is Swarm's alone (it runs in the container, and a task only
    /// reports `running` once it passed; one that fails later is stopped by Swarm): the
    /// proxy cannot exec on another node, so it trusts the task's state instead.
    static func probed(_ check: HealthCheck?) -> HealthCheck? {
        guard let check, SwarmServiceMapping.probePort(check.probe) != nil else { return nil }
        return check
    }
}

extension SwarmRuntime {
    /// The project's tasks as the balancer reaches them (see `SwarmEndpointSource`).
    public var endpointSource: SwarmEndpointSource { SwarmEndpointSource(client: client, logger: logger) }
}
