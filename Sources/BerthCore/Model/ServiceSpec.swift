/// Where a service was declared: used in messages, ignored by equality.
public struct SourceRef: Sendable, Hashable, Codable, Comparable {
    public var file: String
    public var line: Int
    public var column: Int
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }
    public static func < (a: SourceRef, b: SourceRef) -> Bool {
        (a.file, a.line, a.column) < (b.file, b.line, b.column)
    }
    public var description: String { "\(file):\(line):\(column)" }
}

/// One `berth/v1` Service, decoded and with defaults filled in. Equality and hashing
/// ignore `source`, so a file that moves is the same desired state.
///
/// A value type whose fields live in one shared box (copy on write, as `Array` does): a spec
/// is one pointer wide, so the many copies a load, a plan or a diff makes of 10,000 specs
/// (arrays, dictionaries, plan steps) are a retain each, not a few hundred bytes each.
public struct ServiceSpec: Sendable, Codable {
    /// The stored fields, as a plain struct (its memberwise initialiser builds a spec).
    private struct Fields {
        var name: String
        var labels: [String: String]
        var image: String
        var replicas: Int
        var command: [String]?
        var env: [String: String]
        var ports: [PortSpec]
        var dependsOn: [String]
        var health: HealthCheck?
        var update: UpdatePolicy
        var stopGracePeriod: Millis
        var restart: RestartPolicy
        var resources: Resources?
        var autoscale: Autoscale?
        /// Nil when every setting is its default (most services): one word, no allocation.
        var container: ContainerSettings?
        var source: SourceRef?
        var cachedRevision: Revision?
    }

    /// The fields, shared. Mutated only through `ServiceSpec`'s accessors, and only when
    /// this spec is its sole owner (`unique()`), so sharing it across threads is safe.
    private final class Box: @unchecked Sendable {
        var f: Fields
        init(_ fields: Fields) { f = fields }
    }

    private var box: Box

    /// The box, copied first when another spec shares it.
    @inline(__always)
    private mutating func unique() -> Box {
        if !isKnownUniquelyReferenced(&box) { box = Box(box.f) }
        return box
    }

    public var name: String {
        get { box.f.name }
        _modify {
            let b = unique()
            b.f.cachedRevision = nil
            yield &b.f.name
        }
    }
    public var labels: [String: String] {
        get { box.f.labels }
        _modify {
            let b = unique()
            b.f.cachedRevision = nil
            yield &b.f.labels
        }
    }
    public var image: String {
        get { box.f.image }
        _modify {
            let b = unique()
            b.f.cachedRevision = nil
            yield &b.f.image
        }
    }
    public var replicas: Int {
        get { box.f.replicas }
        _modify { yield &unique().f.replicas }
    }
    public var command: [String]? {
        get { box.f.command }
        _modify {
            let b = unique()
            b.f.cachedRevision = nil
            yield &b.f.command
        }
    }
    public var env: [String: String] {
        get { box.f.env }
        _modify {
            let b = unique()
            b.f.cachedRevision = nil
            yield &b.f.env
        }
    }
    public var ports: [PortSpec] {
        get { box.f.ports }
        _modify {
            let b = unique()
            b.f.cachedRevision = nil
            yield &b.f.ports
        }
    }
    public var dependsOn: [String] {
        get { box.f.dependsOn }
        _modify {
            let b = unique()
            b.f.cachedRevision = nil
            yield &b.f.dependsOn
        }
    }
    public var health: HealthCheck? {
        get { box.f.health }
        _modify {
            let b = unique()
            b.f.cachedRevision = nil
            yield &b.f.health
        }
    }
    public var update: UpdatePolicy {
        get { box.f.update }
        _modify {
            let b = unique()
            b.f.cachedRevision = nil
            yield &b.f.update
        }
    }
    public var stopGracePeriod: Millis {
        get { box.f.stopGracePeriod }
        _modify {
            let b = unique()
            b.f.cachedRevision = nil
            yield &b.f.stopGracePeriod
        }
    }
    public var restart: RestartPolicy {
        get { box.f.restart }
        _modify {
            let b = unique()
            b.f.cachedRevision = nil
            yield &b.f.restart
        }
    }
    public var resources: Resources? {
        get { box.f.resources }
        _modify {
            let b = unique()
            b.f.cachedRevision = nil
            yield &b.f.resources
        }
    }
    public var autoscale: Autoscale? {
        get { box.f.autoscale }
        _modify { yield &unique().f.autoscale }
    }
    /// Entrypoint, user, volumes, secrets and the other container settings (defaults when
    /// none is set).
    public var container: ContainerSettings {
        get { box.f.container ?? .standard }
        _modify {
            let b = unique()
            b.f.cachedRevision = nil
            var settings = b.f.container ?? .standard
            defer { b.f.container = settings == .standard ? nil : settings }
            yield &settings
        }
    }
    /// Whether any container setting differs from its default.
    public var hasContainerSettings: Bool { box.f.container != nil }
    public var source: SourceRef? {
        get { box.f.source }
        _modify { yield &unique().f.source }
    }
    /// The revision, computed once by the manifest loader so that planning the same desired
    /// state again (the reconcile loop does, on every pass) does not hash every service
    /// again. Any change to a field that enters the revision clears it (`replicas`,
    /// `autoscale` and `source` do not enter it). Not encoded, not part of equality.
    var cachedRevision: Revision? {
        get { box.f.cachedRevision }
        _modify { yield &unique().f.cachedRevision }
    }

