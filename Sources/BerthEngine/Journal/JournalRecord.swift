import Foundation

/// Why a sync ran.
public enum SyncTrigger: String, Sendable, Hashable, Codable, CaseIterable {
    /// A new commit (or the first sync of a run).
    case commit
    /// The observed state differed from the desired state at a periodic check.
    case drift
    /// A runtime event: a managed instance died, turned unhealthy or disappeared.
    case heal
    /// `POST /api/v1/sync`, or a command run by hand (`berth apply`, `berth rollback`, …;
    /// the record's `actor` says who).
    case manual
    /// The autoscaler changed a service's replica count (`berth watch`).
    case autoscale
}

/// How a sync ended.
public enum SyncResult: String, Sendable, Hashable, Codable, CaseIterable {
    /// Every step succeeded (or there was nothing to do).
    case succeeded
    /// At least one step failed.
    case failed
    /// A rollout failed and was rolled back (and no step failed otherwise).
    case rolledBack
    /// Every step that ran succeeded, but some services were left out (held back after a
    /// rollout of this revision was rolled back or paused, or waiting out a crash-loop
    /// backoff): the commit has not fully reached the runtime.
    case partial
    /// The commit's manifests are invalid: nothing was applied, the last good desired state
    /// keeps running.
    case invalid
    /// The sync could not run: git or the runtime was unreachable, or planning failed.
    case error
}

/// How one plan step ended.
public enum JournalOutcome: String, Sendable, Hashable, Codable, CaseIterable {
    /// `paused`: a rollout with `onFailure: pause` failed and was left as it was.
    case succeeded, failed, rolledBack, paused, skipped
}

/// One plan step as carried out.
public struct JournalStep: Sendable, Hashable, Codable {
    public var action: String
    public var service: String
    public var wave: Int
    public var reason: String
    public var outcome: JournalOutcome
    /// Why it failed, was rolled back or skipped; empty when it succeeded.
    public var message: String
    public var durationMs: Int
    /// The revision the step moved the service to (when it has one).
    public var revision: String?
    /// The image its new instances run, by digest (`repo@sha256:…`), when known: what ran,
    /// for audits.
    public var image: String?

    public init(action: String, service: String, wave: Int, reason: String, outcome: JournalOutcome, message: String = "", durationMs: Int, revision: String? = nil, image: String? = nil) {
        self.revision = revision
        self.image = image
        self.action = action
        self.service = service
        self.wave = wave
        self.reason = reason
        self.outcome = outcome
        self.message = message
        self.durationMs = durationMs
    }
}

/// One sync: what the reconcile loop did, when, from which commit, and how it ended.
public struct JournalRecord: Sendable, Hashable, Codable {
    /// Assigned by the journal (0 before it is written).
    public var id: Int64
    /// RFC 3339 UTC with milliseconds.
    public var started: String
    public var ended: String
    /// The commit the desired state came from (nil when git could not be read).
    public var commit: String?
    public var trigger: SyncTrigger
    public var result: SyncResult
    public var steps: [JournalStep]
    public var errors: [String]
    /// Who ran it, `user@host`, for a command run by hand (`berth apply`, `berth rollback`,
    /// …); nil for `berth watch`'s own syncs.
    public var actor: String?

    public init(
        id: Int64 = 0, started: String, ended: String, commit: String?, trigger: SyncTrigger, result: SyncResult,
        steps: [JournalStep] = [], errors: [String] = [], actor: String? = nil
    ) {
        self.actor = actor
        self.id = id
        self.started = started
        self.ended = ended
        self.commit = commit
        self.trigger = trigger
        self.result = result
        self.steps = steps
        self.errors = errors
    }

    /// Services the sync touched, sorted.
    public var services: [String] { Set(steps.map(\.service)).sorted() }
}

/// The `berth journal --format json` / `GET /api/v1/journal` document.
public struct JournalDocument: Sendable, Hashable, Codable {
    public var formatVersion = 1
    public var project: String
    public var records: [JournalRecord]
    public init(project: String, records: [JournalRecord]) {
        self.project = project
        self.records = records
    }

    public func jsonText() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(self), as: UTF8.self) + "\n"
    }
}
