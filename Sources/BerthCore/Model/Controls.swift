/// What an operator set by hand on top of git, per project: `berth rollback` pins a
/// service to a revision from its history, `berth scale` overrides its replica count for a
/// while, `berth suspend` makes `berth watch` leave a service (or the whole project) alone.
///
/// Stored in `<state-dir>/controls.json` (so they survive restarts and work whether or not
/// `berth watch` runs), read by every sync (`ControlsOverlay`), shown by `status`, `plan`,
/// the API and the metrics. Git stays the source of truth: a pin ends when a newer commit
/// changes the service's revision, a replica override when a newer commit changes the
/// service at all; a suspension lasts until `berth resume`.
public struct ProjectControls: Sendable, Hashable, Codable {
    /// The whole project: watch changes nothing while set.
    public var suspended: ControlMark?
    public var services: [String: ServiceControl]

    public init(suspended: ControlMark? = nil, services: [String: ServiceControl] = [:]) {
        self.suspended = suspended
        self.services = services
    }

    public var isEmpty: Bool { suspended == nil && services.values.allSatisfy(\.isEmpty) }

    /// The service's controls (empty when none).
    public subscript(service name: String) -> ServiceControl {
        get { services[name] ?? ServiceControl() }
        set { services[name] = newValue.isEmpty ? nil : newValue }
    }

    /// Why watch leaves `service` alone now: its own suspension, else the project's; nil when it does not.
    public func suspension(of service: String) -> ControlMark? { services[service]?.suspended ?? suspended }

    /// Services with a control, sorted by name.
    public var serviceNames: [String] { services.filter { !$0.value.isEmpty }.keys.sorted() }

    /// Pins and overrides that `desired` no longer leaves in force: a pin whose service's
    /// revision in git changed since it was set (or whose service is gone), an override whose
    /// service changed in git at all. Sorted by service.
    public func released(by desired: DesiredState) -> [ReleasedControl] {
        var out: [ReleasedControl] = []
        for name in serviceNames {
            let control = services[name]!
            let spec = desired.services[name]
            if let pin = control.pin, spec?.revision.id != pin.gitRevision {
                out.append(ReleasedControl(service: name, kind: .pin, reason: spec == nil
                    ? "\(name) is no longer in git"
                    : "commit \(Self.short(desired.commit)) changes \(name) (revision \(spec!.revision.id))"))
            }
            if let scale = control.scale, spec != scale.gitSpec {
                out.append(ReleasedControl(service: name, kind: .scale, reason: spec == nil
                    ? "\(name) is no longer in git"
                    : "commit \(Self.short(desired.commit)) changes \(name)"))
            }
        }
        return out
    }

    /// These controls without `released`.
    public func removing(_ released: [ReleasedControl]) -> ProjectControls {
        var out = self
        for r in released {
            switch r.kind {
            case .pin: out[service: r.service].pin = nil
            case .scale: out[service: r.service].scale = nil
            }
        }
        return out
    }

    static func short(_ commit: String?) -> String { commit.map { String($0.prefix(7)) } ?? "(no commit)" }

    enum CodingKeys: String, CodingKey { case formatVersion, suspended, services }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let version = try c.decodeIfPresent(Int.self, forKey: .formatVersion), version != 1 {
            throw DecodingError.dataCorruptedError(
                forKey: .formatVersion, in: c, debugDescription: "formatVersion \(version) is not supported (this berth reads 1)")
        }
        suspended = try c.decodeIfPresent(ControlMark.self, forKey: .suspended)
        services = try c.decodeIfPresent([String: ServiceControl].self, forKey: .services) ?? [:]
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(1, forKey: .formatVersion)
        try c.encodeIfPresent(suspended, forKey: .suspended)
        try c.encode(services.filter { !$0.value.isEmpty }, forKey: .services)
    }
}

/// Who set a control, and when.
public struct ControlMark: Sendable, Hashable, Codable {
    /// `user@host`.
    public var by: String
    /// RFC 3339 UTC.
    public var at: String

    public init(by: String, at: String) {
        self.by = by
        self.at = at
    }