    enum CodingKeys: String, CodingKey {
        case name, labels, image, replicas, command, env, ports, dependsOn, health, update,
            stopGracePeriod, restart, resources, autoscale, container, source
    }

    mutating func memoizeRevision() {
        let revision = Revision(of: self)
        cachedRevision = revision
    }

    public init(
        name: String, labels: [String: String] = [:], image: String, replicas: Int = 1,
        command: [String]? = nil, env: [String: String] = [:], ports: [PortSpec] = [],
        dependsOn: [String] = [], health: HealthCheck? = nil, update: UpdatePolicy = .init(),
        stopGracePeriod: Millis = .seconds(10), restart: RestartPolicy = .always,
        resources: Resources? = nil, autoscale: Autoscale? = nil, container: ContainerSettings = .standard,
        source: SourceRef? = nil
    ) {
        box = Box(Fields(
            name: name, labels: labels, image: image, replicas: replicas, command: command, env: env,
            ports: ports, dependsOn: dependsOn, health: health, update: update,
            stopGracePeriod: stopGracePeriod, restart: restart, resources: resources,
            autoscale: autoscale, container: container == .standard ? nil : container, source: source,
            cachedRevision: nil))
    }

    // Codable as the compiler synthesised it for the stored fields: optionals with
    // decodeIfPresent/encodeIfPresent, the rest required, in `CodingKeys` order.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            name: try c.decode(String.self, forKey: .name),
            labels: try c.decode([String: String].self, forKey: .labels),
            image: try c.decode(String.self, forKey: .image),
            replicas: try c.decode(Int.self, forKey: .replicas),
            command: try c.decodeIfPresent([String].self, forKey: .command),
            env: try c.decode([String: String].self, forKey: .env),
            ports: try c.decode([PortSpec].self, forKey: .ports),
            dependsOn: try c.decode([String].self, forKey: .dependsOn),
            health: try c.decodeIfPresent(HealthCheck.self, forKey: .health),
            update: try c.decode(UpdatePolicy.self, forKey: .update),
            stopGracePeriod: try c.decode(Millis.self, forKey: .stopGracePeriod),
            restart: try c.decode(RestartPolicy.self, forKey: .restart),
            resources: try c.decodeIfPresent(Resources.self, forKey: .resources),
            autoscale: try c.decodeIfPresent(Autoscale.self, forKey: .autoscale),
            container: try c.decodeIfPresent(ContainerSettings.self, forKey: .container) ?? .standard,
            source: try c.decodeIfPresent(SourceRef.self, forKey: .source))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(labels, forKey: .labels)
        try c.encode(image, forKey: .image)
        try c.encode(replicas, forKey: .replicas)
        try c.encodeIfPresent(command, forKey: .command)
        try c.encode(env, forKey: .env)
        try c.encode(ports, forKey: .ports)
        try c.encode(dependsOn, forKey: .dependsOn)
        try c.encodeIfPresent(health, forKey: .health)
        try c.encode(update, forKey: .update)
        try c.encode(stopGracePeriod, forKey: .stopGracePeriod)
        try c.encode(restart, forKey: .restart)
        try c.encodeIfPresent(resources, forKey: .resources)
        try c.encodeIfPresent(autoscale, forKey: .autoscale)
        try c.encodeIfPresent(box.f.container, forKey: .container)
        try c.encodeIfPresent(source, forKey: .source)
    }
}

extension ServiceSpec: Hashable {
    public static func == (a: ServiceSpec, b: ServiceSpec) -> Bool {
        if a.box === b.box { return true }
        return a.name == b.name && a.labels == b.labels && a.image == b.image && a.replicas == b.replicas
            && a.command == b.command && a.env == b.env && a.ports == b.ports
            && a.dependsOn == b.dependsOn && a.health == b.health && a.update == b.update
            && a.stopGracePeriod == b.stopGracePeriod && a.restart == b.restart
            && a.resources == b.resources && a.autoscale == b.autoscale && a.box.f.container == b.box.f.container
    }
    public func hash(into h: inout Hasher) {
        h.combine(name)
        h.combine(image)
        h.combine(replicas)
    }
}

