public import BerthCore

/// Where the executor tells the load balancer about instances: a new instance is put into
/// rotation once healthy, and an old one is taken out (and its connections drained) before
/// it is stopped. The load balancer implements it; `NoTrafficRouter` does nothing.
public protocol TrafficRouter: Sendable {
    /// `instance` passed its health check: send it traffic.
    func instanceReady(_ instance: Instance) async
    /// Stop sending new connections to `instance` and return once its open connections
    /// finished or `grace` passed. Called before the instance is stopped.
    func drain(_ instance: Instance, grace: Millis) async
}

/// No load balancer: nothing to add or drain.
public struct NoTrafficRouter: TrafficRouter {
    public init() {}
    public func instanceReady(_ instance: Instance) async {}
    public func drain(_ instance: Instance, grace: Millis) async {}
}
