/// The numbers of a desired state, checked against `ManifestLimits` before the planner
/// computes with them: the maxima `berth validate` enforces, read from the same table (the
/// minima are looser: the planner needs only sense, not Docker's 6Mi), so whatever validates
/// also plans, and every sum and product made of a plan downstream (replicas × 100 %,
/// replicas + surge, durations in nanoseconds) stays far inside 64 bits.
/// The manifest checks keep such values out; this is for a desired state built any other
/// way (a test, a future source, a gap in the checks): the planner answers with a
/// `PlanError` naming the field, never a trap (issue 18: `replicas: 100000000000000000` with
/// `maxSurge: "100%"` overflowed and took `berth watch` down at every start).
enum PlanInputCheck {
    /// Nil when every service can be planned; else the problems, sorted by service and field.
    static func problems(_ services: [String: ServiceSpec]) -> [PlanError.Unplannable]? {
        var found: [PlanError.Unplannable] = []
        for spec in services.values { check(spec, into: &found) }
        return found.isEmpty ? nil : found.sorted { ($0.service, $0.path) < ($1.service, $1.path) }
    }

    private static func check(_ spec: ServiceSpec, into found: inout [PlanError.Unplannable]) {
        // Worded as the manifest checks word them.
        func range<T: BinaryInteger>(_ path: @autoclosure () -> String, _ value: T, _ bounds: ClosedRange<T>, _ unit: String = "") {
            guard !bounds.contains(value) else { return }
            let limit = value < bounds.lowerBound ? "at least \(bounds.lowerBound)" : "at most \(bounds.upperBound)"
            found.append(PlanError.Unplannable(
                service: spec.name, path: path(), message: "expected \(limit)\(unit), found \(value)"))
        }
        func duration(_ path: @autoclosure () -> String, _ d: Millis) {
            guard d < .zero || d > ManifestLimits.duration else { return }
            let limit = d < .zero ? "at least 0s" : "at most \(ManifestLimits.duration) (365 days)"
            found.append(PlanError.Unplannable(
                service: spec.name, path: path(), message: "expected a duration of \(limit), found \(d)"))
        }
        func amount(_ path: String, _ a: IntOrPercent) {
            switch a {
            case .count(let n): range(path, n, 0...ManifestLimits.replicas, " replicas")
            case .percent(let p): range(path, p, 0...100, " percent")
            }
        }
        let replicas = 0...ManifestLimits.replicas, port = 1...65535
        range("spec.replicas", spec.replicas, replicas, " replicas")
        amount("spec.update.maxSurge", spec.update.maxSurge)
        amount("spec.update.maxUnavailable", spec.update.maxUnavailable)
        duration("spec.update.progressDeadline", spec.update.progressDeadline)
        duration("spec.stopGracePeriod", spec.stopGracePeriod)
        for (i, p) in spec.ports.enumerated() {
            range("spec.ports[\(i)].containerPort", p.containerPort, port)
            if let publish = p.publish { range("spec.ports[\(i)].publish", publish, port) }
        }
        if let h = spec.health {
            switch h.probe {
            case .http(_, let p): range("spec.health.http.port", p, port)
            case .tcp(let p): range("spec.health.tcp.port", p, port)
            case .exec: break
            }
            duration("spec.health.interval", h.interval)
            duration("spec.health.timeout", h.timeout)
            duration("spec.health.startPeriod", h.startPeriod)
            range("spec.health.failureThreshold", h.failureThreshold, 1...ManifestLimits.failureThreshold)
        }
        if let r = spec.resources {
            if let cpus = r.milliCPUs { range("spec.resources.cpus", cpus, 1...ManifestLimits.milliCPUs, " thousandths") }
            if let memory = r.memory { range("spec.resources.memory", memory, 1...ManifestLimits.memory, " bytes") }
        }
        if let a = spec.autoscale {
            range("spec.autoscale.min", a.min, replicas, " replicas")
            range("spec.autoscale.max", a.max, replicas, " replicas")
            if let rps = a.targetRequestsPerSecond { range("spec.autoscale.targetRequestsPerSecond", rps, 1...ManifestLimits.requestsPerSecond) }
            duration("spec.autoscale.scaleDownDelay", a.scaleDownDelay)
        }
    }
}
