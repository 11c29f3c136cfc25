import BerthCore

/// Named volumes of a project: `<project>_<name>` (as Docker Compose names them), labelled
/// `berth.project` and `berth.volume`, created when an instance that mounts one is started
/// and never removed by Berth unless a prune is given the volume's name
/// (`--delete-volumes NAME`).
extension DockerRuntime {
    /// Makes every named volume of `spec` exist (idempotent: creating one that exists
    /// returns it).
    func ensureVolumes(project: String, spec: ServiceSpec) async throws {
        for name in Set(spec.container.volumes.compactMap(\.volumeName)).sorted() {
            _ = try await client.createVolume(
                name: BerthNaming.volume(project: project, name: name),
                labels: [BerthLabel.project: project, BerthLabel.volume: name])
        }
    }

    /// The project's named volumes, by their manifest name, sorted.
    public func volumes(project: String) async throws -> [String] {
        try await client.listVolumes(labels: [BerthLabel.project: project]).compactMap { $0.Labels?[BerthLabel.volume] }.sorted()
    }

    /// Removes the project's volume `name` (its data is lost). A volume still mounted by a
    /// container is refused by the engine (`.conflict`); one that is gone is no error.
    public func removeVolume(project: String, name: String) async throws {
        do {
            try await client.removeVolume(BerthNaming.volume(project: project, name: name))
        } catch let error as DockerError where error.code == .notFound {}
    }
}

extension BerthNaming {
    /// A project's named volume: `<project>_<name>`.
    public static func volume(project: String, name: String) -> String { "\(project)_\(name)" }
}
