import BerthNet
import NIOHTTP1

extension DockerClient {
    /// Creates a named volume (the local driver). Creating one that exists returns it as is.
    public func createVolume(name: String, labels: [String: String]) async throws -> Engine.Volume {
        let response = try await call(
            .POST, "/volumes/create", body: Self.encode(Engine.VolumeCreate(Name: name, Labels: labels)),
            doing: "creating volume \(name)")
        return try Self.decode(response.body, doing: "creating volume \(name)")
    }

    public func inspectVolume(_ name: String) async throws -> Engine.Volume {
        let response = try await call(.GET, "/volumes/\(name)", doing: "inspecting volume \(name)")
        return try Self.decode(response.body, doing: "inspecting volume \(name)")
    }

    /// The volumes carrying all of `labels`, sorted by name.
    public func listVolumes(labels: [String: String]) async throws -> [Engine.Volume] {
        let response = try await call(.GET, "/volumes", query: [("filters", Self.labelFilters(labels))], doing: "listing volumes")
        let list: Engine.VolumeList = try Self.decode(response.body, doing: "listing volumes")
        return (list.Volumes ?? []).sorted { $0.Name < $1.Name }
    }

    /// Removes a volume; one in use by a container is a `.conflict`.
    public func removeVolume(_ name: String) async throws {
        try await call(.DELETE, "/volumes/\(name)", doing: "removing volume \(name)")
    }
}
