public import BerthCore

/// Observed state rebuilt from Swarm's services, tasks and nodes alone (pure: the engine's
/// answers in, values out), so Berth can crash at any moment and start again on any machine
/// that reaches a manager.
///
/// - A Berth service is a Swarm service labelled `berth.project=<project>` and
///   `berth.service`; others (a stack's own services) are left alone.
/// - Its instances are its tasks whose desired state is `running`; a task's revision and
///   commit are its own container labels, so during a rollout old and new tasks differ.
/// - Task state → instance state: `running` is running (Swarm only reports `running` once
///   the container's health check passed, when it has one); `new` … `starting` are
///   starting; `complete`, `failed`, `rejected`, `shutdown`, `orphaned`, `remove` are exited,
///   with the container's exit code. A task whose node is down is exited (Swarm replaces it
///   on another node once it notices).
/// - Restarts: the ended tasks of the same slot in Swarm's history (5 per slot by default)
///   that ended by themselves (`failed`, `complete`, `rejected`), not those Swarm shut down
///   for an update or a scale-down.
/// - Every instance carries its node's hostname.
public enum SwarmObservation {
    /// The Swarm task states in which a task has not run yet.
    static let pendingStates: Set<String> = [
        "new", "allocated", "pending", "assigned", "accepted", "preparing", "ready", "starting",
    ]
    /// Ended by itself (not shut down by Swarm): counts as a restart of its slot.
    static let failedStates: Set<String> = ["failed", "complete", "rejected"]
    /// Over: the task's container is gone or never ran.
    static let endedStates: Set<String> = ["complete", "failed", "rejected", "shutdown", "orphaned", "remove"]

    public static func observedState(
        project: String, services: [Engine.SwarmService], tasks: [Engine.SwarmTask], nodes: [Engine.SwarmNode]
    ) -> ObservedState {
        let nodesByID = Dictionary(nodes.map { ($0.ID, $0) }, uniquingKeysWith: { a, _ in a })
        var tasksByService: [String: [Engine.SwarmTask]] = [:]
        for task in tasks { tasksByService[task.ServiceID, default: []].append(task) }

        var observed: [ObservedService] = []
        for service in services {
            let labels = service.Spec.Labels ?? [:]
            guard labels[BerthLabel.project] == project, let name = labels[BerthLabel.service] else { continue }
            let serviceRevision = labels[BerthLabel.revision] ?? ""
            let all = tasksByService[service.ID] ?? []
            var endedBySlot: [Int: Int] = [:]
            for task in all where task.DesiredState != "running" && failedStates.contains(task.Status.State) {
                endedBySlot[task.Slot ?? 0, default: 0] += 1
            }
            let instances = all.filter { $0.DesiredState == "running" }.map { task in
                instance(
                    task, service: name, fallbackRevision: serviceRevision, node: task.NodeID.flatMap { nodesByID[$0] },
                    restarts: endedBySlot[task.Slot ?? 0] ?? 0)
            }
            observed.append(
                ObservedService(
                    name: name, instances: instances.sorted { $0.id < $1.id },
                    dependsOn: BerthLabel.dependencies(labels)))
        }
        return ObservedState(project: project, services: observed.sorted { $0.name < $1.name })
    }

    static func instance(
        _ task: Engine.SwarmTask, service: String, fallbackRevision: String, node: Engine.SwarmNode?, restarts: Int
    ) -> Instance {
        let labels = task.Spec.ContainerSpec.Labels ?? [:]
        let nodeDown = node.map { $0.Status.State != "ready" } ?? false
        let state: Instance.State
        var exitCode: Int? = nil
        switch task.Status.State {
        case "running" where !nodeDown: state = .running
        case let s where pendingStates.contains(s) && !nodeDown: state = .starting
        default:
            state = .exited
            exitCode = task.Status.ContainerStatus?.ExitCode
        }
        var instance = Instance(
            id: task.ID, service: service, revision: Revision(labels[BerthLabel.revision] ?? fallbackRevision),
            commit: labels[BerthLabel.commit].flatMap { $0.isEmpty ? nil : $0 },
            image: task.Spec.ContainerSpec.Image, state: state, exitCode: exitCode, restartCount: restarts,
            created: task.CreatedAt.map(DockerRuntime.trimmedTimestamp))
        instance.node = node?.Description?.Hostname ?? task.NodeID
        return instance
    }

    /// Why a task is not running, for people: the engine's error ("task: non-zero exit
    /// (137)", "starting container failed: …"), else its state with the exit code and the
    /// engine's message ("task complete with exit code 0 (finished)": Swarm stopped it, as
    /// it does a task whose health check fails).
    public static func reason(_ task: Engine.SwarmTask) -> String {
        if let err = task.Status.Err, !err.isEmpty { return err }
        var text = "task \(task.Status.State)"
        if !pendingStates.contains(task.Status.State), task.Status.State != "running",
            let code = task.Status.ContainerStatus?.ExitCode
        {
            text += " with exit code \(code)"
        }
        if let message = task.Status.Message, !message.isEmpty { text += " (\(message))" }
        return text
    }
}
