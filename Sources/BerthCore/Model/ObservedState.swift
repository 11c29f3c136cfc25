/// What runs, rebuilt from runtime labels alone (or read back from `status` JSON).
///
/// Its JSON form is the `status` shape of DESIGN.md (`{"formatVersion": 1, "project": …,
/// "services": [{"name": …, "instances": [{"id", "revision", "state", "health", …}]}]}`).
/// Decoding reads exactly what `berth status --format json` prints and ignores the fields
/// that describe desired state (`image`, `desiredReplicas`, `sync`, `health`, …), so
/// `--observed FILE` takes a status document as is.
public struct ObservedState: Sendable, Hashable, Codable {
    public var project: String
    public var services: [ObservedService]

    public init(project: String, services: [ObservedService] = []) {
        self.project = project
        self.services = services
    }

    public static func none(project: String) -> ObservedState { ObservedState(project: project) }

    /// Linear search: fine for one lookup; build `servicesByName` for many.
    public func service(_ name: String) -> ObservedService? { services.first { $0.name == name } }

    /// Services by name. Two entries with one name (a hand-written file) are merged.
    public var servicesByName: [String: ObservedService] {
        var out: [String: ObservedService] = [:]
        out.reserveCapacity(services.count)
        for s in services {
            if var existing = out[s.name] {
                existing.instances += s.instances
                existing.dependsOn = Array(Set(existing.dependsOn + s.dependsOn)).sorted()
                out[s.name] = existing
            } else {
                out[s.name] = s
            }
        }
        return out
    }

    /// The same state in its one canonical order: services by name, instances by id.
    public var normalized: ObservedState {
        ObservedState(
            project: project,
            services: servicesByName.values.map { $0.normalized }.sorted { $0.name < $1.name })
    }

    /// Services that have at least one instance, in any state.
    public var runningServiceCount: Int { services.filter { !$0.instances.isEmpty }.count }

    enum CodingKeys: String, CodingKey { case formatVersion, project, services }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let version = try c.decodeIfPresent(Int.self, forKey: .formatVersion), version != 1 {
            throw DecodingError.dataCorruptedError(
                forKey: .formatVersion, in: c,
                debugDescription: "formatVersion \(version) is not supported (this berth reads 1)")
        }
        project = try c.decode(String.self, forKey: .project)
        services = try c.decodeIfPresent([ObservedService].self, forKey: .services) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(1, forKey: .formatVersion)
        try c.encode(project, forKey: .project)
        try c.encode(services, forKey: .services)
    }
}

public struct ObservedService: Sendable, Hashable, Codable {
    public var name: String
    public var instances: [Instance]
    /// The `dependsOn` list the instances were started with (from a label), when known.
    /// Used only to delete pruned services in reverse dependency order.
    public var dependsOn: [String]

    /// The pseudo-service of strays: containers that carry the project's label but no
    /// `berth.service` or `berth.revision` (made by hand, or by something else). Never a
    /// desired service name (not an RFC 1123 label), so a prune deletes them; they do not
    /// count as running services for the mass-delete rule.
    public static let straysName = "(strays)"

    public var isStrays: Bool { name == Self.straysName }

    public init(name: String, instances: [Instance] = [], dependsOn: [String] = []) {
        self.name = name
        self.instances = instances
        self.dependsOn = dependsOn
    }

    public var normalized: ObservedService {
        ObservedService(
            name: name, instances: instances.sorted { $0.id < $1.id }, dependsOn: dependsOn.sorted())
    }

    enum CodingKeys: String, CodingKey { case name, instances, dependsOn }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        instances = try c.decodeIfPresent([Instance].self, forKey: .instances) ?? []
        dependsOn = try c.decodeIfPresent([String].self, forKey: .dependsOn) ?? []
        // Instances nested under a service belong to it.
        for i in instances.indices where instances[i].service.isEmpty { instances[i].service = name }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(instances, forKey: .instances)
        if !dependsOn.isEmpty { try c.encode(dependsOn, forKey: .dependsOn) }
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
    /// The node the instance runs on (a Swarm node); nil on one Docker host.
    public var node: String?
    /// Status only: since when (RFC 3339 UTC) the project's balancer keeps it out of
    /// rotation because someone drained it by hand (`HandDrain`); nil otherwise.
    public var drainedByHand: String?

    public init(
        id: String, service: String, revision: Revision, commit: String? = nil, image: String? = nil,
        state: State, exitCode: Int? = nil, restartCount: Int = 0, created: String? = nil, node: String? = nil
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
        self.node = node
    }

    /// Exited or unhealthy: an instance the planner replaces (restart policy permitting).
    public var isFailing: Bool { state == .exited || state == .unhealthy }

    /// Why this instance is failing, for people: "booking-3f2a exited with code 137,
    /// restarted 4 times", "booking-9c1d is unhealthy". Nil when it is not failing.
    public var failureDescription: String? {
        var text: String
        switch state {
        case .running, .starting: return nil
        case .unhealthy: text = "\(id) is unhealthy"
        case .exited: text = exitCode.map { "\(id) exited with code \($0)" } ?? "\(id) exited"
        }
        if restartCount > 0 {
            text += ", restarted \(restartCount) time\(restartCount == 1 ? "" : "s")"
        }
        return text
    }

    /// The per-instance `health` word of the status shape.
    public var healthWord: String {
        switch state {
        case .running: "healthy"
        case .starting: "starting"
        case .unhealthy: "unhealthy"
        case .exited: "exited"
        }
    }

    enum CodingKeys: String, CodingKey {
        case id, service, revision, commit, image, state, health, exitCode, restartCount, created, node, drainedByHand
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        service = try c.decodeIfPresent(String.self, forKey: .service) ?? ""
        revision = Revision(try c.decode(String.self, forKey: .revision))
        commit = try c.decodeIfPresent(String.self, forKey: .commit)
        image = try c.decodeIfPresent(String.self, forKey: .image)
        state = try c.decode(State.self, forKey: .state)
        exitCode = try c.decodeIfPresent(Int.self, forKey: .exitCode)
        restartCount = try c.decodeIfPresent(Int.self, forKey: .restartCount) ?? 0
        created = try c.decodeIfPresent(String.self, forKey: .created)
        node = try c.decodeIfPresent(String.self, forKey: .node)
        drainedByHand = try c.decodeIfPresent(String.self, forKey: .drainedByHand)
    }

    /// The status shape nests instances under their service, so `service` is left out;
    /// `node` only when set (never on one Docker host).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(revision.id, forKey: .revision)
        try c.encodeIfPresent(commit, forKey: .commit)
        try c.encodeIfPresent(image, forKey: .image)
        try c.encode(state, forKey: .state)
        try c.encode(healthWord, forKey: .health)
        try c.encodeIfPresent(exitCode, forKey: .exitCode)
        try c.encode(restartCount, forKey: .restartCount)
        try c.encodeIfPresent(created, forKey: .created)
        try c.encodeIfPresent(node, forKey: .node)
        try c.encodeIfPresent(drainedByHand, forKey: .drainedByHand)
    }
}
