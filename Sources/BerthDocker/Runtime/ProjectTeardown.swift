public import BerthCore
import Foundation
import NIOHTTP1

/// What `berth down` removed, sorted.
public struct TeardownReport: Sendable, Hashable, Codable {
    /// `name (service)` of each container removed.
    public var containers: [String]
    public var networks: [String]
    public var volumes: [String]
    /// Named volumes of the project that were kept (no `--delete-volumes`).
    public var keptVolumes: [String]

    public init(containers: [String] = [], networks: [String] = [], volumes: [String] = [], keptVolumes: [String] = []) {
        self.containers = containers
        self.networks = networks
        self.volumes = volumes
        self.keptVolumes = keptVolumes
    }
}

/// `berth down`: every container of the project stopped as gently as its service asks
/// (SIGTERM, then SIGKILL after its `stopGracePeriod`, from its label) and removed, all at
/// once; then the project network; the project's named volumes only when asked.
extension DockerRuntime {
    public func takeDown(project: String, deleteVolumes: Bool) async throws -> TeardownReport {
        let containers = try await client.listContainers(labels: [BerthLabel.project: project])
        var removed: [String] = []
        try await withThrowingTaskGroup(of: String.self) { group in
            for container in containers {
                let labels = container.Labels ?? [:]
                let grace = labels[BerthLabel.stopGrace].flatMap(Int64.init).map(Millis.init) ?? .seconds(10)
                let name = (container.Names?.first ?? container.Id).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
                let service = labels[BerthLabel.service] ?? ObservedService.straysName
                group.addTask {
                    do {
                        try await self.removeInstance(id: container.Id, grace: grace)
                    } catch let e as DockerError where e.code == .notFound {}
                    return "\(name) (\(service))"
                }
            }
            for try await name in group { removed.append(name) }
        }
        let networkName = BerthNaming.network(project: project)
        let networks = try await client.listNetworks(labels: [BerthLabel.project: project]).filter { $0.Name == networkName }
        try await removeProjectNetworks(project)
        await verdicts.forgetNetwork(project: project)
        let volumes = try await client.listVolumes(labels: [BerthLabel.project: project]).map(\.Name)
        if deleteVolumes {
            for volume in volumes {
                do {
                    try await client.removeVolume(volume)
                } catch let error as DockerError where error.code == .notFound {}
            }
        }
        return TeardownReport(
            containers: removed.sorted(), networks: networks.isEmpty ? [] : [networkName],
            volumes: deleteVolumes ? volumes : [], keptVolumes: deleteVolumes ? [] : volumes)
    }
}
