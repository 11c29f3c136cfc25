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
    func apply(_ plan: Plan, desired: DesiredState, shouldStop: @Sendable () async -> Bool) async -> [AppliedStep]
}
