/// The numbers of a desired state that the planner computes with, checked before it does:
/// a replica count, and the rolling-update amounts resolved against it. The manifest checks
/// keep such values far inside 64 bits; this check is for a desired state built any other
/// way (a test, a future source, a gap in the checks), so that the planner answers with a
/// `PlanError` that names the field instead of trapping (issue 18: `replicas:
/// 100000000000000000` with `maxSurge: "100%"` overflowed and took `berth watch` down).
enum PlanInputCheck {
    /// Nil when every service can be planned; else the problems, sorted by service and field.
    static func problems(_ services: [String: ServiceSpec]) -> [PlanError.Unplannable]? {
        var found: [PlanError.Unplannable] = []
        for spec in services.values {
            let replicas = spec.replicas
            guard replicas < 0 || !isPlain(spec.update) || !fits(spec.update, replicas: replicas) else { continue }
            found += problems(spec)
        }
        return found.isEmpty ? nil : found.sorted { ($0.service, $0.path) < ($1.service, $1.path) }
    }

    /// The common case, decided without allocating: small counts.
    @inline(__always)
    private static func isPlain(_ u: UpdatePolicy) -> Bool {
        switch (u.maxSurge, u.maxUnavailable) {
        case (.count(let a), .count(let b)): a >= 0 && b >= 0
        default: false
        }
    }

    @inline(__always)
    private static func fits(_ u: UpdatePolicy, replicas: Int) -> Bool {
        guard let surge = u.maxSurge.resolved(replicas: replicas, roundUp: true) else { return false }
        return !replicas.addingReportingOverflow(surge).overflow
    }

    private static func problems(_ spec: ServiceSpec) -> [PlanError.Unplannable] {
        var out: [PlanError.Unplannable] = []
        func add(_ path: String, _ message: String) {
            out.append(PlanError.Unplannable(service: spec.name, path: path, message: message))
        }
        if spec.replicas < 0 {
            add("spec.replicas", "\(spec.replicas) is negative")
            return out
        }
        for (field, amount, roundUp) in [("maxSurge", spec.update.maxSurge, true), ("maxUnavailable", spec.update.maxUnavailable, false)] {
            let path = "spec.update.\(field)"
            switch amount {
            case .count(let n) where n < 0, .percent(let n) where n < 0:
                add(path, "\(amount) is negative")
            case .percent(let p) where amount.resolved(replicas: spec.replicas, roundUp: roundUp) == nil:
                add(path, "\(p)% of \(spec.replicas) replicas is more than a 64-bit count can hold")
            default:
                if roundUp, let surge = amount.resolved(replicas: spec.replicas, roundUp: true),
                    spec.replicas.addingReportingOverflow(surge).overflow
                {
                    add(path, "\(spec.replicas) replicas and a surge of \(surge) are more than a 64-bit count can hold")
                }
            }
        }
        return out
    }
}
