/// What runs, rebuilt from runtime labels alone (or read back from `status` JSON).
public struct ObservedState: Sendable, Hashable, Codable {
    public var project: String
    public var services: [ObservedService]

    public init(project: String, services: [ObservedService] = []) {
        self.project = project
        self.services = services
    }

    public static func none(project: String) -> ObservedState { ObservedState(project: project) }

    public func service(_ name: String) -> ObservedService? { services.first { $0.name == name } }
}

public struct ObservedService: Sendable, Hashable, Codable {
    public var name: String
    public var instances: [Instance]
    public init(name: String, instances: [Instance] = []) {
        self.name = name
        self.instances = instances
    }
}

public struct Instance: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Hashable, Codable, CaseIterable {
        case running, starting, unhealthy, exited
    }
    public var id: String
    public var service: String
    public var revision: Revision
    public var commit: String?
    public var image: String?
    public var state: State
    public var exitCode: Int?
    public var restartCount: Int
    /// RFC 3339 UTC; informative only, never enters a plan.
    public var created: String?

    public init(
        id: String, service: String, revision: Revision, commit: String? = nil, image: String? = nil,
        state: State, exitCode: Int? = nil, restartCount: Int = 0, created: String? = nil
    ) {
        self.id = id
        self.service = service
        self.revision = revision
        self.commit = commit
        self.image = image
        self.state = state
        self.exitCode = exitCode
        self.restartCount = restartCount
        self.created = created
    }
}
