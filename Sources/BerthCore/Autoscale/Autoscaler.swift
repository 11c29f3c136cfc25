/// Request-rate autoscaling, as pure arithmetic: from a service's request rate, the count it
/// runs now (ready plus starting) and its `autoscale` spec, the count it should run. No
/// clock, no I/O: `berth watch` feeds it a rate and a monotonic time about four times a
/// second (`AutoscaleController`), and the property tests feed it generated load series.
///
/// **One tick** (`step`):
/// 1. The recommendation, from the current count `c`, the rate `r` and the target `t` per
///    replica: keep `c` when every replica would carry between 90 % and 110 % of `t` (the
///    tolerance band, Kubernetes HPA's 10 %); otherwise move to the nearest end of the
///    band: up to `lo(r) = ⌈r / (1.1·t)⌉`, the fewest replicas that keep each within 110 %
///    of the target, or down to `hi(r) = max(⌈r / t⌉, ⌊r / (0.9·t)⌋)`, the most that keep
///    each at 90 % or more (never fewer than `⌈r / t⌉`, the count that serves `r` at the
///    target). As one formula: `clamp(c, lo(r), hi(r))`, then clamped to `[min, max]`.
///    No traffic gives 0 (then `min`).
/// 2. Up at once: a recommendation above `c` is taken now, bounded per step to
///    `max(2·c, c + 4)` (HPA's default scale-up policy: double, or four more when that is
///    more); the rest follows at the next ticks.
/// 3. Down only to the highest recommendation of the last `scaleDownDelay` (HPA's
///    stabilization window): a burst holds its count for that long after it ends, and
///    noise never makes the count go down and up again.
///
/// Why `clamp(c, lo, hi)` rather than HPA's "inside the band keep `c`, outside go to
/// `⌈r / t⌉`": both keep `c` inside the band, but HPA's rule can recommend more replicas
/// from a smaller count than from a larger one (at `r = 3.25·t`, from 2 it says 4, from 3 it
/// keeps 3), so two runs with more load in one could end with fewer replicas in it. The clamp
/// is monotone in `c` and in `r`, and so is the whole autoscaler: more load never yields
/// fewer replicas (a property test checks it over generated series).
public enum Autoscaler {
    /// The fraction above or below the target a replica may carry before the count changes.
    public static let tolerance = 0.1

    /// The most replicas one scale-up may reach from `current`: double, or four more when
    /// that is more.
    public static func upLimit(from current: Int) -> Int { max(2 * current, current + 4) }

    /// `lo(r)`: the fewest replicas that keep each within `1 + tolerance` of the target.
    public static func fewest(rate: Double, target: Int) -> Int {
        guard rate > 0, target > 0 else { return 0 }
        return ceiling(rate / (Double(target) * (1 + tolerance)))
    }

    /// `hi(r)`: the most replicas that keep each at `1 − tolerance` of the target or more,
    /// and never fewer than the count that serves the rate at the target.
    public static func most(rate: Double, target: Int) -> Int {
        guard rate > 0, target > 0 else { return 0 }
        let atTarget = ceiling(rate / Double(target))
        let busyEnough = floor(rate / (Double(target) * (1 - tolerance)))
        return max(atTarget, busyEnough)
    }

    /// The recommendation for a service that runs `current` replicas under `rate`, clamped
    /// to `[min, max]`. Without a target there is nothing to scale on: `current`, clamped.
    public static func recommendation(current: Int, rate: Double, spec: Autoscale) -> Int {
        guard let target = spec.targetRequestsPerSecond else { return clamp(current, spec) }
        let wanted = Swift.min(Swift.max(current, fewest(rate: rate, target: target)), most(rate: rate, target: target))
        return clamp(wanted, spec)
    }

    /// `count` within `[min, max]`.
    public static func clamp(_ count: Int, _ spec: Autoscale) -> Int {
        Swift.min(Swift.max(count, spec.min), Swift.max(spec.min, spec.max))
    }

    /// One tick at `now` (milliseconds of a monotonic clock) with `rate` measured over the
    /// last `windowMs`: records the recommendation and returns the decision, if the count
    /// changes. `state.replicas` is the count after the tick.
    public static func step(
        _ state: inout AutoscaleState, spec: Autoscale, rate: Double, windowMs: Int64, now: Int64
    ) -> AutoscaleDecision? {
        let current = state.replicas
        let recommended = recommendation(current: current, rate: rate, spec: spec)
        state.record(recommended, at: now, keepingFor: spec.scaleDownDelay.milliseconds)
        // min and max may have changed since the count was decided.
        let bounded = clamp(current, spec)
        let to: Int
        if recommended > bounded {
            to = Swift.min(recommended, Swift.max(upLimit(from: bounded), spec.min))
        } else {
            to = Swift.min(bounded, state.highestRecommendation)
        }
        guard to != current else { return nil }
        state.replicas = to
        let reason: AutoscaleDecision.Reason = bounded != current && to == bounded ? .limits : .load
        return AutoscaleDecision(
            from: current, to: to, rate: rate, windowMs: windowMs, recommended: recommended,
            target: spec.targetRequestsPerSecond, reason: reason)
    }

    /// A client waits at the balancer for a service that runs no replica: start `max(1, min)`
    /// now, without waiting for a rate (the connection that waits is the demand). Nil when
    /// the service runs replicas already.
    public static func demand(_ state: inout AutoscaleState, spec: Autoscale, now: Int64) -> AutoscaleDecision? {
        guard state.replicas == 0, spec.max > 0 else { return nil }
        let to = clamp(1, spec)
        state.record(to, at: now, keepingFor: spec.scaleDownDelay.milliseconds)
        state.replicas = to
        return AutoscaleDecision(
            from: 0, to: to, rate: 0, windowMs: 0, recommended: to, target: spec.targetRequestsPerSecond,
            reason: .demand)
    }

    /// `⌈x⌉` for a non-negative quotient, forgiving the last bits of floating-point error
    /// (`11 / (10 × 1.1)` is 1.0000000000000002, which must stay 1), saturating far above
    /// any replica count.
    static func ceiling(_ x: Double) -> Int {
        guard x.isFinite else { return x > 0 ? Int(Int32.max) : 0 }
        return Int(Swift.min((x - 1e-9).rounded(.up), Double(Int32.max)))
    }

    static func floor(_ x: Double) -> Int {
        guard x.isFinite else { return x > 0 ? Int(Int32.max) : 0 }
        return Int(Swift.min((x + 1e-9).rounded(.down), Double(Int32.max)))
    }
}
