/// Why no plan could be made. Each message says what is wrong and what to do.
public enum PlanError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `dependsOn` loops: each cycle spelled from its smallest name back to itself.
    case dependencyCycle([[String]])
    /// The plan would delete `deleting` (sorted) of `running` running services.
    case massDelete(deleting: [String], running: Int)
    /// Values outside `ManifestLimits` (a negative count, a replica count beyond the
    /// maximum), sorted by service and field. The manifest checks keep such values out; a
    /// desired state built another way meets this check instead of a trap.
    case unplannable([Unplannable])

    /// One value the planner refuses, and why.
    public struct Unplannable: Sendable, Hashable {
        public var service: String
        /// Dotted, as in the manifest: `spec.update.maxSurge`.
        public var path: String
        public var message: String
        public init(service: String, path: String, message: String) {
            self.service = service
            self.path = path
            self.message = message
        }
    }

    public var description: String {
        switch self {
        case .dependencyCycle(let cycles):
            let spelled = cycles.map { $0.joined(separator: " → ") }
            let noun = cycles.count == 1 ? "a dependency cycle" : "\(cycles.count) dependency cycles"
            return "dependsOn has \(noun): \(spelled.joined(separator: "; ")); "
                + "services in a cycle can never start in order: remove one dependsOn entry of each cycle"
        case .massDelete(let deleting, let running):
            return "refusing to delete \(deleting.count) of \(running) running services "
                + "(\(deleting.joined(separator: ", "))): that is more than half. "
                + "If --path or --ref is wrong, the manifests were not found; check them. "
                + "To apply without deleting them, pass --no-prune; "
                + "if you really mean to delete them, pass --allow-mass-delete"
        case .unplannable(let problems):
            let services = Set(problems.map(\.service)).count
            return "cannot plan \(services) service\(services == 1 ? "" : "s"): "
                + problems.map { "\($0.service): \($0.path): \($0.message)" }.joined(separator: "; ")
                + "; fix the value\(problems.count == 1 ? "" : "s") in the manifest (berth validate names \(problems.count == 1 ? "its place" : "their places"))"
        }
    }
}
