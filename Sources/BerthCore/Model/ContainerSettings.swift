/// The container settings real workloads need beyond image, command and env: how the image
/// is pulled, volumes, secrets, entrypoint, user, working directory, env files, a read-only
/// root filesystem, capabilities and an init process. Every one of them needs new
/// containers, so each enters the revision; a default one leaves it as it was (services
/// written before these fields existed keep their revisions).
///
/// Secret *values* are never here: only their names, where they go, and the id of the
/// encrypted file they come from (`secretVersions`, filled in from git), so a spec can be
/// printed, diffed, journalled and recorded in a label without carrying a secret.
public struct ContainerSettings: Sendable, Hashable, Codable {
    public var pullPolicy: PullPolicy = .ifNotPresent
    public var entrypoint: [String]?
    public var user: String?
    public var workingDir: String?
    /// The root filesystem read-only (`readOnly: true`).
    public var readOnlyRootFilesystem = false
    public var capabilities: Capabilities?
    /// An init process as PID 1 (Docker's `--init`), which reaps zombies and forwards signals.
    public var initProcess = false
    public var volumes: [VolumeMount] = []
    /// `envFrom` files (repository paths), in the order given; their variables are merged
    /// into `env` when the desired state is read from git (`env` written in the manifest wins).
    public var envFiles: [String] = []
    /// Env variables whose value comes from a secret: variable → secret name.
    public var secretEnv: [String: String] = [:]
    /// Secrets mounted as files.
    public var secretFiles: [SecretMount] = []
    /// Secret name → the git blob id of its encrypted file at the commit read, so that a
    /// changed secret rolls out (and `diff` can say so without showing anything).
    public var secretVersions: [String: String] = [:]

    public init() {}

    public static let standard = ContainerSettings()

    /// Every secret the service uses (env and files), sorted, each once.
    public var secretNames: [String] {
        Array(Set(secretEnv.values).union(secretFiles.map(\.name))).sorted()
    }

    enum CodingKeys: String, CodingKey {
        case pullPolicy, entrypoint, user, workingDir, readOnly, capabilities, `init`, volumes, envFrom, secretEnv,
            secrets, secretVersions
    }

    // Absent keys are defaults, and defaults are left out: a `berth.spec` label written
    // before these fields existed still reads.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        pullPolicy = try c.decodeIfPresent(PullPolicy.self, forKey: .pullPolicy) ?? .ifNotPresent
        entrypoint = try c.decodeIfPresent([String].self, forKey: .entrypoint)
        user = try c.decodeIfPresent(String.self, forKey: .user)
        workingDir = try c.decodeIfPresent(String.self, forKey: .workingDir)
        readOnlyRootFilesystem = try c.decodeIfPresent(Bool.self, forKey: .readOnly) ?? false
        capabilities = try c.decodeIfPresent(Capabilities.self, forKey: .capabilities)
        initProcess = try c.decodeIfPresent(Bool.self, forKey: .`init`) ?? false
        volumes = try c.decodeIfPresent([VolumeMount].self, forKey: .volumes) ?? []
        envFiles = try c.decodeIfPresent([String].self, forKey: .envFrom) ?? []
        secretEnv = try c.decodeIfPresent([String: String].self, forKey: .secretEnv) ?? [:]
        secretFiles = try c.decodeIfPresent([SecretMount].self, forKey: .secrets) ?? []
        secretVersions = try c.decodeIfPresent([String: String].self, forKey: .secretVersions) ?? [:]
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        if pullPolicy != .ifNotPresent { try c.encode(pullPolicy, forKey: .pullPolicy) }
        try c.encodeIfPresent(entrypoint, forKey: .entrypoint)
        try c.encodeIfPresent(user, forKey: .user)
        try c.encodeIfPresent(workingDir, forKey: .workingDir)
        if readOnlyRootFilesystem { try c.encode(true, forKey: .readOnly) }
        try c.encodeIfPresent(capabilities, forKey: .capabilities)
        if initProcess { try c.encode(true, forKey: .`init`) }
        if !volumes.isEmpty { try c.encode(volumes, forKey: .volumes) }
        if !envFiles.isEmpty { try c.encode(envFiles, forKey: .envFrom) }
        if !secretEnv.isEmpty { try c.encode(secretEnv, forKey: .secretEnv) }
        if !secretFiles.isEmpty { try c.encode(secretFiles, forKey: .secrets) }
        if !secretVersions.isEmpty { try c.encode(secretVersions, forKey: .secretVersions) }
    }

    /// The lines these settings add to `ServiceSpec.canonicalTemplate` (empty when default),
    /// sorted where order means nothing.
    public var canonicalLines: String {
        guard self != .standard else { return "" }
        var out = ""
        if pullPolicy != .ifNotPresent { out += "pullPolicy=\(pullPolicy.rawValue)\n" }
        if let entrypoint { out += "entrypoint=\(entrypoint.map(ServiceSpec.quote).joined(separator: " "))\n" }
        if let user { out += "user=\(ServiceSpec.quote(user))\n" }
        if let workingDir { out += "workingDir=\(ServiceSpec.quote(workingDir))\n" }
        if readOnlyRootFilesystem { out += "readOnly=true\n" }
        if let capabilities {
            out += "capabilities=add:\(capabilities.add.joined(separator: ","))/drop:\(capabilities.drop.joined(separator: ","))\n"
        }
        if initProcess { out += "init=true\n" }
        for v in volumes { out += "volume=\(v.canonical)\n" }
        for f in envFiles { out += "envFrom=\(ServiceSpec.quote(f))\n" }
        for (k, v) in secretEnv.sorted(by: { $0.key < $1.key }) { out += "secretEnv.\(k)=\(v)\n" }
        for s in secretFiles.sorted(by: { $0.mountPath < $1.mountPath }) { out += "secretFile=\(s.name):\(ServiceSpec.quote(s.mountPath))\n" }
        for (k, v) in secretVersions.sorted(by: { $0.key < $1.key }) { out += "secretVersion.\(k)=\(v)\n" }
        return out
    }
}

