public import BerthCore

/// How one plan step ended. Only `succeeded` is success: a rollout that was rolled back is
/// a failure, and so is a paused one.
public enum StepOutcome: Sendable, Hashable {
    case succeeded
    case failed(String)
    /// The rollout failed and the previous revision was restored; the sentence says how far.
    case rolledBack(String)
    /// The rollout failed and was left as it stood (`onFailure: pause`).
    case paused(String)
    /// Not attempted: a service it depends on is not healthy.
    case skipped(String)

    public var isSuccess: Bool { self == .succeeded }

    /// `succeeded`, `failed`, `rolledBack`, `paused`, `skipped`: the JSON word.
    public var word: String {
        switch self {
        case .succeeded: "succeeded"
        case .failed: "failed"
        case .rolledBack: "rolledBack"
        case .paused: "paused"
        case .skipped: "skipped"
        }
    }

    /// The sentence, without the service name (nil when it succeeded).
    public var message: String? {
        switch self {
        case .succeeded: nil
        case .failed(let m), .rolledBack(let m), .paused(let m), .skipped(let m): m
        }
    }
}

/// One step as it was carried out.
public struct StepReport: Sendable, Hashable {
    public var step: PlanStep
    public var outcome: StepOutcome
    public var duration: Duration
    /// The image the step's new instances run, by digest (`repo@sha256:…`), when known.
    public var image: String?
    /// The new instances the step started that exited before they became healthy (the
    /// pipeline tells a crash from a kill from outside by them).
    public var exitedBeforeHealthy: [String] = []
    /// Whether the step failed for a reason other than such an exit (an instance that could
    /// not start, stayed unhealthy or timed out; a stop that failed).
    public var failedOtherwise = false

    public init(step: PlanStep, outcome: StepOutcome, duration: Duration) {
        self.step = step
        self.outcome = outcome
        self.duration = duration
    }

    /// What a person reads at the end of the step: `booking: update succeeded in 4.2s`, or
    /// the outcome's sentence.
    public var line: String {
        switch outcome {
        case .succeeded:
            "\(step.service): \(step.action.rawValue) succeeded in \(formatSeconds(duration))"
        case .failed(let m):
            "\(step.service): \(step.action.rawValue) failed: \(m)"
        case .rolledBack(let m), .paused(let m):
            "\(step.service): \(m)"
        case .skipped(let m):
            "\(step.service): skipped: \(m)"
        }
    }
}

/// Something an apply did that a person should know although no step failed, once per
/// service: `web: connections to retired replicas were not drained: …`.
public struct ApplyWarning: Sendable, Hashable, Comparable {
    public var service: String
    public var message: String

    public init(service: String, message: String) {
        self.service = service
        self.message = message
    }

    public var line: String { "\(service): warning: \(message)" }

    public static func < (a: ApplyWarning, b: ApplyWarning) -> Bool { (a.service, a.message) < (b.service, b.message) }

    /// What the executor says when a service publishes a port and its retired replicas
    /// could not be drained.
    public static func notDrained(service: String, reason: String) -> ApplyWarning {
        ApplyWarning(service: service, message: "connections to retired replicas were not drained: \(reason)")
    }
}

/// Every step of a plan with its outcome, in plan order, and the warnings of the apply
/// (sorted by service).
public struct ApplyReport: Sendable, Hashable {
    public var plan: Plan
    public var steps: [StepReport]
    public var duration: Duration
    public var warnings: [ApplyWarning]

    public init(plan: Plan, steps: [StepReport], duration: Duration, warnings: [ApplyWarning] = []) {
        self.plan = plan
        self.steps = steps
        self.duration = duration
        self.warnings = warnings
    }

    /// True when every step succeeded (an empty plan included).
    public var succeeded: Bool { steps.allSatisfy { $0.outcome.isSuccess } }
    public var failures: [StepReport] { steps.filter { !$0.outcome.isSuccess } }
}

/// Something that happened during an apply, for the progress display.
public struct ApplyEvent: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// A step begins; `detail` says what it will do.
        case stepStarted(PlanStep.Action, detail: String)
        /// The step waits for something (a dependency, a batch).
        case waiting(String)
        case started(instance: String)
        case healthy(instance: String)
        case notHealthy(instance: String, reason: String)
        case draining(instance: String)
        case stopped(instance: String)
        case stopFailed(instance: String, reason: String)
        /// A service that publishes a port had a replica stopped without draining it (no
        /// load balancer answered); said once per service and apply.
        case notDrained(reason: String)
        case rollingBack(reason: String)
        /// A line of an image pull's progress ("Pulling fs layer", "Digest: sha256:…").
        case pulling(String)
        /// The image the step's instances run, by repository digest.
        case image(String)
        case stepFinished(StepReport)
    }

    public var service: String
    public var kind: Kind

    public init(service: String, kind: Kind) {
        self.service = service
        self.kind = kind
    }

    /// One line for people: `booking: started 3f2a9c1d7b4e; waiting for health`.
    public var line: String {
        switch kind {
        case .stepStarted(let action, let detail): "\(service): \(action.rawValue): \(detail)"
        case .waiting(let what): "\(service): waiting for \(what)"
        case .started(let id): "\(service): started \(shortID(id)); waiting for health"
        case .healthy(let id): "\(service): \(shortID(id)) healthy"
        case .notHealthy(let id, let reason): "\(service): \(shortID(id)) \(reason)"
        case .draining(let id): "\(service): \(shortID(id)) draining"
        case .stopped(let id): "\(service): \(shortID(id)) stopped"
        case .stopFailed(let id, let reason): "\(service): \(shortID(id)) could not be stopped: \(reason)"
        case .notDrained(let reason): ApplyWarning.notDrained(service: service, reason: reason).line
        case .rollingBack(let reason): "\(service): rolling back: \(reason)"
        case .pulling(let line): "\(service): pulling: \(line)"
        case .image(let digest): "\(service): image \(digest)"
        case .stepFinished(let report): report.line
        }
    }
}

/// A Docker container id cut to the 12 characters `docker ps` shows; other ids as they are.
public func shortID(_ id: String) -> String {
    id.count == 64 && id.allSatisfy(\.isHexDigit) ? String(id.prefix(12)) : id
}

/// `0.4s`, `12.3s`, `2m5s`.
public func formatSeconds(_ d: Duration) -> String {
    let ms = d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
    if ms < 60_000 {
        let tenths = (ms + 50) / 100
        return "\(tenths / 10).\(tenths % 10)s"
    }
    return "\(ms / 60_000)m\((ms % 60_000) / 1000)s"
}
