public import BerthCore
public import Foundation

/// A stage between the desired state read from git and the planner: a pure transformation
/// of the desired state given what the loop knows, applied in order. Held-back rollouts are
/// one (`HeldBackOverlay`); an autoscaler sets replica counts as another. Overlays do no
/// I/O: what they need is gathered before into `OverlayContext`.
public protocol DesiredStateOverlay: Sendable {
    /// A word for logs: `heldBack`, `autoscale`.
    var name: String { get }
    /// `desired` as this overlay wants it planned, and the services it holds back, with why.
    func apply(to desired: DesiredState, context: OverlayContext) -> OverlayResult
}

/// What overlays may read: the observation the plan is made from, the loop's memory, the time.
public struct OverlayContext: Sendable {
    public var observed: ObservedState
    /// Rollouts that failed at a revision, by service.
    public var heldBack: [String: HeldBack]
    /// For each held-back service, the spec its old instances were started from (as the
    /// runtime recorded it), when known.
    public var rolledBackSpecs: [String: ServiceSpec]
    /// The replica counts the autoscaler decided last, by service (`berth watch`; empty for
    /// `berth apply`, which takes what runs).
    public var autoscaled: [String: Int]
    /// The operator's pins, overrides and suspensions that git leaves in force.
    public var controls: ProjectControls
    public var now: Date

    public init(
        observed: ObservedState, heldBack: [String: HeldBack] = [:], rolledBackSpecs: [String: ServiceSpec] = [:],
        autoscaled: [String: Int] = [:], controls: ProjectControls = ProjectControls(), now: Date
    ) {
        self.observed = observed
        self.heldBack = heldBack
        self.rolledBackSpecs = rolledBackSpecs
        self.autoscaled = autoscaled
        self.controls = controls
        self.now = now
    }
}

public struct OverlayResult: Sendable {
    public var desired: DesiredState
    /// Services the overlay keeps from their desired state for now, with why.
    public var deferred: [DeferredService]
    /// Services no step may touch (suspended): the filter drops every step of theirs.
    public var frozen: Set<String>

    public init(desired: DesiredState, deferred: [DeferredService] = [], frozen: Set<String> = []) {
        self.desired = desired
        self.deferred = deferred
        self.frozen = frozen
    }
}

extension Array where Element == any DesiredStateOverlay {
    /// Every overlay in order, each on the previous one's result.
    public func apply(to desired: DesiredState, context: OverlayContext) -> OverlayResult {
        var result = OverlayResult(desired: desired)
        for overlay in self {
            let next = overlay.apply(to: result.desired, context: context)
            result.desired = next.desired
            result.deferred += next.deferred.filter { d in !result.deferred.contains { $0.service == d.service } }
            result.frozen.formUnion(next.frozen)
        }
        return result
    }
}

/// A service whose rollout of its current revision failed is not rolled out again until a
/// newer commit changes it. A rolled-back one is meanwhile planned at the spec its old
/// instances were started from, so a crashed old replica is healed and the service scaled
/// at the revision it was rolled back to — at git's count: the recorded spec's count is that
/// of whichever commit started those containers, which later scales never rewrote —; a
/// paused one, or one whose old spec is unknown, keeps its desired spec (the filter then
/// leaves its update out).
public struct HeldBackOverlay: DesiredStateOverlay {
    public init() {}
    public var name: String { "heldBack" }

    public func apply(to desired: DesiredState, context: OverlayContext) -> OverlayResult {
        var out = desired
        var deferred: [DeferredService] = []
        for (name, held) in context.heldBack.sorted(by: { $0.key < $1.key }) {
            guard let git = desired.services[name], git.revision.id == held.revision else { continue }
            deferred.append(DeferredService(service: name, reason: held.rollout.sentence))
            if held.outcome == .rolledBack, var spec = context.rolledBackSpecs[name] {
                spec.replicas = git.replicas
                out.services[name] = spec
            }
        }
        return OverlayResult(desired: out, deferred: deferred)
    }
}

/// Autoscaled services are planned at the count the autoscaler decided, or else at what
/// runs, within `[min, max]` (`AutoscaledReplicas`): `spec.replicas` is only their starting
/// count, and a count the autoscaler set is never drift.
public struct AutoscaleOverlay: DesiredStateOverlay {
    public init() {}
    public var name: String { "autoscale" }

    public func apply(to desired: DesiredState, context: OverlayContext) -> OverlayResult {
        OverlayResult(desired: desired.autoscaled(observed: context.observed, decided: context.autoscaled))
    }
}

/// The filter stage: the plan's steps that may run now, and those left for later with why
/// (an update of a held-back revision; anything that starts instances of a service in
/// crash-loop backoff). Pure.
public enum PlanFilter {
    public static func split(
        _ plan: Plan, heldBack: [String: HeldBack], backoff: CrashLoopBackoff, now: Date
    ) -> (kept: [PlanStep], deferred: [DeferredService]) {
        var kept: [PlanStep] = []
        var deferred: [DeferredService] = []
        for step in plan.steps {
            if step.action == .update, let held = heldBack[step.service], held.revision == step.to?.revision {
                deferred.append(DeferredService(service: step.service, reason: held.rollout.sentence))
                continue
            }
            if step.startsInstances, let until = backoff.blocked(step.service, now: now) {
                deferred.append(DeferredService(service: step.service, reason: "crash-loop backoff until \(Timestamp.string(until))"))
                continue
            }
            kept.append(step)
        }
        return (kept, deferred)
    }
}
