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
public struct ServiceSpec: Sendable, Codable {
    public var name: String { didSet { cachedRevision = nil } }
    public var labels: [String: String] { didSet { cachedRevision = nil } }
    public var image: String { didSet { cachedRevision = nil } }
    public var replicas: Int
    public var command: [String]? { didSet { cachedRevision = nil } }
    public var env: [String: String] { didSet { cachedRevision = nil } }
    public var ports: [PortSpec] { didSet { cachedRevision = nil } }
    public var dependsOn: [String] { didSet { cachedRevision = nil } }
    public var health: HealthCheck? { didSet { cachedRevision = nil } }
    public var update: UpdatePolicy { didSet { cachedRevision = nil } }
    public var stopGracePeriod: Millis { didSet { cachedRevision = nil } }
    public var restart: RestartPolicy { didSet { cachedRevision = nil } }
    public var resources: Resources? { didSet { cachedRevision = nil } }
    public var autoscale: Autoscale?
    public var source: SourceRef?
    /// The revision, computed once by the manifest loader so that planning the same desired
    /// state again (the reconcile loop does, on every pass) does not hash every service
    /// again. Any change to a field that enters the revision clears it (`replicas`,
    /// `autoscale` and `source` do not enter it). Not encoded, not part of equality.
    var cachedRevision: Revision?

    enum CodingKeys: String, CodingKey {
        case name, labels, image, replicas, command, env, ports, dependsOn, health, update,
            stopGracePeriod, restart, resources, autoscale, source
    }

    mutating func memoizeRevision() {
        cachedRevision = Revision(of: self)
    }

    public init(
        name: String, labels: [String: String] = [:], image: String, replicas: Int = 1,
        command: [String]? = nil, env: [String: String] = [:], ports: [PortSpec] = [],
        dependsOn: [String] = [], health: HealthCheck? = nil, update: UpdatePolicy = .init(),
        stopGracePeriod: Millis = .seconds(10), restart: RestartPolicy = .always,
        resources: Resources? = nil, autoscale: Autoscale? = nil, source: SourceRef? = nil
    ) {
        self.name = name
        self.labels = labels
        self.image = image
        self.replicas = replicas
        self.command = command
        self.env = env
        self.ports = ports
        self.dependsOn = dependsOn
        self.health = health
        self.update = update
        self.stopGracePeriod = stopGracePeriod
        self.restart = restart
        self.resources = resources
        self.autoscale = autoscale
        self.source = source
    }
}

extension ServiceSpec: Hashable {
    public static func == (a: ServiceSpec, b: ServiceSpec) -> Bool {
        a.name == b.name && a.labels == b.labels && a.image == b.image && a.replicas == b.replicas
            && a.command == b.command && a.env == b.env && a.ports == b.ports
            && a.dependsOn == b.dependsOn && a.health == b.health && a.update == b.update
            && a.stopGracePeriod == b.stopGracePeriod && a.restart == b.restart
            && a.resources == b.resources && a.autoscale == b.autoscale
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
    public init(containerPort: Int, publish: Int? = nil) {
        self.containerPort = containerPort
        self.publish = publish
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
    /// (as Kubernetes does).
    public func resolve(replicas: Int, roundUp: Bool) -> Int {
        switch self {
        case .count(let n): return n
        case .percent(let p):
            let scaled = replicas * p
            return roundUp ? (scaled + 99) / 100 : scaled / 100
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
