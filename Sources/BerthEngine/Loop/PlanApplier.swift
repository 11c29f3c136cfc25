public import BerthCore

/// How one step of a plan ended, and how long it took.
public struct AppliedStep: Sendable, Hashable {
    public var step: PlanStep
    public var outcome: JournalOutcome
    /// Why it failed, was rolled back or skipped ("" on success).
    public var message: String
    public var durationMs: Int
    /// Instances the step started that failed on their own (exited or never healthy):
    /// what the crash-loop backoff counts.
    public var instanceFailures: Int

    public init(step: PlanStep, outcome: JournalOutcome, message: String = "", durationMs: Int, instanceFailures: Int = 0) {
        self.step = step
        self.outcome = outcome
        self.message = message
        self.durationMs = durationMs
        self.instanceFailures = instanceFailures
    }
}

/// Carries out a plan. The loop needs nothing else from an executor: the engine's executor
/// and the loop's own `RuntimeApplier` both fit.
public protocol PlanApplier: Sendable {
    /// Applies `plan` (built from `desired`) wave by wave; steps of one wave run at once.
    /// Never throws: every step ends with an outcome. `shouldStop` is polled between waves
    /// (SIGTERM finishes the wave in flight, then the rest is `skipped`).
    func apply(_ plan: Plan, desired: DesiredState, observed: ObservedState, shouldStop: @Sendable () async -> Bool) async -> [AppliedStep]
}

/// The engine's `Executor` as the loop's applier: health-gated `dependsOn`, rolling updates
/// that restore the old revision on failure, drain before stop. It runs a plan to its end
/// (a stop request is honoured between syncs, not inside one).
public struct ExecutorApplier: PlanApplier {
    public let executor: Executor

    public init(executor: Executor) { self.executor = executor }

    public func apply(_ plan: Plan, desired: DesiredState, observed: ObservedState, shouldStop: @Sendable () async -> Bool) async -> [AppliedStep] {
        let report = await executor.apply(plan, desired: desired, observed: observed)
        return report.steps.map { r in
            let ms = Int(r.duration.components.seconds * 1000 + r.duration.components.attoseconds / 1_000_000_000_000_000)
            let outcome: JournalOutcome
            var message = r.outcome.message ?? ""
            switch r.outcome {
            case .succeeded: outcome = .succeeded
            case .failed: outcome = .failed
            case .rolledBack: outcome = .rolledBack
            case .paused:
                outcome = .failed
                message = "paused: " + message
            case .skipped: outcome = .skipped
            }
            // A step that starts instances and failed on its own (not skipped) counts once
            // toward the service's crash-loop backoff.
            let starts = r.step.action == .create || r.step.action == .heal
                || (r.step.action == .scale && (r.step.to?.replicas ?? 0) > (r.step.from?.replicas ?? 0))
            let failures = starts && (outcome == .failed || outcome == .rolledBack) ? 1 : 0
            return AppliedStep(step: r.step, outcome: outcome, message: message, durationMs: ms, instanceFailures: failures)
        }
    }
}
