/// How many replicas an autoscaled service is desired at, for every path that plans or
/// judges it (`berth plan`, `status`, `apply`, and the watch between decisions): git stays
/// the source of truth for *whether* a service is autoscaled and between which bounds, while
/// the count itself is the autoscaler's — so a count the autoscaler set is never drift.
///
/// - `berth watch` knows the count it decided last (`decided`): that one, within `[min, max]`.
/// - Anyone else takes what runs: the number of the service's instances (in any state: a
///   crashed replica is healed, not scaled away), within `[min, max]`.
/// - Nothing runs: `min` is 0 → 0 (scaled to zero, or never started: the first request
///   through the balancer starts it); otherwise `spec.replicas`, within `[min, max]` — the
///   starting count.
///
/// A service without `autoscale` is desired at `spec.replicas`, as always.
public enum AutoscaledReplicas {
    public static func count(_ spec: ServiceSpec, running: Int, decided: Int? = nil) -> Int {
        guard let autoscale = spec.autoscale else { return spec.replicas }
        if let decided { return Autoscaler.clamp(decided, autoscale) }
        if running > 0 { return Autoscaler.clamp(running, autoscale) }
        return autoscale.min == 0 ? 0 : Autoscaler.clamp(spec.replicas, autoscale)
    }
}

extension DesiredState {
    /// This desired state with every autoscaled service's `replicas` set as
    /// `AutoscaledReplicas` says, from what runs (`observed`) and the counts the autoscaler
    /// decided (`decided`, by service).
    public func autoscaled(observed: ObservedState, decided: [String: Int] = [:]) -> DesiredState {
        guard services.values.contains(where: { $0.autoscale != nil }) else { return self }
        var out = self
        let running = observed.servicesByName
        for (name, spec) in services where spec.autoscale != nil {
            let count = AutoscaledReplicas.count(
                spec, running: running[name]?.instances.count ?? 0, decided: decided[name])
            if count != spec.replicas { out.services[name]?.replicas = count }
        }
        return out
    }
}