    /// `suspended by X at T: berth watch leaves it alone until berth resume` (`project
    /// suspended by …` when the whole project is): what status and the web UI say.
    public func suspensionSentence(project: Bool) -> String {
        "\(project ? "project suspended" : "suspended") by \(by) at \(at): berth watch leaves it alone until berth resume"
    }
}

/// One service's controls.
public struct ServiceControl: Sendable, Hashable, Codable {
    public var suspended: ControlMark?
    public var pin: Pin?
    public var scale: ReplicaOverride?

    public init(suspended: ControlMark? = nil, pin: Pin? = nil, scale: ReplicaOverride? = nil) {
        self.suspended = suspended
        self.pin = pin
        self.scale = scale
    }

    public var isEmpty: Bool { suspended == nil && pin == nil && scale == nil }
}

/// `berth rollback`: the service runs `spec` (a revision from its history) at the count git
/// asks for, until a newer commit changes its revision.
public struct Pin: Sendable, Hashable, Codable {
    /// The spec pinned to, as it was at `commit`.
    public var spec: ServiceSpec
    /// The commit the spec was read from.
    public var commit: String
    /// The service's revision in git when the pin was set; a commit that changes it ends the pin.
    public var gitRevision: String
    public var mark: ControlMark

    public init(spec: ServiceSpec, commit: String, gitRevision: String, mark: ControlMark) {
        self.spec = spec
        self.commit = commit
        self.gitRevision = gitRevision
        self.mark = mark
    }

    public var revision: String { spec.revision.id }

    /// `pinned to revision R (abc1234) by X at T with berth rollback, until a commit changes
    /// its revision`: what status and plan say.
    public var sentence: String { Self.sentence(revision: revision, commit: commit, by: mark.by, at: mark.at) }

    static func sentence(revision: String, commit: String, by: String, at: String) -> String {
        "pinned to revision \(revision) (\(commit.prefix(7))) by \(by) at \(at) with berth rollback, until a commit changes its revision"
    }
}

/// `berth scale`: the service runs `replicas` instances until a newer commit changes it.
public struct ReplicaOverride: Sendable, Hashable, Codable {
    public var replicas: Int
    /// The service as git had it when the override was set; any change ends the override.
    public var gitSpec: ServiceSpec
    public var mark: ControlMark

    public init(replicas: Int, gitSpec: ServiceSpec, mark: ControlMark) {
        self.replicas = replicas
        self.gitSpec = gitSpec
        self.mark = mark
    }

    /// `scaled to 3 by X at T with berth scale (git: 1), until a commit changes it`: what
    /// status and plan say.
    public var sentence: String {
        Self.sentence(replicas: replicas, gitReplicas: gitSpec.replicas, by: mark.by, at: mark.at)
    }

    static func sentence(replicas: Int, gitReplicas: Int, by: String, at: String) -> String {
        "scaled to \(replicas) by \(by) at \(at) with berth scale (git: \(gitReplicas)), until a commit changes it"
    }
}

/// A pin or override that a newer commit ended.
public struct ReleasedControl: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable { case pin, scale }
    public var service: String
    public var kind: Kind
    public var reason: String

    public init(service: String, kind: Kind, reason: String) {
        self.service = service
        self.kind = kind
        self.reason = reason
    }

    /// `booking: pin released: commit 1a2b3c4 changes booking (revision …)`.
    public var sentence: String {
        "\(service): \(kind == .pin ? "rollback pin" : "replica override") released: \(reason)"
    }
}

extension ProjectControls {
    /// The controls `git` leaves in force (`released(by:)` removed).
    public func inForce(_ git: DesiredState) -> ProjectControls { removing(released(by: git)) }

    /// `desired` with every pin and override applied: a pinned service at its pinned spec
    /// with the count (and autoscale) `desired` has, an overridden one at its count. Call it
    /// with controls in force (`inForce`). Pure.
    public func applied(to desired: DesiredState) -> DesiredState {
        var out = desired
        for name in serviceNames {
            guard var spec = desired.services[name] else { continue }
            let control = services[name]!
            if let pin = control.pin {
                let replicas = spec.replicas, autoscale = spec.autoscale
                spec = pin.spec
                spec.replicas = replicas
                spec.autoscale = autoscale
            }
            if let scale = control.scale { spec.replicas = scale.replicas }
            out.services[name] = spec
        }
        return out
    }
}
