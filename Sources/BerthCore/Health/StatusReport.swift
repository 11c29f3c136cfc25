/// The `status` document of DESIGN.md: per service, desired vs observed, sync and health.
///
/// `{"formatVersion": 1, "project": …, "services": [{"name", "image", "revision",
/// "desiredReplicas", "readyReplicas", "instances": [...], "sync", "health", "message"}]}`.
/// `ObservedState` decodes this same document (ignoring the desired-state fields), which is
/// what `--observed FILE` reads.
public struct StatusReport: Sendable, Hashable, Encodable {
    public struct Service: Sendable, Hashable, Encodable {
        public var name: String
        public var image: String
        public var revision: String
        public var desiredReplicas: Int
        public var readyReplicas: Int
        public var instances: [Instance]
        public var dependsOn: [String]
        public var sync: SyncStatus
        public var health: HealthStatus
        public var message: String
        /// Only for services with `autoscale` (see `AutoscaleStatus`).
        public var autoscale: AutoscaleStatus?
        /// Its rollout of git's revision failed: what runs is the revision it was rolled back to.
        public var heldBack: HeldRollout?
        /// The newest commit has manifest errors and this service differs from it: held back as it runs.
        public var invalidCommit: InvalidCommitMark?
        /// `berth rollback` pinned it to an earlier revision, until a commit changes its revision.
        public var pinned: PinStatus?
        /// `berth scale` overrides git's count, until a commit changes the service.
        public var scaled: ScaleStatus?
        /// `berth suspend` (of it, or of the whole project): watch leaves it alone.
        public var suspended: ControlMark?
        /// Why what runs differs from git, one sentence each, in the order `message` ends
        /// with them (held back, invalid commit, pinned, scaled, suspended). Not encoded: the
        /// JSON has them in `message` and in the fields above.
        public var notes: [String] = []

        /// `message` without `notes`: the health sentence alone.
        public var healthMessage: String {
            let tail = notes.joined(separator: "; ")
            guard !notes.isEmpty, message.hasSuffix(tail) else { return message }
            var head = message.dropLast(tail.count)
            if head.hasSuffix("; ") { head = head.dropLast(2) }
            return String(head)
        }

        enum CodingKeys: String, CodingKey {
            case name, image, revision, desiredReplicas, readyReplicas, instances, dependsOn, sync, health, message,
                autoscale
            case heldBack, invalidCommit, pinned, scaled, suspended
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(image, forKey: .image)
            try c.encode(revision, forKey: .revision)
            try c.encode(desiredReplicas, forKey: .desiredReplicas)
            try c.encode(readyReplicas, forKey: .readyReplicas)
            try c.encode(instances, forKey: .instances)
            if !dependsOn.isEmpty { try c.encode(dependsOn, forKey: .dependsOn) }
            try c.encode(sync, forKey: .sync)
            try c.encode(health, forKey: .health)
            try c.encode(message, forKey: .message)
            try c.encodeIfPresent(autoscale, forKey: .autoscale)
            try c.encodeIfPresent(heldBack, forKey: .heldBack)
            try c.encodeIfPresent(invalidCommit, forKey: .invalidCommit)
            try c.encodeIfPresent(pinned, forKey: .pinned)
            try c.encodeIfPresent(scaled, forKey: .scaled)
            try c.encodeIfPresent(suspended, forKey: .suspended)
        }
    }

    /// `{"commit", "errors"}`: the invalid newest commit a service is held back from.
    public struct InvalidCommitMark: Sendable, Hashable, Codable {
        public var commit: String?
        public var errors: Int
    }

    /// `{"revision", "commit", "gitRevision", "by", "at"}`: `berth rollback`'s pin in force.
    public struct PinStatus: Sendable, Hashable, Codable {
        public var revision: String
        public var commit: String
        public var gitRevision: String
        public var by: String
        public var at: String

        /// `Pin.sentence`: what status, plan and the web UI say.
        public var sentence: String { Pin.sentence(revision: revision, commit: commit, by: by, at: at) }
    }

    /// `{"replicas", "gitReplicas", "by", "at"}`: `berth scale`'s override in force.
    public struct ScaleStatus: Sendable, Hashable, Codable {
        public var replicas: Int
        public var gitReplicas: Int
        public var by: String
        public var at: String

        /// `ReplicaOverride.sentence`: what status, plan and the web UI say.
        public var sentence: String {
            ReplicaOverride.sentence(replicas: replicas, gitReplicas: gitReplicas, by: by, at: at)
        }
    }

    public var project: String
    public var services: [Service]

    /// Every service desired or observed, sorted by name; instances sorted by id. Autoscaled
    /// services are judged at the count `AutoscaledReplicas` gives (the autoscaler's
    /// `decided` counts, else what runs within the bounds), with the measured `rates` and
    /// each one's last decision (`decisions`, a sentence). With a `context` (held-back
    /// rollouts), or a desired state with errors, what serves is assessed as what Berth means
    /// to run (`StatusAssessment`), and the message says why it differs from git.
    public init(
        desired unscaled: DesiredState, observed: ObservedState, decided: [String: Int] = [:],
        rates: [String: MeasuredRate] = [:], decisions: [String: String] = [:], context: StatusContext = StatusContext()
    ) {
        let desired = unscaled.autoscaled(observed: observed, decided: decided)
        project = observed.project
        suspended = context.controls.suspended
        let byName = observed.servicesByName
        let names = Set(desired.services.keys).union(byName.keys).sorted()
        services = names.map { name in
            let seen = byName[name]?.normalized ?? ObservedService(name: name)
            var row = StatusAssessment.service(
                name, desired: desired, spec: desired.services[name], observed: seen, context: context)
            row.autoscale = desired.services[name]?.autoscale.map {
                AutoscaleStatus($0, replicas: row.desiredReplicas, rate: rates[name], lastDecision: decisions[name])
            }
            return row
        }
    }

    /// The whole project is suspended (`berth suspend` with no service): who, when.
    public var suspended: ControlMark?

    enum CodingKeys: String, CodingKey { case formatVersion, project, services, suspended }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(1, forKey: .formatVersion)
        try c.encode(project, forKey: .project)
        try c.encode(services, forKey: .services)
        try c.encodeIfPresent(suspended, forKey: .suspended)
    }
}
