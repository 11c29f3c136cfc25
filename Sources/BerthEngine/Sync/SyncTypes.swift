public import BerthCore
public import Foundation

/// What a sync is asked to do: why, and whether to read git first.
public struct SyncRequest: Sendable, Hashable {
    /// Everything that asked for it since the last sync.
    public var triggers: Set<SyncTrigger>
    /// Fetch and read the desired state anew (else: the last good one).
    public var fetch: Bool

    public init(triggers: Set<SyncTrigger>, fetch: Bool) {
        self.triggers = triggers
        self.fetch = fetch
    }
}

/// What the scheduler should do after a sync or heal.
public struct SyncFollowUp: Sendable, Hashable {
    public struct Retry: Sendable, Hashable {
        /// Failures in a row: the wait grows with them.
        public var failures: Int
        /// Fetch again (git failed), or only observe again (the runtime failed).
        public var fetch: Bool
    }
    /// Git or the runtime could not be read: try again.
    public var retry: Retry?
    /// The earliest crash-loop backoff ends then: heal again.
    public var wake: Date?
    /// A heal had nothing to plan from (no observation or desired state yet): run a sync.
    public var needsSync = false

    public init(retry: Retry? = nil, wake: Date? = nil, needsSync: Bool = false) {
        self.retry = retry
        self.wake = wake
        self.needsSync = needsSync
    }
}

/// A rollout that was rolled back (or paused): not retried for this service until the
/// revision changes. A rolled-back service is meanwhile healed and scaled at the revision
/// it was rolled back to; a paused one is left as it is.
public struct HeldBack: Sendable, Hashable, Codable {
    public var service: String
    public var revision: String
    public var commit: String?
    public var message: String
    /// `rolledBack` or `paused`.
    public var outcome: JournalOutcome
    /// When the rollout ended (RFC 3339 UTC), when known.
    public var failedAt: String?

    public init(
        service: String, revision: String, commit: String?, message: String, outcome: JournalOutcome, failedAt: String? = nil
    ) {
        self.service = service
        self.revision = revision
        self.commit = commit
        self.message = message
        self.outcome = outcome
        self.failedAt = failedAt
    }

    /// As `status` shows it: the failed revision, its commit, when, and why.
    public var rollout: HeldRollout {
        HeldRollout(
            revision: revision, commit: commit, failedAt: failedAt, reason: RolloutFailureText.reason(message),
            outcome: outcome.rawValue)
    }
}

/// The executor's sentence for a failed rollout (`Rollback.swift`): `rollout of revision X
/// (IMAGE) failed (REASON): rolled back to …` or `… failed (REASON): paused …`.
enum RolloutFailureText {
    /// REASON, the text in the balanced parentheses after `failed (`; the whole message when
    /// it is not in that form.
    static func reason(_ message: String) -> String {
        guard let start = message.range(of: " failed (") else { return message }
        var depth = 1
        var i = start.upperBound
        while i < message.endIndex {
            switch message[i] {
            case "(": depth += 1
            case ")":
                depth -= 1
                if depth == 0 { return String(message[start.upperBound..<i]) }
            default: break
            }
            i = message.index(after: i)
        }
        return message
    }
}

public struct InvalidCommit: Sendable, Hashable, Codable {
    public var commit: String?
    public var errors: [String]
}

public struct SyncSummary: Sendable, Hashable, Codable {
    public var trigger: SyncTrigger
    public var result: SyncResult
    public var commit: String?
    public var started: String
    public var ended: String
    public var steps: Int
    public var errors: [String]
}

/// A service left out of a sync, and why ("crash-loop backoff until …").
public struct DeferredService: Sendable, Hashable {
    public var service: String
    public var reason: String

    public init(service: String, reason: String) {
        self.service = service
        self.reason = reason
    }
}

/// An instance the runtime reported dead, gone or unhealthy since it was last observed.
/// Docker sends `die` before its container list says so: these override what `observe`
/// reports.
struct DeadInstance: Sendable, Hashable {
    var service: String?
    var exitCode: Int?
    var destroyed: Bool
    var unhealthy = false
}

extension ObservedState {
    /// Whether `service` (nil: none) has an instance `id` here.
    func lists(_ id: String, of service: String?) -> Bool {
        guard let service, let found = self.service(service) else { return false }
        return found.instances.contains { $0.id == id }
    }

    /// This state with the instances the runtime reported dead marked exited (or removed
    /// when destroyed, or unhealthy when the health monitor gave up on them).
    func marking(_ dead: [String: DeadInstance]) -> ObservedState {
        guard !dead.isEmpty else { return self }
        var out = self
        for s in out.services.indices {
            out.services[s].instances.removeAll { dead[$0.id]?.destroyed == true }
            for i in out.services[s].instances.indices {
                guard let d = dead[out.services[s].instances[i].id] else { continue }
                if d.unhealthy && d.exitCode == nil {
                    if out.services[s].instances[i].state != .exited { out.services[s].instances[i].state = .unhealthy }
                } else if out.services[s].instances[i].state != .exited {
                    out.services[s].instances[i].state = .exited
                    out.services[s].instances[i].exitCode = d.exitCode
                }
            }
        }
        return out
    }
}

/// How a step ended, in the journal's words; and whether it counts toward the service's
/// crash-loop backoff (a step that starts instances and failed on its own, not skipped).
extension StepReport {
    var journalOutcome: JournalOutcome {
        switch outcome {
        case .succeeded: .succeeded
        case .failed: .failed
        case .rolledBack: .rolledBack
        case .paused: .paused
        case .skipped: .skipped
        }
    }

    /// 1 when the step counts as a crash of its service: it starts instances and failed —
    /// unless all that failed is new instances killed from outside (`killedFromOutside`)
    /// before they became healthy, which are healed at once like any other kill.
    func instanceFailures(killedFromOutside: (String) -> Bool) -> Int {
        guard step.startsInstances, journalOutcome == .failed || journalOutcome == .rolledBack else { return 0 }
        let onlyKilled = !failedOtherwise && !exitedBeforeHealthy.isEmpty && exitedBeforeHealthy.allSatisfy(killedFromOutside)
        return onlyKilled ? 0 : 1
    }
}
