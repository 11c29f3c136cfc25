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
    /// Swarm gave up on the update and is putting the previous spec back: why (the update
    /// status, the last failed task). Becomes `rolledBack` once the rollback is over.
    case rollingBack(String)
    /// Swarm rolled the update back to the previous spec, and the rollback is over: why.
    case rolledBack(String)
    /// Swarm paused the update (`onFailure: pause`) or the rollback (it failed too): why.
    case paused(String)
    /// It will not get there by itself: the wanted revision's tasks keep failing (Swarm
    /// restarts them for ever), or the service runs another revision, or it is gone. The
    /// sentence gives the reason (task error, exit code).
    case failed(String)

    public var description: String {
        switch self {
        case .converged: "converged"
        case .progressing(let why): "progressing: \(why)"
        case .rollingBack(let why): "rolling back: \(why)"
        case .rolledBack(let why): "rolled back: \(why)"
        case .paused(let why): "paused: \(why)"
        case .failed(let why): "failed: \(why)"
        }
    }

    /// Whether waiting longer can change the verdict.
    public var isFinal: Bool {
        switch self {
        case .progressing, .rollingBack: false
        case .converged, .rolledBack, .paused, .failed: true
        }
    }

    /// How many tasks of the wanted revision may fail (end by themselves) before Berth calls
    /// the service failing rather than progressing. Swarm itself never gives up on a service
    /// it creates: a broken image is restarted for ever.
    public static let failureLimit = 3

    /// The verdict. `ignoring` lists tasks that had already ended before Berth asked for
    /// this change (Swarm keeps 5 ended tasks per slot): they say nothing about it.
    public static func judge(
        service: Engine.SwarmService, tasks: [Engine.SwarmTask], nodes: [Engine.SwarmNode], revision: Revision,
        replicas: Int, ignoring: Set<String> = []
    ) -> SwarmConvergence {
        let name = service.Spec.Labels?[BerthLabel.service] ?? service.Spec.Name
        let readyNodes = Set(nodes.filter { $0.Status.State == "ready" }.map(\.ID))
        let mine = tasks.filter { $0.ServiceID == service.ID }
        func revisionOf(_ task: Engine.SwarmTask) -> String { task.Spec.ContainerSpec.Labels?[BerthLabel.revision] ?? "" }
        let failures = mine.filter {
            revisionOf($0) == revision.id && $0.DesiredState != "running" && !ignoring.contains($0.ID)
                && SwarmObservation.failedStates.contains($0.Status.State)
        }.sorted { ($0.Status.Timestamp ?? "", $0.ID) > ($1.Status.Timestamp ?? "", $1.ID) }
        let lastFailure = failures.first.map { "; last failed task: \(SwarmObservation.reason($0))" } ?? ""

        let state = service.UpdateStatus?.State
        let message = service.UpdateStatus?.Message.map { ": \($0)" } ?? ""
        // A Swarm rollback puts the previous spec back: the service no longer carries the
        // wanted revision. That is the rollback of an update to it; when the wanted revision
        // is the one rolled back *to*, the rollback is simply progress towards it.
        if let current = service.Spec.Labels?[BerthLabel.revision], current != revision.id {
            switch state {
            case "rollback_started":
                return .rollingBack("Swarm is rolling back the update of \(name)\(message)\(lastFailure)")
            case "rollback_completed":
                return .rolledBack("Swarm rolled back the update of \(name)\(message)\(lastFailure)")
            case "rollback_paused":
                return .paused("Swarm paused the rollback of \(name)\(message)\(lastFailure)")
            default:
                return .failed("\(name) runs revision \(current), not \(revision.id)\(lastFailure)")
            }
        }
        switch state {
        case "paused": return .paused("Swarm paused the update of \(name)\(message)\(lastFailure)")
        case "rollback_paused": return .paused("Swarm paused the rollback of \(name)\(message)\(lastFailure)")
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
