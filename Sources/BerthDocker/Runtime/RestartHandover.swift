public import BerthCore
import Logging

/// Who restarts a project's containers when their process exits, or when dockerd starts
/// again after a restart or a host reboot.
///
/// - `.berth` while a Berth process acts: containers are created with policy `no` (an
///   exit during a rollout's health wait must reach the executor, not be restarted behind
///   its back), and while `berth watch` runs it alone heals, with its crash-loop backoff.
/// - `.docker` when no Berth process stays with the project: `berth apply`, at its end,
///   gives each container the policy its `restart` asks for (`always` → `unless-stopped`,
///   `on-failure` → `on-failure`, `never` → `no`), so services come back after a crash, a
///   dockerd restart or a reboot with no Berth process running.
///
/// Watch takes the project's containers over when it starts and hands them back to Docker
/// when it stops (SIGTERM, SIGINT, a host shutting down); `berth apply` also hands back
/// whatever a watch killed with SIGKILL left with `no`. The two never act on one exit.
public enum RestartOwner: String, Sendable, Hashable {
    case docker
    case berth
}

extension DockerRuntime {
    /// The Engine restart policy of a container of a service whose `restart` is `policy`.
    static func enginePolicy(_ policy: RestartPolicy, owner: RestartOwner) -> Engine.RestartPolicy {
        guard owner == .docker else { return Engine.RestartPolicy(Name: "no") }
        switch policy {
        case .always: return Engine.RestartPolicy(Name: "unless-stopped")
        case .onFailure: return Engine.RestartPolicy(Name: "on-failure")
        case .never: return Engine.RestartPolicy(Name: "no")
        }
    }

    /// Sets the restart policy of every container of `project` for `owner` (each service's
    /// `restart` read from its `berth.spec` label; `always` when a container has none), and
    /// returns how many containers changed. A container removed meanwhile is skipped.
    @discardableResult
    public func handOverRestarts(project: String, to owner: RestartOwner) async throws -> Int {
        var changed = 0
        for container in try await client.listContainers(labels: [BerthLabel.project: project]) {
            let details: Engine.ContainerDetails
            do { details = try await client.inspectContainer(container.Id) } catch let error as DockerError where error.code == .notFound {
                continue
            }
            let labels = details.Config.Labels ?? [:]
            let restart = BerthLabel.recordedSpec(labels)?.restart ?? .always
            let wanted = Self.enginePolicy(restart, owner: owner)
            guard details.HostConfig?.RestartPolicy?.Name != wanted.Name else { continue }
            do {
                try await client.updateRestartPolicy(container.Id, wanted)
                changed += 1
            } catch let error as DockerError where error.code == .notFound {}
        }
        logger.debug(
            "restart policies handed over",
            metadata: ["berth.project": "\(project)", "berth.restarts": "\(owner.rawValue)", "berth.changed": "\(changed)"])
        return changed
    }
}
