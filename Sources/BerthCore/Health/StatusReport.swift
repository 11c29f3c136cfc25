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

        enum CodingKeys: String, CodingKey {
            case name, image, revision, desiredReplicas, readyReplicas, instances, dependsOn, sync, health, message,
                autoscale
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
        }
    }

    public var project: String
    public var services: [Service]

    /// Every service desired or observed, sorted by name; instances sorted by id. Autoscaled
    /// services are judged at the count `AutoscaledReplicas` gives (the autoscaler's
    /// `decided` counts, else what runs within the bounds), with the measured `rates` and
    /// each one's last decision (`decisions`, a sentence).
    public init(
        desired unscaled: DesiredState, observed: ObservedState, decided: [String: Int] = [:],
        rates: [String: MeasuredRate] = [:], decisions: [String: String] = [:]
    ) {
        let desired = unscaled.autoscaled(observed: observed, decided: decided)
        project = observed.project
        let byName = observed.servicesByName
        let names = Set(desired.services.keys).union(byName.keys).sorted()
        services = names.map { name in
            let spec = desired.services[name]
            let seen = byName[name]?.normalized ?? ObservedService(name: name)
            let health = ServiceHealth.assess(desired: spec, instances: seen.instances)
            return Service(
                name: name,
                image: spec?.image ?? seen.instances.first?.image ?? "",
                revision: spec?.revision.id ?? "",
                desiredReplicas: health.desiredReplicas,
                readyReplicas: health.readyReplicas,
                instances: seen.instances,
                dependsOn: spec?.dependsOn.sorted() ?? seen.dependsOn,
                sync: health.sync,
                health: health.status,
                message: health.message,
                autoscale: spec?.autoscale.map {
                    AutoscaleStatus($0, replicas: health.desiredReplicas, rate: rates[name], lastDecision: decisions[name])
                })
        }
    }

    enum CodingKeys: String, CodingKey { case formatVersion, project, services }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(1, forKey: .formatVersion)
        try c.encode(project, forKey: .project)
        try c.encode(services, forKey: .services)
    }
}
