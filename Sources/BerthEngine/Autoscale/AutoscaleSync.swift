public import BerthCore
import Foundation

/// The autoscaler's path through the sync pipeline: a decision is applied like a heal — the
/// one service, planned from the last observation (no git read, no listing), at the count
/// the autoscale overlay now gives it — and the executor's scale step does the rest (new
/// replicas health-gated and put into rotation, retired ones drained before they stop).
/// The journal records it with trigger `autoscale`, its scale (or, from zero, create) step's
/// reason naming the count the executor changed and the cause of the service's last
/// decision (`autoscale 1 → 6: 62.0 req/s over 1s, target 10 per replica`): a step planned
/// afresh because an earlier decision's step changed the service meanwhile says so too.
extension SyncPipeline {
    public func autoscale(_ service: String, decision: AutoscaleDecision) async -> SyncFollowUp {
        guard let desired = lastGood, let last = observation else { return SyncFollowUp(needsSync: true) }
        var run = SyncRun(request: SyncRequest(triggers: [.autoscale], fetch: false), started: now(), startedAt: .now)
        do {
            autoscaleCauses[service] = decision.cause
            let prepared = try await plan(
                &run, desired: desired, observed: last.state.marking(dead), generations: last.generations,
                scope: [service])
            return await finish(prepared)
        } catch {
            await journalFailure(error, run: run)
            return SyncFollowUp(wake: backoff.nextRetry(after: now()))
        }
    }
}
