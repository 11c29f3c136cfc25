import BerthNet
import NIOHTTP1

extension Engine {
    /// `POST /containers/{id}/update`: only the restart policy is ever changed.
    public struct ContainerUpdate: Sendable, Codable, Hashable {
        public var RestartPolicy: Engine.RestartPolicy
    }
}

extension DockerClient {
    /// Changes a container's restart policy in place (running or not).
    public func updateRestartPolicy(_ id: String, _ policy: Engine.RestartPolicy) async throws {
        try await call(
            .POST, "/containers/\(id)/update", body: Self.encode(Engine.ContainerUpdate(RestartPolicy: policy)),
            doing: "setting the restart policy of container \(id) to \(policy.Name)")
    }
}
