public import BerthCore
import Foundation

/// The autoscaler's path through the sync pipeline: a decision is applied like a heal — the
/// one service, planned from the last observation (no git read, no listing), at the count
/// the autoscale overlay now gives it — and the executor's scale step does the rest (new
/// replicas health-gated and put into rotation, retired ones drained before they stop).
/// The journal records it with trigger `autoscale`, its scale step's reason naming the
/// decision (`autoscale 1 → 6: 62.0 req/s over 1s, target 10 per replica`).
extension SyncPipeline {
    public func autoscale(_ service: String, decision: AutoscaleDecision) async -> SyncFollowUp {
        guard let desired = lastGood, let last = observation else { return SyncFollowUp(needsSync: true) }
        var run = SyncRun(request: SyncRequest(triggers: [.autoscale], fetch: false), started: now(), startedAt: .now)
        do {
            var prepared = try await plan(
                &run, desired: desired, observed: last.state.marking(dead), generations: last.generations,
                scope: [service])
            for i in prepared.plan.steps.indices
            where prepared.plan.steps[i].service == service && prepared.plan.steps[i].action == .scale {
                prepared.plan.steps[i].reason = "autoscale \(decision.summary)"
            }
            return await finish(prepared)
        } catch {
            await journalFailure(error, run: run)
            return SyncFollowUp(wake: backoff.nextRetry(after: now()))
        }
    }
}
