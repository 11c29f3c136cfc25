/// The identity of a service's container template: a short hash of the canonical form of
/// every spec field whose change needs new containers (all but `replicas` and `autoscale`).
/// Defaults are filled in before hashing, so spelling out a default changes nothing.
public struct Revision: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public var id: String
    public init(_ id: String) { self.id = id }
    public var description: String { id }
    public static func < (a: Revision, b: Revision) -> Bool { a.id < b.id }

    public init(of spec: ServiceSpec) {
        self.id = RevisionHasher.revision(of: spec)
    }

    /// The definition `RevisionHasher` must match: FNV-1a of `canonicalTemplate`.
    init(hashingTemplateOf spec: ServiceSpec) {
        var h = FNV1a()
        h.add(spec.canonicalTemplate)
        self.id = h.hex(digits: 10)
    }
}

extension ServiceSpec {
    public var revision: Revision { cachedRevision ?? Revision(of: self) }

    /// A line-per-field canonical text of the container template; stable across releases
    /// (a change here re-rolls every service, so add fields only with their default omitted).
    public var canonicalTemplate: String {
        var out = ""
        out.reserveCapacity(512)
        out += "name=\(name)\nimage=\(image)\n"
        for (k, v) in labels.sorted(by: { $0.key < $1.key }) { out += "label.\(k)=\(v)\n" }
        if let command { out += "command=\(command.map(Self.quote).joined(separator: " "))\n" }
        for (k, v) in env.sorted(by: { $0.key < $1.key }) { out += "env.\(k)=\(Self.quote(v))\n" }
        for p in ports { out += "port=\(p.containerPort):\(p.publish.map(String.init) ?? "-")\(p.protocol == .udp ? "/udp" : "")\n" }
        for d in dependsOn.sorted() { out += "dependsOn=\(d)\n" }
        if let health {
            switch health.probe {
            case .http(let path, let port): out += "health.http=\(port)\(path)\n"
            case .tcp(let port): out += "health.tcp=\(port)\n"
            case .exec(let command): out += "health.exec=\(command.map(Self.quote).joined(separator: " "))\n"
            }
            out += "health=\(health.interval)/\(health.timeout)/\(health.startPeriod)/\(health.failureThreshold)\n"
        }
        out += "update=\(update.strategy.rawValue)/\(update.maxSurge)/\(update.maxUnavailable)/\(update.progressDeadline)/\(update.onFailure.rawValue)\n"
        out += "stopGracePeriod=\(stopGracePeriod)\nrestart=\(restart.rawValue)\n"
        if let resources {
            out += "resources=\(resources.milliCPUs.map(String.init) ?? "-")/\(resources.memory.map(String.init) ?? "-")\n"
        }
        out += container.canonicalLines
        return out
    }

    static func quote(_ s: String) -> String {
        // Fast path (the common case): nothing to escape.
        if !s.utf8.contains(where: { $0 == 0x22 || $0 == 0x5C || $0 == 0x0A }) { return "\"" + s + "\"" }
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }
}

/// 64-bit FNV-1a: tiny, dependency-free and stable across platforms and releases.
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
    mutating func add(_ s: String) {
        var s = s
        s.makeContiguousUTF8()
        for b in s.utf8 {
            value ^= UInt64(b)
            value = value &* 0x0000_0100_0000_01b3
        }
    }
    func hex(digits: Int) -> String {
        let full = String(value, radix: 16)
        let padded = String(repeating: "0", count: max(0, 16 - full.count)) + full
        return String(padded.prefix(digits))
    }
}
