import BerthCore

/// A rollout that failed: roll back to the previous revision, or pause, as onFailure says.
extension StepContext {
    /// What a failed rollout needs to roll back or pause.
    struct Rollout: Sendable {
        var spec: ServiceSpec
        var replicas: Int
        var fromRevision: String
        var fromImage: String
        var previous: ServiceSpec?
        /// The commit the old instances were started from (their `berth.commit`).
        var previousCommit: String?
        var liveOldAtStart: Int
        /// Ids of new-revision instances that already ran when the step began.
        var keptNew: Set<String>
    }

    /// A new instance failed or missed the deadline: roll back or pause, per onFailure.
    func failed(_ r: Rollout, reason: String, old: [Instance], fresh: [Instance], failedNew: [Instance]) async -> StepOutcome {
        let name = r.spec.name
        let newText = "revision \(r.spec.revision.id) (\(r.spec.image))"
        let oldText = r.fromImage.isEmpty ? r.fromRevision : "\(r.fromRevision) (\(r.fromImage))"
        switch r.spec.update.onFailure {
        case .pause:
            return .paused(
                "rollout of \(newText) failed (\(reason)): paused as onFailure says; "
                    + "\(fresh.count) of \(r.replicas) replica\(r.replicas == 1 ? "" : "s") run the new revision, "
                    + "\(old.count) the old one; fix the manifest and apply again")
        case .rollback:
            emit(name, .rollingBack(reason: reason))
            let missing = max(0, r.liveOldAtStart - old.count)
            var restored = 0
            var notes: [String] = []
            if missing > 0 {
                if let previous = r.previous {
                    let results = await startMany(
                        previous, count: missing, until: deadline(previous), commit: r.previousCommit)
                    restored = results.filter { $0.failure == nil }.count
                    let broken = results.filter { $0.failure != nil }.compactMap(\.instance)
                    _ = await stopMany(broken, grace: previous.stopGracePeriod)
                    if let why = results.compactMap(\.failure).sorted().first {
                        notes.append("restoring the old revision failed too: \(why)")
                    }
                } else {
                    notes.append("the spec of revision \(r.fromRevision) was not recorded, so its stopped replicas could not be started again")
                }
            }
            // Only what this step started goes; new-revision replicas that served before it
            // keep serving.
            let startedHere = fresh.filter { !r.keptNew.contains($0.id) }
            let kept = fresh.count - startedHere.count
            let errors = await stopMany(startedHere + failedNew, grace: r.spec.stopGracePeriod)
            notes += errors
            let serving = old.count + restored
            var text = "rollout of \(newText) failed (\(reason)): rolled back to \(oldText); "
                + "\(serving) of \(r.liveOldAtStart) replica\(r.liveOldAtStart == 1 ? "" : "s") serve the old revision"
            if kept > 0 {
                text += "; \(kept) replica\(kept == 1 ? "" : "s") of revision \(r.spec.revision.id) that served before this update \(kept == 1 ? "keeps" : "keep") serving"
            }
            if !notes.isEmpty { text += "; " + notes.joined(separator: "; ") }
            return .rolledBack(text)
        }
    }
}
