public import BerthCore
public import Foundation

/// What the loop reports (its `WatchStatus`), as the web UI reads it: the one place that
/// knows the loop's types, so the pages do not change when the loop does.
public struct LoopState: Sendable, Hashable {
    public struct Invalid: Sendable, Hashable {
        public var commit: String?
        public var errors: [String]
        public init(commit: String?, errors: [String]) {
            self.commit = commit
            self.errors = errors
        }
    }

    public struct Sync: Sendable, Hashable {
        public var trigger: String
        public var result: SyncResult
        public var commit: String?
        public var started: Date?
        public var ended: Date?
        public var steps: Int
        public var errors: [String]
        public init(trigger: String, result: SyncResult, commit: String?, started: Date?, ended: Date?, steps: Int, errors: [String]) {
            self.trigger = trigger
            self.result = result
            self.commit = commit
            self.started = started
            self.ended = ended
            self.steps = steps
            self.errors = errors
        }
    }

    public struct Backoff: Sendable, Hashable {
        public var service: String
        public var failures: Int
        public var retryAt: Date
        public init(service: String, failures: Int, retryAt: Date) {
            self.service = service
            self.failures = failures
            self.retryAt = retryAt
        }
    }

    public struct HeldBack: Sendable, Hashable {
        public var service: String
        public var revision: String
        public var commit: String?
        public var message: String
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

        /// As `berth status` says it (`HeldRollout.sentence`).
        public var rollout: HeldRollout {
            BerthEngine.HeldBack(
                service: service, revision: revision, commit: commit, message: message, outcome: outcome, failedAt: failedAt
            ).rollout
        }
    }

    public var report: StatusReport
    public var desiredCommit: String?
    /// The branch head as of the last fetch.
    public var newestCommit: String?
    public var lastAppliedCommit: String?
    public var invalid: Invalid?
    public var lastSync: Sync?
    public var backoff: [Backoff]
    public var heldBack: [HeldBack]
    public var sourceError: String?
    public var runtimeError: String?
    public var planError: String?

    public init(
        report: StatusReport, desiredCommit: String? = nil, newestCommit: String? = nil, lastAppliedCommit: String? = nil,
        invalid: Invalid? = nil, lastSync: Sync? = nil, backoff: [Backoff] = [], heldBack: [HeldBack] = [],
        sourceError: String? = nil, runtimeError: String? = nil, planError: String? = nil
    ) {
        self.report = report
        self.desiredCommit = desiredCommit
        self.newestCommit = newestCommit
        self.lastAppliedCommit = lastAppliedCommit
        self.invalid = invalid
        self.lastSync = lastSync
        self.backoff = backoff
        self.heldBack = heldBack
        self.sourceError = sourceError
        self.runtimeError = runtimeError
        self.planError = planError
    }

    public init(_ s: WatchStatus) {
        self.init(
            report: s.report, desiredCommit: s.desiredCommit, newestCommit: s.newestCommit,
            lastAppliedCommit: s.lastAppliedCommit, invalid: s.invalid.map { Invalid(commit: $0.commit, errors: $0.errors) },
            lastSync: s.lastSync.map {
                Sync(
                    trigger: $0.trigger.rawValue, result: $0.result, commit: $0.commit, started: Timestamp.date($0.started),
                    ended: Timestamp.date($0.ended), steps: $0.steps, errors: $0.errors)
            },
            backoff: s.backoff.map { Backoff(service: $0.service, failures: $0.failures, retryAt: $0.retryAt) },
            heldBack: s.heldBack.map {
                HeldBack(
                    service: $0.service, revision: $0.revision, commit: $0.commit, message: $0.message, outcome: $0.outcome,
                    failedAt: $0.failedAt)
            },
            sourceError: s.sourceError, runtimeError: s.runtimeError, planError: s.planError)
    }
}
