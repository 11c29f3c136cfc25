import BerthCore
import BerthDocker
import Foundation

/// `berth apply --delete-volume NAME`: the one way a named volume of the project (and all
/// its data) is deleted. A prune never deletes one: a service removed from git leaves its
/// volumes, and apply says which volumes no service uses any more. Each name is checked
/// before anything is asked or changed: it must be a volume of the project, and no service
/// of the desired state may mount it. The deletion is shown with the plan (in red on a
/// terminal), confirmed with it, and done after the plan's steps succeeded.
struct VolumeDeletion {
    let project: String
    /// Sorted, each once.
    let names: [String]

    /// The volumes of the project that no service of `desired` mounts, sorted.
    static func unused(project: String, desired: DesiredState, runtime: DockerRuntime) async throws -> [String] {
        let used = Set(desired.services.values.flatMap { $0.container.volumes.compactMap(\.volumeName) })
        return try await runtime.volumes(project: project).filter { !used.contains($0) }
    }

    static func check(_ requested: [String], project: String, desired: DesiredState, runtime: DockerRuntime) async throws -> VolumeDeletion {
        let names = Array(Set(requested)).sorted()
        let existing = try await runtime.volumes(project: project)
        for name in names {
            guard existing.contains(name) else {
                let list = existing.isEmpty ? "it has none" : "its volumes: \(existing.joined(separator: ", "))"
                throw CommandFailure("error: --delete-volume \(name): project \(project) has no volume \(name) (\(list)); nothing was changed")
            }
            let users = desired.sortedServices.filter { $0.container.volumes.contains { $0.volumeName == name } }.map(\.name)
            guard users.isEmpty else {
                throw CommandFailure(
                    "error: --delete-volume \(name): service\(users.count == 1 ? "" : "s") \(users.joined(separator: ", ")) of the desired state mount\(users.count == 1 ? "s" : "") it; remove it from their volumes and commit first; nothing was changed")
            }
        }
        return VolumeDeletion(project: project, names: names)
    }

    /// The plan's lines: `- volume data (shop_data): deleted with all its data`.
    func lines(colour: Bool) -> [String] {
        names.map { name in
            let text = "- volume \(name) (\(BerthNaming.volume(project: project, name: name))): deleted with all its data (--delete-volume)"
            return colour ? Colour.paint(text, Colour.red) : text
        }
    }

    func run(_ runtime: DockerRuntime) async throws {
        for name in names {
            do {
                try await runtime.removeVolume(project: project, name: name)
            } catch {
                throw CommandFailure("error: could not delete volume \(name) (\(BerthNaming.volume(project: project, name: name))): \(error)")
            }
            printError("volume \(name) deleted")
        }
    }
}
