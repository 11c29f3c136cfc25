/// One field that differs, with its dotted path and the values on both sides (`null` when the
/// field is absent on that side). Environment values of secret keys are masked.
public struct FieldChange: Sendable, Hashable, Codable {
    public var path: String
    public var from: JSONValue
    public var to: JSONValue
    public init(path: String, from: JSONValue, to: JSONValue) {
        self.path = path
        self.from = from
        self.to = to
    }
}

/// How one service differs between two desired states.
public struct ServiceChange: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, Comparable {
        case added, removed, changed
        public static func < (a: Kind, b: Kind) -> Bool { a.rawValue < b.rawValue }
    }
    public var service: String
    public var kind: Kind
    /// Sorted by path. For an added service every field it sets (`from` null); for a removed
    /// one every field it had (`to` null).
    public var fields: [FieldChange]
    public init(service: String, kind: Kind, fields: [FieldChange]) {
        self.service = service
        self.kind = kind
        self.fields = fields
    }
}

/// The field-level difference between two desired states. Services are paired by name, not
/// by file, so moving or renaming a file changes nothing. Values are compared after defaults
/// are filled in, so a default spelled out is no change. Sorted by service, then path.
public struct DesiredStateDiff: Sendable, Hashable, Codable {
    public var changes: [ServiceChange]

    public init(changes: [ServiceChange] = []) { self.changes = changes }

    public var isEmpty: Bool { changes.isEmpty }

    public var summary: (added: Int, removed: Int, changed: Int) {
        (changes.count { $0.kind == .added }, changes.count { $0.kind == .removed }, changes.count { $0.kind == .changed })
    }

    public init(from old: [String: ServiceSpec], to new: [String: ServiceSpec]) {
        var changes: [ServiceChange] = []
        for name in Set(old.keys).union(new.keys).sorted() {
            switch (old[name], new[name]) {
            case (nil, let added?):
                let fields = FieldFlattener.flatten(added).map { FieldChange(path: $0.key, from: .null, to: Self.masked($0.key, $0.value)) }
                changes.append(ServiceChange(service: name, kind: .added, fields: fields.sorted { $0.path < $1.path }))
            case (let removed?, nil):
                let fields = FieldFlattener.flatten(removed).map { FieldChange(path: $0.key, from: Self.masked($0.key, $0.value), to: .null) }
                changes.append(ServiceChange(service: name, kind: .removed, fields: fields.sorted { $0.path < $1.path }))
            case (let a?, let b?):
                guard a != b else { continue }
                let fa = FieldFlattener.flatten(a), fb = FieldFlattener.flatten(b)
                var fields: [FieldChange] = []
                for path in Set(fa.keys).union(fb.keys).sorted() {
                    let x = fa[path] ?? .null, y = fb[path] ?? .null
                    guard x != y else { continue }
                    if path.hasPrefix("secret.") {
                        let (f, t) = FieldFlattener.maskedSecretContent(from: x, to: y)
                        fields.append(FieldChange(path: path, from: f, to: t))
                    } else {
                        fields.append(FieldChange(path: path, from: Self.masked(path, x), to: Self.masked(path, y)))
                    }
                }
                if !fields.isEmpty { changes.append(ServiceChange(service: name, kind: .changed, fields: fields)) }
            case (nil, nil): continue
            }
        }
        self.changes = changes
    }

    public init(from old: DesiredState, to new: DesiredState) {
        self.init(from: old.services, to: new.services)
    }

    /// Secrets are compared in clear (a changed secret is a change) but shown masked: env
    /// values and labels by key or by value, command arguments by value (`Secrets`).
    private static func masked(_ path: String, _ value: JSONValue) -> JSONValue {
        if path.hasPrefix("secret.") { return FieldFlattener.maskedSecretContent(from: .null, to: value).1 }
        for prefix in ["spec.env.", "metadata.labels."] where path.hasPrefix(prefix) {
            guard case .string(let text) = value else { return value }
            return .string(Secrets.display(envKey: String(path.dropFirst(prefix.count)), value: text))
        }
        guard path == "spec.command" || path == "spec.health.exec" else { return value }
        return maskedStrings(value)
    }

    private static func maskedStrings(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let text): .string(Secrets.display(value: text))
        case .array(let items): .array(items.map(maskedStrings))
        case .object(let fields): .object(fields.mapValues(maskedStrings))
        case .null, .bool, .int: value
        }
    }

    /// Only the changes of `service`.
    public func only(_ service: String) -> DesiredStateDiff {
        DesiredStateDiff(changes: changes.filter { $0.service == service })
    }
}

