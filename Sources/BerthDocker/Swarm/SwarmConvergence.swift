public import BerthCore

/// Where one Swarm service stands against what Berth asked of it (a revision and a replica
/// count), judged from the service, its tasks and the nodes alone. Pure, so each verdict is
/// tested on engine JSON without a cluster.
public enum SwarmConvergence: Sendable, Hashable, CustomStringConvertible {
    /// Every wanted task runs the wanted revision (and passed its health check), no task of
    /// another revision is left, and Swarm's own update is over.
    case converged
    /// Still on its way: the sentence says what it waits for.
    case progressing(String)
    /// It will not get there by itself: Swarm rolled the update back or paused it, or the
    /// new revision's tasks keep failing. The sentence gives the reason (task error, exit code).
    case failed(String)

    public var description: String {
        switch self {
        case .converged: "converged"
        case .progressing(let why): "progressing: \(why)"
        case .failed(let why): "failed: \(why)"
        }
    }

    /// How many tasks of the wanted revision may fail (end by themselves) before Berth calls
    /// the service failing rather than progressing. Swarm itself never gives up on a service
    /// it creates: a broken image is restarted for ever.
    public static let failureLimit = 3

    public static func judge(
        service: Engine.SwarmService, tasks: [Engine.SwarmTask], nodes: [Engine.SwarmNode], revision: Revision,
        replicas: Int
    ) -> SwarmConvergence {
        let name = service.Spec.Labels?[BerthLabel.service] ?? service.Spec.Name
        let readyNodes = Set(nodes.filter { $0.Status.State == "ready" }.map(\.ID))
        let mine = tasks.filter { $0.ServiceID == service.ID }
        func revisionOf(_ task: Engine.SwarmTask) -> String { task.Spec.ContainerSpec.Labels?[BerthLabel.revision] ?? "" }
        let failures = mine.filter {
            revisionOf($0) == revision.id && $0.DesiredState != "running"
                && SwarmObservation.failedStates.contains($0.Status.State)
        }.sorted { ($0.Status.Timestamp ?? "") > ($1.Status.Timestamp ?? "") }
        let lastFailure = failures.first.map { "; last failed task: \(SwarmObservation.reason($0))" } ?? ""

        let state = service.UpdateStatus?.State
        let message = service.UpdateStatus?.Message.map { ": \($0)" } ?? ""
        // A Swarm rollback puts the previous spec back: the service no longer carries the
        // wanted revision. That is the rollback of an update to it, whatever the status says
        // by now; when the wanted revision is the one rolled back *to*, the rollback is
        // simply progress towards it.
        if let current = service.Spec.Labels?[BerthLabel.revision], current != revision.id {
            if let state, state.hasPrefix("rollback_") {
                return .failed("Swarm rolled back the update of \(name)\(message)\(lastFailure)")
            }
            return .failed("\(name) runs revision \(current), not \(revision.id)\(lastFailure)")
        }
        switch state {
        case "paused": return .failed("Swarm paused the update of \(name)\(message)\(lastFailure)")
        case "rollback_paused": return .failed("Swarm paused the rollback of \(name)\(message)\(lastFailure)")
        default: break
        }
        if failures.count >= failureLimit {
            return .failed("\(name): \(failures.count) tasks of revision \(revision.id) failed\(lastFailure)")
        }

        let wanted = mine.filter { $0.DesiredState == "running" }
        let ready = wanted.filter {
            revisionOf($0) == revision.id && $0.Status.State == "running" && readyNodes.contains($0.NodeID ?? "")
        }
        let old = wanted.filter { revisionOf($0) != revision.id }.count
        let updating = state == "updating" || state == "rollback_started"
        if ready.count == replicas && wanted.count == replicas && old == 0 && !updating {
            return .converged
        }
        var waits = ["\(ready.count) of \(replicas) tasks of revision \(revision.id) running"]
        if old > 0 { waits.append("\(old) of an older revision still running") }
        if wanted.count > replicas { waits.append("\(wanted.count - replicas) more being stopped") }
        if updating && ready.count == replicas && old == 0 { waits.append("Swarm is still watching the update") }
        return .progressing(waits.joined(separator: ", ") + lastFailure)
    }
}
