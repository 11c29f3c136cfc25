/// Where the executor tells the load balancer about instances: a new instance is put into
/// rotation once healthy, and an old one is taken out (and its connections drained) before
/// it is stopped. The load balancer implements it; `NoTrafficRouter` does nothing.
public protocol TrafficRouter: Sendable {
    /// `instance` passed its health check: send it traffic.
    func instanceReady(_ instance: Instance) async
    /// Stop sending new connections to `instance` and return once its open connections
    /// finished or `grace` passed. Called before the instance is stopped; the executor
    /// stops it whatever the answer (a drain never fails an apply), within `stopTimeout`
    /// (SIGTERM, then SIGKILL). A balancer that outlives the caller puts the instance back
    /// into rotation when it still runs well after `grace + stopTimeout`: the caller is gone.
    @discardableResult
    func drain(_ instance: Instance, grace: Millis, stopTimeout: Millis) async -> DrainOutcome
}

/// How a drain went, as far as the executor needs to know.
public enum DrainOutcome: Sendable, Hashable {
    /// Out of rotation, and its last connection closed.
    case drained
    /// Out of rotation; the grace period ran out with `remaining` connections open (the
    /// stop ends them).
    case gracePassed(remaining: Int)
    /// No load balancer is in use: nothing to drain.
    case noBalancer
    /// A load balancer should have drained it and did not (none answers, or it refused):
    /// the instance is stopped with its connections open. `reason` says why and what to do.
    case notDrained(reason: String)
}

/// No load balancer: nothing to add or drain.
public struct NoTrafficRouter: TrafficRouter {
    public init() {}
    public func instanceReady(_ instance: Instance) async {}
    @discardableResult
    public func drain(_ instance: Instance, grace: Millis, stopTimeout: Millis) async -> DrainOutcome { .noBalancer }
}
