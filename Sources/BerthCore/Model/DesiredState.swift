/// The services a revision of the repository asks for, keyed by name, with every problem
/// found while loading them.
public struct DesiredState: Sendable, Hashable {
    public var services: [String: ServiceSpec]
    public var diagnostics: [Diagnostic]
    /// The commit the state was read from (nil for files on disk).
    public var commit: String?

    public init(services: [String: ServiceSpec] = [:], diagnostics: [Diagnostic] = [], commit: String? = nil) {
        self.services = services
        self.diagnostics = diagnostics
        self.commit = commit
    }

    /// Services sorted by name: the order every output uses.
    public var sortedServices: [ServiceSpec] { services.values.sorted { $0.name < $1.name } }
    public var hasErrors: Bool { diagnostics.hasErrors }
}
