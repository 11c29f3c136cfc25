/// Why no plan could be made. Each message says what is wrong and what to do.
public enum PlanError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `dependsOn` loops: each cycle spelled from its smallest name back to itself.
    case dependencyCycle([[String]])
    /// The plan would delete `deleting` (sorted) of `running` running services.
    case massDelete(deleting: [String], running: Int)

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
                + "If you really mean to delete them, pass --allow-mass-delete"
        }
    }
}
