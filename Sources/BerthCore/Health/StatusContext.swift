/// What changes what `status` says of a service beyond git and the runtime: a rollout held
/// back after it failed (from the journal, or the watch's memory), and the operator's
/// controls in force (`berth rollback` pins, `berth scale` overrides, `berth suspend`). A
/// newest commit whose manifests are invalid (so nothing of it is applied) is read from the
/// desired state itself. With none of them, status compares git with what runs.
public struct StatusContext: Sendable, Hashable {
    /// Rollouts that failed, by service: held back until a newer commit changes the service.
    public var heldBack: [String: HeldRollout]
    /// The controls git leaves in force (`ProjectControls.inForce`).
    public var controls: ProjectControls
    /// Replicas the project's balancer keeps out of rotation because someone drained them
    /// by hand (`HandDrainSource`): not counted as serving.
    public var handDrains: [HandDrain]

    public init(
        heldBack: [String: HeldRollout] = [:], controls: ProjectControls = ProjectControls(), handDrains: [HandDrain] = []
    ) {
        self.heldBack = heldBack
        self.controls = controls
        self.handDrains = handDrains
    }

    public var isEmpty: Bool { heldBack.isEmpty && controls.isEmpty && handDrains.isEmpty }
}

/// A rollout that failed and was rolled back (or paused): Berth does not try that revision of
/// the service again until a newer commit changes it.
public struct HeldRollout: Sendable, Hashable, Codable {
    /// The revision whose rollout failed (the one git asks for).
    public var revision: String
    /// The commit it came from.
    public var commit: String?
    /// When the rollout ended, RFC 3339 UTC.
    public var failedAt: String?
    /// Why it failed, in the executor's words (`17eac6aa06bf unhealthy: GET … answered HTTP 404`).
    public var reason: String
    /// `rolledBack` or `paused`.
    public var outcome: String

    public init(revision: String, commit: String?, failedAt: String?, reason: String, outcome: String) {
        self.revision = revision
        self.commit = commit
        self.failedAt = failedAt
        self.reason = reason
        self.outcome = outcome
    }

    public var isPaused: Bool { outcome == "paused" }

    /// `rollout of d6230fae93 (1a2b3c4) failed at 2026-01-31T10:00:00Z: REASON; held back
    /// until a newer commit` (a paused one: `…; paused, held back until a newer commit`).
    public var sentence: String {
        var text = "rollout of \(revision)"
        if let commit { text += " (\(commit.prefix(7)))" }
        text += " failed"
        if let failedAt { text += " at \(failedAt)" }
        text += ": \(reason); " + (isPaused ? "paused, held back until a newer commit" : "held back until a newer commit")
        return text
    }
}

/// A newest commit whose manifests have errors: nothing of it is applied (the last good
/// desired state keeps running), so what differs from it is held back, not pruned.
extension StatusContext {
    static func invalidSentence(_ desired: DesiredState) -> String {
        let n = desired.diagnostics.filter { $0.severity == .error }.count
        return invalidCommit(desired.commit, errors: n) + ": held back as it runs until a commit fixes them"
    }

    /// `commit abc1234 has 2 manifest errors`: how status, and the web UI's banner, name a
    /// commit that is not applied.
    public static func invalidCommit(_ commit: String?, errors n: Int) -> String {
        let commit = commit.map { "commit \($0.prefix(7))" } ?? "the desired state"
        return "\(commit) has \(n) manifest error\(n == 1 ? "" : "s")"
    }
}