/// When the image is pulled from its registry.
public enum PullPolicy: String, Sendable, Hashable, Codable {
    /// Only when the engine does not have the image (for a digest: that digest).
    case ifNotPresent = "IfNotPresent"
    /// Every time a revision is rolled out (new instances), so a moved tag is picked up.
    case always = "Always"
}

/// Linux capabilities to add and drop (`ALL`, `NET_BIND_SERVICE`, …), upper case, without
/// the `CAP_` prefix, sorted.
public struct Capabilities: Sendable, Hashable, Codable {
    public var add: [String]
    public var drop: [String]
    public init(add: [String] = [], drop: [String] = []) {
        self.add = add
        self.drop = drop
    }
}

/// A volume mounted into every replica: a named volume of the project, or a host path.
public struct VolumeMount: Sendable, Hashable, Codable {
    public enum Source: Sendable, Hashable, Codable {
        /// A named volume of the project (Docker: `<project>_<name>`).
        case named(String)
        /// A host path (absolute, checked).
        case host(String)
    }
    public var source: Source
    public var mountPath: String
    public var readOnly: Bool
    /// A named volume only one container may use at a time (a database's data): the
    /// service runs at most one replica and updates by recreate (see README).
    public var singleWriter: Bool

    public init(source: Source, mountPath: String, readOnly: Bool = false, singleWriter: Bool = false) {
        self.source = source
        self.mountPath = mountPath
        self.readOnly = readOnly
        self.singleWriter = singleWriter
    }

    /// The volume's name when it is a named one.
    public var volumeName: String? {
        if case .named(let n) = source { return n }
        return nil
    }

    var canonical: String {
        let from: String
        switch source {
        case .named(let n): from = "name:\(n)"
        case .host(let p): from = "host:\(ServiceSpec.quote(p))"
        }
        return "\(from)>\(ServiceSpec.quote(mountPath))\(readOnly ? ":ro" : "")\(singleWriter ? ":single-writer" : "")"
    }
}

/// A secret mounted as a file (read-only, on tmpfs).
public struct SecretMount: Sendable, Hashable, Codable {
    public var name: String
    public var mountPath: String
    public init(name: String, mountPath: String) {
        self.name = name
        self.mountPath = mountPath
    }
}

/// A port's transport protocol.
public enum PortProtocol: String, Sendable, Hashable, Codable {
    case tcp, udp
}