public struct PortSpec: Sendable, Hashable, Codable {
    public var containerPort: Int
    public var publish: Int?
    /// `tcp` (the default) or `udp`; the balancer is TCP-only, so a UDP port is never published.
    public var `protocol`: PortProtocol
    public init(containerPort: Int, publish: Int? = nil, protocol: PortProtocol = .tcp) {
        self.containerPort = containerPort
        self.publish = publish
        self.protocol = `protocol`
    }

    enum CodingKeys: String, CodingKey { case containerPort, publish, `protocol` }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        containerPort = try c.decode(Int.self, forKey: .containerPort)
        publish = try c.decodeIfPresent(Int.self, forKey: .publish)
        `protocol` = try c.decodeIfPresent(PortProtocol.self, forKey: .protocol) ?? .tcp
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(containerPort, forKey: .containerPort)
        try c.encodeIfPresent(publish, forKey: .publish)
        if `protocol` != .tcp { try c.encode(`protocol`, forKey: .protocol) }
    }
}

public struct HealthCheck: Sendable, Hashable, Codable {
    public enum Probe: Sendable, Hashable, Codable {
        case http(path: String, port: Int)
        case tcp(port: Int)
        case exec(command: [String])
    }
    public var probe: Probe
    public var interval: Millis
    public var timeout: Millis
    public var startPeriod: Millis
    public var failureThreshold: Int

    public init(
        probe: Probe, interval: Millis = .seconds(2), timeout: Millis = .seconds(1),
        startPeriod: Millis = .zero, failureThreshold: Int = 3
    ) {
        self.probe = probe
        self.interval = interval
        self.timeout = timeout
        self.startPeriod = startPeriod
        self.failureThreshold = failureThreshold
    }
}

/// A count or a percentage of the desired replicas (`1`, `"25%"`).
public enum IntOrPercent: Sendable, Hashable, Codable, CustomStringConvertible {
    case count(Int)
    case percent(Int)

    /// Resolves against `replicas`; percentages of surge round up, of unavailability down
    /// (as Kubernetes does). Saturates at `Int.max` / `Int.min` where `resolved` is nil;
    /// the planner refuses such values first (`PlanError.unplannable`).
    public func resolve(replicas: Int, roundUp: Bool) -> Int {
        resolved(replicas: replicas, roundUp: roundUp) ?? ((replicas < 0) != (self.amount < 0) ? .min : .max)
    }

    /// As `resolve`, in checked arithmetic: nil when `replicas × percentage` (rounded)
    /// does not fit in an `Int`.
    public func resolved(replicas: Int, roundUp: Bool) -> Int? {
        switch self {
        case .count(let n): return n
        case .percent(let p):
            let (scaled, overflow) = replicas.multipliedReportingOverflow(by: p)
            guard !overflow else { return nil }
            guard roundUp else { return scaled / 100 }
            let (up, overflowUp) = scaled.addingReportingOverflow(99)
            return overflowUp ? nil : up / 100
        }
    }

    private var amount: Int {
        switch self {
        case .count(let n), .percent(let n): n
        }
    }

    public var description: String {
        switch self {
        case .count(let n): "\(n)"
        case .percent(let p): "\(p)%"
        }
    }
}

public struct UpdatePolicy: Sendable, Hashable, Codable {
    public enum Strategy: String, Sendable, Hashable, Codable { case rolling, recreate }
    public enum OnFailure: String, Sendable, Hashable, Codable { case rollback, pause }
    public var strategy: Strategy
    public var maxSurge: IntOrPercent
    public var maxUnavailable: IntOrPercent
    public var progressDeadline: Millis
    public var onFailure: OnFailure

    public init(
        strategy: Strategy = .rolling, maxSurge: IntOrPercent = .count(1),
        maxUnavailable: IntOrPercent = .count(0), progressDeadline: Millis = .seconds(120),
        onFailure: OnFailure = .rollback
    ) {
        self.strategy = strategy
        self.maxSurge = maxSurge
        self.maxUnavailable = maxUnavailable
        self.progressDeadline = progressDeadline
        self.onFailure = onFailure
    }
}

public enum RestartPolicy: String, Sendable, Hashable, Codable {
    case always
    case onFailure = "on-failure"
    case never
}

public struct Resources: Sendable, Hashable, Codable {
    /// CPUs as thousandths (0.5 → 500), so equality is exact.
    public var milliCPUs: Int?
    /// Bytes.
    public var memory: Int64?
    public init(milliCPUs: Int? = nil, memory: Int64? = nil) {
        self.milliCPUs = milliCPUs
        self.memory = memory
    }
}

public struct Autoscale: Sendable, Hashable, Codable {
    public var min: Int
    public var max: Int
    public var targetRequestsPerSecond: Int?
    public var scaleDownDelay: Millis
    public init(min: Int, max: Int, targetRequestsPerSecond: Int? = nil, scaleDownDelay: Millis = .seconds(60)) {
        self.min = min
        self.max = max
        self.targetRequestsPerSecond = targetRequestsPerSecond
        self.scaleDownDelay = scaleDownDelay
    }
}
