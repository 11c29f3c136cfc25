import Foundation
import BerthNet
import NIOHTTP1

/// The Swarm mode calls of the Engine API (1.41): services with their version index, tasks,
/// nodes, overlay networks and the swarm section of `/info`. Service, task and node calls
/// only work on a manager; `swarmInfo()` says whether this engine is one.
extension DockerClient {
    // MARK: - Swarm

    /// The swarm section of `GET /info`: whether this engine is in a swarm, and a manager.
    public func swarmInfo() async throws -> Engine.SwarmInfo {
        let response = try await call(.GET, "/info", doing: "asking the Docker daemon at \(endpoint) for its swarm state")
        let info: Engine.Info = try Self.decode(response.body, doing: "reading the engine's swarm state")
        return info.Swarm ?? Engine.SwarmInfo()
    }

    // MARK: - Services

    /// Creates a service; returns its ID. Nothing asks a registry: tasks use the image as
    /// the nodes have it.
    public func createService(_ spec: Engine.SwarmServiceSpec) async throws -> String {
        let doing = "creating Swarm service \(spec.Name)"
        let response = try await call(.POST, "/services/create", body: Self.encode(spec), doing: doing)
        let created: Engine.ServiceCreateResponse = try Self.decode(response.body, doing: doing)
        return created.ID
    }

    /// The service with this name or ID; `DockerError.notFound` when there is none.
    public func inspectService(_ nameOrID: String) async throws -> Engine.SwarmService {
        let doing = "inspecting Swarm service \(nameOrID)"
        let response = try await call(.GET, "/services/\(percentEncode(nameOrID))", doing: doing)
        return try Self.decode(response.body, doing: doing)
    }

    /// Services carrying all of `labels`, with their running and desired task counts.
    public func listServices(labels: [String: String]) async throws -> [Engine.SwarmService] {
        let doing = "listing Swarm services labelled \(Self.describe(labels))"
        let response = try await call(
            .GET, "/services", query: [("filters", Self.labelFilters(labels)), ("status", "true")], doing: doing)
        return try Self.decode(response.body, doing: doing)
    }

    /// Replaces the spec of service `id` at `version` (the index it was read at: the engine
    /// refuses an update based on a stale read with `.engine`/"update out of sequence").
    /// With `rollback`, the engine goes back to the previous spec instead (`spec` is sent as
    /// read). Returns the engine's warnings.
    @discardableResult
    public func updateService(
        _ id: String, version: UInt64, spec: Engine.SwarmServiceSpec, rollback: Bool = false
    ) async throws -> [String] {
        var query = [("version", "\(version)")]
        if rollback { query.append(("rollback", "previous")) }
        let doing = rollback ? "rolling back Swarm service \(spec.Name)" : "updating Swarm service \(spec.Name)"
        let response = try await call(
            .POST, "/services/\(percentEncode(id))/update", query: query, body: Self.encode(spec), doing: doing)
        let answer: Engine.ServiceUpdateResponse = try Self.decode(response.body, doing: doing)
        return answer.Warnings ?? []
    }

    /// Removes a service; Swarm then stops its tasks (with their stop grace period).
    public func removeService(_ nameOrID: String) async throws {
        try await call(.DELETE, "/services/\(percentEncode(nameOrID))", doing: "removing Swarm service \(nameOrID)")
    }

    // MARK: - Tasks

    /// Tasks matching every filter given: by service (name or ID), by the labels of their
    /// *service* (the engine matches service labels, not container labels), by desired
    /// state (`running`, `shutdown`, `accepted`). Includes the history Swarm keeps (5 per
    /// slot by default) unless filtered by desired state.
    public func listTasks(
        service: String? = nil, labels: [String: String] = [:], desiredState: String? = nil
    ) async throws -> [Engine.SwarmTask] {
        var extra: [String: [String]] = [:]
        if let service { extra["service"] = [service] }
        if let desiredState { extra["desired-state"] = [desiredState] }
        let doing = "listing Swarm tasks" + (service.map { " of service \($0)" } ?? "")
        let response = try await call(
            .GET, "/tasks", query: [("filters", Self.labelFilters(labels, extra: extra))], doing: doing)
        return try Self.decode(response.body, doing: doing)
    }

    /// One task, with its spec (the container's env and labels); `DockerError.notFound` once
    /// Swarm forgot it.
    public func inspectTask(_ id: String) async throws -> Engine.SwarmTask {
        let doing = "inspecting Swarm task \(id)"
        let response = try await call(.GET, "/tasks/\(percentEncode(id))", doing: doing)
        return try Self.decode(response.body, doing: doing)
    }

    // MARK: - Nodes

    /// Every node of the swarm, as the managers see it.
    public func listNodes() async throws -> [Engine.SwarmNode] {
        let doing = "listing Swarm nodes"
        let response = try await call(.GET, "/nodes", doing: doing)
        return try Self.decode(response.body, doing: doing)
    }

    public func inspectNode(_ nameOrID: String) async throws -> Engine.SwarmNode {
        let doing = "inspecting Swarm node \(nameOrID)"
        let response = try await call(.GET, "/nodes/\(percentEncode(nameOrID))", doing: doing)
        return try Self.decode(response.body, doing: doing)
    }

    /// Sets a node's availability (`active`, `pause`, `drain`), keeping the rest of its spec.
    public func setNodeAvailability(_ nameOrID: String, _ availability: String) async throws {
        let node = try await inspectNode(nameOrID)
        var spec = node.Spec
        spec.Availability = availability
        try await call(
            .POST, "/nodes/\(percentEncode(node.ID))/update", query: [("version", "\(node.Version.Index)")],
            body: Self.encode(spec), doing: "setting Swarm node \(nameOrID) to \(availability)")
    }

    // MARK: - Networks

    /// Creates an attachable overlay network (swarm scope); returns its ID.
    public func createOverlayNetwork(name: String, labels: [String: String]) async throws -> String {
        let body = Engine.OverlayNetworkCreate(
            Name: name, Driver: "overlay", Attachable: true, CheckDuplicate: true, Labels: labels)
        let doing = "creating overlay network \(name)"
        let response = try await call(.POST, "/networks/create", body: Self.encode(body), doing: doing)
        let created: Engine.IDResponse = try Self.decode(response.body, doing: doing)
        return created.Id
    }

    // MARK: - Helpers

    static func describe(_ labels: [String: String]) -> String {
        labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }
}