/// A service spec as a flat map of dotted paths to values: scalars and lists are leaves;
/// maps (`labels`, `env`) expand one key per path so a single variable's change is visible.
/// Values are raw (env secrets unmasked): mask before showing.
/// The paths follow the manifest's spelling.
public enum FieldFlattener {
    public static func flatten(_ s: ServiceSpec) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for (key, value) in s.labels { out["metadata.labels.\(key)"] = .string(value) }
        out["spec.image"] = .string(s.image)
        out["spec.replicas"] = .int(s.replicas)
        if let command = s.command { out["spec.command"] = .array(command.map(JSONValue.string)) }
        for (key, value) in s.env { out["spec.env.\(key)"] = .string(value) }
        if !s.ports.isEmpty {
            out["spec.ports"] = .array(s.ports.map { port in
                var o: [String: JSONValue] = ["containerPort": .int(port.containerPort)]
                if let publish = port.publish { o["publish"] = .int(publish) }
                if port.protocol == .udp { o["protocol"] = .string("udp") }
                return .object(o)
            })
        }
        if !s.dependsOn.isEmpty { out["spec.dependsOn"] = .array(s.dependsOn.map(JSONValue.string)) }
        if let h = s.health {
            switch h.probe {
            case .http(let path, let port): out["spec.health.http"] = .object(["path": .string(path), "port": .int(port)])
            case .tcp(let port): out["spec.health.tcp"] = .object(["port": .int(port)])
            case .exec(let command): out["spec.health.exec"] = .object(["command": .array(command.map(JSONValue.string))])
            }
            out["spec.health.interval"] = .string(h.interval.description)
            out["spec.health.timeout"] = .string(h.timeout.description)
            out["spec.health.startPeriod"] = .string(h.startPeriod.description)
            out["spec.health.failureThreshold"] = .int(h.failureThreshold)
        }
        out["spec.update.strategy"] = .string(s.update.strategy.rawValue)
        out["spec.update.maxSurge"] = intOrPercent(s.update.maxSurge)
        out["spec.update.maxUnavailable"] = intOrPercent(s.update.maxUnavailable)
        out["spec.update.progressDeadline"] = .string(s.update.progressDeadline.description)
        out["spec.update.onFailure"] = .string(s.update.onFailure.rawValue)
        out["spec.stopGracePeriod"] = .string(s.stopGracePeriod.description)
        out["spec.restart"] = .string(s.restart.rawValue)
        if let r = s.resources {
            if let cpus = r.milliCPUs { out["spec.resources.cpus"] = .string(milliCPUText(cpus)) }
            if let memory = r.memory { out["spec.resources.memory"] = .int(Int(memory)) }
        }
        if let a = s.autoscale {
            out["spec.autoscale.min"] = .int(a.min)
            out["spec.autoscale.max"] = .int(a.max)
            if let rps = a.targetRequestsPerSecond { out["spec.autoscale.targetRequestsPerSecond"] = .int(rps) }
            out["spec.autoscale.scaleDownDelay"] = .string(a.scaleDownDelay.description)
        }
        flatten(s.container, into: &out)
        return out
    }

    static func intOrPercent(_ v: IntOrPercent) -> JSONValue {
        switch v {
        case .count(let n): .int(n)
        case .percent: .string(v.description)
        }
    }

    /// 500 → "0.5", 2000 → "2", 1250 → "1.25"; any `Int`, the negative ones included (a
    /// desired state not from a manifest may hold one).
    static func milliCPUText(_ m: Int) -> String {
        let magnitude = m.magnitude
        let whole = magnitude / 1000, fraction = magnitude % 1000
        let sign = m < 0 ? "-" : ""
        guard fraction != 0 else { return "\(sign)\(whole)" }
        var digits = String(fraction)
        digits = String(repeating: "0", count: 3 - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(sign)\(whole).\(digits)"
    }
}

extension DesiredStateDiff {
    /// The diff between two revisions given only the files that differ between them (the
    /// old and new versions of each changed file): services in unchanged files are equal on
    /// both sides, so they need not be parsed. Services are pooled by name across files, so
    /// a service that moves between changed files is no change.
    public init(changedFrom old: [FileManifests], changedTo new: [FileManifests]) {
        func pool(_ files: [FileManifests]) -> [String: ServiceSpec] {
            var services: [String: ServiceSpec] = [:]
            for file in files.sorted(by: { $0.path < $1.path }) {
                for service in file.services where services[service.name] == nil { services[service.name] = service }
            }
            return services
        }
        self.init(from: pool(old), to: pool(new))
    }
}

extension FileManifests {
    /// The same parse result as if the file had been read at `newPath` (a cached parse of a
    /// moved file: service sources and diagnostics name the new path).
    public func relocated(to newPath: String) -> FileManifests {
        guard newPath != path else { return self }
        var copy = self
        copy.path = newPath
        func move(_ ref: inout SourceRef) { if ref.file == path { ref.file = newPath } }
        for i in copy.declared.indices {
            move(&copy.declared[i].source)
            copy.declared[i].spec?.source?.file = newPath
            for j in copy.declared[i].dependsOn.indices { move(&copy.declared[i].dependsOn[j].source) }
            for j in copy.declared[i].published.indices { move(&copy.declared[i].published[j].source) }
        }
        for i in copy.diagnostics.indices where copy.diagnostics[i].file == path { copy.diagnostics[i].file = newPath }
        return copy
    }
}
