public import BerthCore
import Foundation
public import Logging

/// `EndpointSource` over one Docker Engine, from the containers' labels alone: the service
/// (`berth.service`), the ports of the spec recorded in `berth.spec`, the health check
/// (`berth.health`) and stop grace (`berth.stop-grace-ms`); each container is reached at
/// its address on the project network, every container port at its own number.
///
/// Docker events map to changes: `start` → `.started` (inspected for its address), `kill`,
/// `stop`, `die` → `.stopping` (the moment the engine signals the container, before it has
/// even handled SIGTERM), `destroy` → `.removed`.
public struct DockerEndpointSource: EndpointSource {
    public let client: DockerClient
    public var logger: Logger

    public init(client: DockerClient, logger: Logger = Logger(label: "berth.docker.endpoints")) {
        self.client = client
        self.logger = logger
    }

    public func endpoints(project: String) async throws -> EndpointSnapshot {
        let network = BerthNaming.network(project: project)
        let containers = try await client.listContainers(labels: [BerthLabel.project: project])
        var running: [ServiceEndpoint] = []
        var stopped: [String] = []
        for container in containers {
            guard container.State == "running" else {
                stopped.append(container.Id)
                continue
            }
            let address = container.NetworkSettings?.Networks?[network]?.IPAddress
            if let endpoint = endpoint(id: container.Id, labels: container.Labels ?? [:], address: address, network: network) {
                running.append(endpoint)
            }
        }
        return EndpointSnapshot(running: running, stopped: stopped)
    }

    public func endpoint(project: String, instanceID: String) async throws -> ServiceEndpoint? {
        let details: Engine.ContainerDetails
        do {
            details = try await client.inspectContainer(instanceID)
        } catch let error as DockerError where error.code == .notFound {
            return nil
        }
        let labels = details.Config.Labels ?? [:]
        guard details.State.Running, labels[BerthLabel.project] == project else { return nil }
        let network = BerthNaming.network(project: project)
        return endpoint(id: details.Id, labels: labels, address: details.ipAddress(on: network), network: network)
    }

    public func endpointChanges(project: String) async throws -> AsyncThrowingStream<EndpointChange, any Error> {
        let events = try await client.events(labels: [BerthLabel.project: project])
        let (stream, continuation) = AsyncThrowingStream<EndpointChange, any Error>.makeStream()
        let task = Task {
            do {
                for try await event in events {
                    if let change = await change(for: event, project: project) { continuation.yield(change) }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    public func exec(instanceID: String, command: [String]) async throws -> CommandOutput {
        let result = try await client.exec(instanceID, command)
        return CommandOutput(exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr)
    }

    /// What one Docker event means for the balancer; nil when nothing (another action, or a
    /// `start` of a container that no longer runs).
    public func change(for event: Engine.Event, project: String) async -> EndpointChange? {
        let id = event.Actor.ID
        switch event.Action {
        case "start":
            do {
                guard let endpoint = try await endpoint(project: project, instanceID: id) else { return nil }
                return .started(endpoint)
            } catch {
                logger.warning("cannot inspect started container \(id.prefix(12)): \(error)")
                return nil
            }
        case "kill", "stop", "die": return .stopping(instanceID: id)
        case "destroy": return .removed(instanceID: id)
        default: return nil
        }
    }

    /// The endpoint of a running container; nil (with a warning) when it is not Berth's or
    /// has no address on the project network.
    func endpoint(id: String, labels: [String: String], address: String?, network: String) -> ServiceEndpoint? {
        guard let service = labels[BerthLabel.service] else { return nil }
        guard let address, !address.isEmpty else {
            logger.warning("container \(id.prefix(12)) of \(service) has no address on network \(network)")
            return nil
        }
        let spec = BerthLabel.recordedSpec(labels)
        let ports = (spec?.ports ?? []).map { EndpointPort(containerPort: $0.containerPort, publish: $0.publish) }
        let grace = labels[BerthLabel.stopGrace].flatMap(Int64.init).map(Millis.init) ?? spec?.stopGracePeriod ?? .seconds(10)
        return ServiceEndpoint(
            instanceID: id, service: service, revision: labels[BerthLabel.revision].map(Revision.init), host: address,
            ports: ports, health: BerthLabel.healthCheck(labels), stopGracePeriod: grace)
    }
}

extension DockerRuntime {
    /// The project's instances as the balancer reaches them (see `DockerEndpointSource`).
    public var endpointSource: DockerEndpointSource { DockerEndpointSource(client: client, logger: logger) }
}
