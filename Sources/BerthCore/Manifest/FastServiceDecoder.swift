import BerthYAML

/// The optimistic path of `ManifestLoader.parse`: one `berth/v1` document read straight
/// from libyaml's events into a `DeclaredService`, with no node tree.
///
/// It accepts only documents that are valid and ordinary, and gives up (throws `Surprise`)
/// at the first thing that is not: an anchor, alias, tag or merge key; a key that is not a
/// known field or is there twice; a value of another type or failing any check; a label,
/// env or dependsOn entry that is not plain ASCII text; a libyaml error. The document is
/// then decoded again by the node-tree path (`Composer` + `ServiceDecoder`), which writes
/// every diagnostic, so diagnostics and their places are the tree path's by construction.
/// What this decoder accepts it must decode exactly as `ServiceDecoder` would
/// (`ManifestFastDecoderTests` compares the two over the corpus and generated variants).
struct FastServiceDecoder {
    struct Surprise: Error {}

    let file: String

    /// The bytes of `s`, for matching keys without making Strings.
    typealias Bytes = UnsafeBufferPointer<UInt8>

    static let topFields: [StaticString] = ["apiVersion", "kind", "metadata", "spec"]
    static let metadataFields: [StaticString] = ["name", "labels"]
    static let specFields: [StaticString] = [
        "image", "replicas", "command", "env", "ports", "dependsOn", "health", "update",
        "stopGracePeriod", "restart", "resources", "autoscale",
    ]
    static let portFields: [StaticString] = ["containerPort", "publish"]
    static let healthFields: [StaticString] = ["http", "tcp", "exec", "interval", "timeout", "startPeriod", "failureThreshold"]
    static let updateFields: [StaticString] = ["strategy", "maxSurge", "maxUnavailable", "progressDeadline", "onFailure"]
    static let resourceFields: [StaticString] = ["cpus", "memory"]
    static let autoscaleFields: [StaticString] = ["min", "max", "targetRequestsPerSecond", "scaleDownDelay"]
    static let httpFields: [StaticString] = ["path", "port"]
    static let portOnly: [StaticString] = ["port"]
    static let commandOnly: [StaticString] = ["command"]

    /// The document whose DOCUMENT-START `ev` just read, through its DOCUMENT-END.
    func decode(_ ev: inout YAMLEventReader) throws(Surprise) -> DeclaredService {
        try mappingStart(ev.next())
        var seen: UInt32 = 0
        var name = ""
        var nameMark = Mark(line: 0, column: 0)
        var labels: [String: String] = [:]
        var spec = ServiceSpec(name: "", image: "")
        var dependsOn: [DeclaredService.Reference] = []
        var published: [DeclaredService.Published] = []
        while true {
            let key = ev.next()
            if key.kind == .mappingEnd { break }
            switch try field(key, Self.topFields, &seen) {
            case 0: try expect(ev.next(), "berth/v1")
            case 1: try expect(ev.next(), "Service")
            case 2: try metadata(&ev, name: &name, nameMark: &nameMark, labels: &labels)
            default: try self.spec(&ev, into: &spec, dependsOn: &dependsOn, published: &published)
            }
        }
        guard seen == 0b1111, ev.next().kind == .documentEnd else { throw Surprise() }
        let source = SourceRef(file: file, line: nameMark.line, column: nameMark.column)
        spec.name = name
        spec.labels = labels
        spec.source = source
        return DeclaredService(name: name, source: source, dependsOn: dependsOn, published: published, spec: spec)
    }

    // MARK: Objects

    private func metadata(_ ev: inout YAMLEventReader, name: inout String, nameMark: inout Mark, labels: inout [String: String]) throws(Surprise) {
        try mappingStart(ev.next())
        var seen: UInt32 = 0
        while true {
            let key = ev.next()
            if key.kind == .mappingEnd { break }
            if try field(key, Self.metadataFields, &seen) == 0 {
                let value = ev.next()
                guard value.isBareScalar, !Self.isPlainNull(value), Formats.isValidLabelName(value.bytes) else { throw Surprise() }
                name = Self.string(value.bytes)
                nameMark = value.mark
            } else {
                labels = try stringMap(&ev) { key throws(Surprise) in
                    // "berth." is reserved.
                    if key.count >= 6, Self.equal(Bytes(rebasing: key[0..<6]), "berth.") { throw Surprise() }
                }
            }
        }
        guard seen & 1 != 0 else { throw Surprise() }
    }

    private func spec(
        _ ev: inout YAMLEventReader, into spec: inout ServiceSpec, dependsOn: inout [DeclaredService.Reference],
        published: inout [DeclaredService.Published]
    ) throws(Surprise) {
        try mappingStart(ev.next())
        var seen: UInt32 = 0
        while true {
            let key = ev.next()
            if key.kind == .mappingEnd { break }
            switch try field(key, Self.specFields, &seen) {
            case 0:
                let value = ev.next()
                guard value.isBareScalar, !Self.isPlainNull(value), Formats.isSimpleValidImage(bytes: value.bytes) else {
                    throw Surprise()
                }
                spec.image = Self.string(value.bytes)
            case 1: spec.replicas = try int(ev.next(), atLeast: 0)
            case 2: spec.command = try stringList(&ev)
            case 3:
                spec.env = try stringMap(&ev) { key throws(Surprise) in
                    for b in key where b == UInt8(ascii: "=") || b == 0 { throw Surprise() }
                }
            case 4: spec.ports = try ports(&ev, published: &published)
            case 5: spec.dependsOn = try dependencies(&ev, into: &dependsOn)
            case 6: spec.health = try health(&ev)
            case 7: spec.update = try update(&ev)
            case 8: spec.stopGracePeriod = try duration(ev.next(), positive: false)
            case 9:
                let value = ev.next()
                if Self.equal(value, "always") {
                    spec.restart = .always
                } else if Self.equal(value, "on-failure") {
                    spec.restart = .onFailure
                } else if Self.equal(value, "never") {
                    spec.restart = .never
                } else {
                    throw Surprise()
                }
            case 10: spec.resources = try resources(&ev)
            default: spec.autoscale = try autoscale(&ev)
            }
        }
        guard seen & 1 != 0 else { throw Surprise() }  // image is required
    }

    private func ports(_ ev: inout YAMLEventReader, published: inout [DeclaredService.Published]) throws(Surprise) -> [PortSpec] {
        try sequenceStart(ev.next())
        var ports: [PortSpec] = []
        var i = 0
        while true {
            let item = ev.next()
            if item.kind == .sequenceEnd { break }
            try mappingStart(item)
            var seen: UInt32 = 0
            var containerPort = 0
            var publish: Int?
            while true {
                let key = ev.next()
                if key.kind == .mappingEnd { break }
                if try field(key, Self.portFields, &seen) == 0 {
                    containerPort = try port(ev.next())
                    if ports.contains(where: { $0.containerPort == containerPort }) { throw Surprise() }
                } else {
                    let value = ev.next()
                    let p = try port(value)
                    if published.contains(where: { $0.port == p }) { throw Surprise() }
                    publish = p
                    published.append(.init(port: p, source: ref(value.mark), path: "spec.ports[\(i)].publish"))
                }
            }
            guard seen & 1 != 0 else { throw Surprise() }
            ports.append(PortSpec(containerPort: containerPort, publish: publish))
            i += 1
        }
        // Order does not matter to the runtime; sorting makes reordering no change.
        return ports.sorted { $0.containerPort < $1.containerPort }
    }

    private func dependencies(_ ev: inout YAMLEventReader, into refs: inout [DeclaredService.Reference]) throws(Surprise) -> [String] {
        try sequenceStart(ev.next())
        var names: [String] = []
        while true {
            let item = ev.next()
            if item.kind == .sequenceEnd { break }
            // ASCII only: then byte equality is `String` equality (the duplicate check).
            guard item.isBareScalar, !Self.isPlainNull(item), Self.isASCII(item.bytes) else { throw Surprise() }
            let name = Self.string(item.bytes)
            if names.contains(name) { throw Surprise() }
            refs.append(.init(name: name, source: ref(item.mark), path: "spec.dependsOn[\(names.count)]"))
            names.append(name)
        }
        return names.sorted()
    }

    private func health(_ ev: inout YAMLEventReader) throws(Surprise) -> HealthCheck {
        try mappingStart(ev.next())
        var seen: UInt32 = 0
        var check = HealthCheck(probe: .tcp(port: 0))
        while true {
            let key = ev.next()
            if key.kind == .mappingEnd { break }
            switch try field(key, Self.healthFields, &seen) {
            case 0:
                try mappingStart(ev.next())
                var probeSeen: UInt32 = 0
                var path = "/"
                var port = 0
                while true {
                    let k = ev.next()
                    if k.kind == .mappingEnd { break }
                    if try field(k, Self.httpFields, &probeSeen) == 0 {
                        let value = ev.next()
                        // Starts with a '/' that is a whole Character (`String.hasPrefix`).
                        guard value.isBareScalar, value.bytes.count >= 1, value.bytes[0] == UInt8(ascii: "/"),
                            value.bytes.count == 1 || value.bytes[1] < 0x80
                        else { throw Surprise() }
                        path = Self.string(value.bytes)
                    } else {
                        port = try self.port(ev.next())
                    }
                }
                guard probeSeen & 2 != 0 else { throw Surprise() }
                check.probe = .http(path: path, port: port)
            case 1:
                check.probe = .tcp(port: try portOnly(&ev))
            case 2:
                try mappingStart(ev.next())
                var probeSeen: UInt32 = 0
                var command: [String] = []
                while true {
                    let k = ev.next()
                    if k.kind == .mappingEnd { break }
                    _ = try field(k, Self.commandOnly, &probeSeen)
                    command = try stringList(&ev)
                }
                guard probeSeen != 0 else { throw Surprise() }
                check.probe = .exec(command: command)
            case 3: check.interval = try duration(ev.next(), positive: true)
            case 4: check.timeout = try duration(ev.next(), positive: true)
            case 5: check.startPeriod = try duration(ev.next(), positive: false)
            default: check.failureThreshold = try int(ev.next(), atLeast: 1)
            }
        }
        // Exactly one probe.
        let probes = seen & 0b111
        guard probes != 0, probes & (probes - 1) == 0 else { throw Surprise() }
        return check
    }

    private func portOnly(_ ev: inout YAMLEventReader) throws(Surprise) -> Int {
        try mappingStart(ev.next())
        var seen: UInt32 = 0
        var port = 0
        while true {
            let k = ev.next()
            if k.kind == .mappingEnd { break }
            _ = try field(k, Self.portOnly, &seen)
            port = try self.port(ev.next())
        }
        guard seen != 0 else { throw Surprise() }
        return port
    }

    private func update(_ ev: inout YAMLEventReader) throws(Surprise) -> UpdatePolicy {
        try mappingStart(ev.next())
        var seen: UInt32 = 0
        var policy = UpdatePolicy()
        while true {
            let key = ev.next()
            if key.kind == .mappingEnd { break }
            switch try field(key, Self.updateFields, &seen) {
            case 0:
                let value = ev.next()
                if Self.equal(value, "rolling") {
                    policy.strategy = .rolling
                } else if Self.equal(value, "recreate") {
                    policy.strategy = .recreate
                } else {
                    throw Surprise()
                }
            case 1: policy.maxSurge = try intOrPercent(ev.next())
            case 2: policy.maxUnavailable = try intOrPercent(ev.next())
            case 3: policy.progressDeadline = try duration(ev.next(), positive: true)
            default:
                let value = ev.next()
                if Self.equal(value, "rollback") {
                    policy.onFailure = .rollback
                } else if Self.equal(value, "pause") {
                    policy.onFailure = .pause
                } else {
                    throw Surprise()
                }
            }
        }
        if policy.strategy == .rolling, Self.isZero(policy.maxSurge), Self.isZero(policy.maxUnavailable) {
            throw Surprise()
        }
        return policy
    }

    private static func isZero(_ v: IntOrPercent) -> Bool {
        switch v {
        case .count(let n), .percent(let n): n == 0
        }
    }

    private func resources(_ ev: inout YAMLEventReader) throws(Surprise) -> Resources {
        try mappingStart(ev.next())
        var seen: UInt32 = 0
        var resources = Resources()
        while true {
            let key = ev.next()
            if key.kind == .mappingEnd { break }
            let which = try field(key, Self.resourceFields, &seen)
            let value = ev.next()
            if which == 0 {
                guard value.isPlainScalar, let milli = ServiceDecoder.simpleMilliCPUs(bytes: value.bytes) else { throw Surprise() }
                resources.milliCPUs = milli
            } else {
                guard value.isBareScalar, let bytes = Formats.simpleMemoryBytes(bytes: value.bytes),
                    bytes >= ServiceDecoder.minimumMemory
                else { throw Surprise() }
                resources.memory = bytes
            }
        }
        return resources
    }

    private func autoscale(_ ev: inout YAMLEventReader) throws(Surprise) -> Autoscale {
        try mappingStart(ev.next())
        var seen: UInt32 = 0
        var scale = Autoscale(min: 0, max: 0)
        while true {
            let key = ev.next()
            if key.kind == .mappingEnd { break }
            switch try field(key, Self.autoscaleFields, &seen) {
            case 0: scale.min = try int(ev.next(), atLeast: 0)
            case 1: scale.max = try int(ev.next(), atLeast: 1)
            case 2: scale.targetRequestsPerSecond = try int(ev.next(), atLeast: 1)
            default: scale.scaleDownDelay = try duration(ev.next(), positive: false)
            }
        }
        guard seen & 0b11 == 0b11, scale.min <= scale.max else { throw Surprise() }
        return scale
    }

    // MARK: Collections

    /// A mapping of names to strings (labels, env): every key an ASCII string that no
    /// other key of the map spells (so the YAML duplicate-key check, the tree path's
    /// "first one wins" and `String` equality all agree), every value a scalar taken verbatim.
    private func stringMap(
        _ ev: inout YAMLEventReader, check: (Bytes) throws(Surprise) -> Void
    ) throws(Surprise) -> [String: String] {
        try mappingStart(ev.next())
        // Collected first, so the dictionary is allocated once at its final size (as the
        // tree path does).
        var pairs: [(key: String, value: String)] = []
        pairs.reserveCapacity(8)
        while true {
            let key = ev.next()
            if key.kind == .mappingEnd { break }
            guard key.isBareScalar, !key.bytes.isEmpty, Self.isASCII(key.bytes), !Self.mayResolveToNonString(key) else {
                throw Surprise()
            }
            try check(key.bytes)
            let name = Self.string(key.bytes)  // before `next()`, which ends `key.bytes`' life
            let value = ev.next()
            guard value.isBareScalar else { throw Surprise() }
            pairs.append((name, Self.string(value.bytes)))
        }
        var map: [String: String] = [:]
        map.reserveCapacity(pairs.count)
        for (key, value) in pairs where map.updateValue(value, forKey: key) != nil { throw Surprise() }
        return map
    }

    /// At least one string, each a scalar that is not null.
    private func stringList(_ ev: inout YAMLEventReader) throws(Surprise) -> [String] {
        try sequenceStart(ev.next())
        var out: [String] = []
        while true {
            let item = ev.next()
            if item.kind == .sequenceEnd { break }
            guard item.isBareScalar, !Self.isPlainNull(item) else { throw Surprise() }
            out.append(Self.string(item.bytes))
        }
        guard !out.isEmpty else { throw Surprise() }
        return out
    }

    // MARK: Scalars

    private func expect(_ e: YAMLEvent, _ text: StaticString) throws(Surprise) {
        guard Self.equal(e, text) else { throw Surprise() }
    }

    /// Decimal ASCII digits (at most 18) of a plain scalar, at least `atLeast`.
    private func int(_ e: YAMLEvent, atLeast minimum: Int) throws(Surprise) -> Int {
        guard e.isPlainScalar, let n = Self.digits(e.bytes), n >= minimum else { throw Surprise() }
        return n
    }

    private func port(_ e: YAMLEvent) throws(Surprise) -> Int {
        guard e.isPlainScalar, let n = Self.digits(e.bytes), n >= 1, n <= 65535 else { throw Surprise() }
        return n
    }

    private func duration(_ e: YAMLEvent, positive: Bool) throws(Surprise) -> Millis {
        guard e.isBareScalar, let d = FieldReader.simpleDuration(bytes: e.bytes), !positive || d.milliseconds > 0 else {
            throw Surprise()
        }
        return d
    }

    private func intOrPercent(_ e: YAMLEvent) throws(Surprise) -> IntOrPercent {
        if e.isPlainScalar, let n = Self.digits(e.bytes) { return .count(n) }
        guard e.isBareScalar, let p = FieldReader.simplePercent(bytes: e.bytes) else { throw Surprise() }
        return .percent(p)
    }

    // MARK: Events and bytes

    private func ref(_ mark: Mark) -> SourceRef { SourceRef(file: file, line: mark.line, column: mark.column) }

    private func mappingStart(_ e: YAMLEvent) throws(Surprise) {
        guard e.kind == .mappingStart, !e.isDecorated else { throw Surprise() }
    }

    private func sequenceStart(_ e: YAMLEvent) throws(Surprise) {
        guard e.kind == .sequenceStart, !e.isDecorated else { throw Surprise() }
    }

    /// The index of a known field's key; a surprise for anything else, or a field seen
    /// before in this mapping (`seen` has a bit per field).
    @inline(__always)
    private func field(_ key: YAMLEvent, _ names: [StaticString], _ seen: inout UInt32) throws(Surprise) -> Int {
        guard key.isBareScalar else { throw Surprise() }
        for i in names.indices where Self.equal(key.bytes, names[i]) {
            let bit: UInt32 = 1 << UInt32(i)
            guard seen & bit == 0 else { throw Surprise() }
            seen |= bit
            return i
        }
        throw Surprise()
    }

    static func equal(_ e: YAMLEvent, _ text: StaticString) -> Bool {
        e.isBareScalar && equal(e.bytes, text)
    }

    @inline(__always)
    static func equal(_ b: Bytes, _ text: StaticString) -> Bool {
        let n = text.utf8CodeUnitCount
        guard b.count == n else { return false }
        let t = text.utf8Start
        for i in 0..<n where b[i] != t[i] { return false }
        return true
    }

    static func string(_ b: Bytes) -> String { String(decoding: b, as: UTF8.self) }

    static func isASCII(_ b: Bytes) -> Bool {
        for c in b where c >= 0x80 { return false }
        return true
    }

    /// A plain scalar that YAML 1.2's core schema reads as null (`~`, `null`, empty, …).
    static func isPlainNull(_ e: YAMLEvent) -> Bool {
        guard e.style == .plain else { return false }
        let b = e.bytes
        return b.isEmpty || equal(b, "~") || equal(b, "null") || equal(b, "Null") || equal(b, "NULL")
    }

    /// A plain scalar that might resolve to something other than a string (null, a
    /// boolean, a number) or be a merge key; conservative: any plain scalar starting with
    /// a digit, sign or dot counts.
    static func mayResolveToNonString(_ e: YAMLEvent) -> Bool {
        guard e.style == .plain, let first = e.bytes.first else { return false }
        switch first {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "<"):
            return true
        case UInt8(ascii: "n"), UInt8(ascii: "N"), UInt8(ascii: "~"), UInt8(ascii: "t"), UInt8(ascii: "T"),
            UInt8(ascii: "f"), UInt8(ascii: "F"):
            let b = e.bytes
            return isPlainNull(e) || equal(b, "true") || equal(b, "True") || equal(b, "TRUE") || equal(b, "false")
                || equal(b, "False") || equal(b, "FALSE")
        default:
            return false
        }
    }

    /// 1 to 18 ASCII digits as a number; nil for anything else.
    static func digits(_ b: Bytes) -> Int? {
        guard !b.isEmpty, b.count <= 18 else { return nil }
        var n = 0
        for c in b {
            guard c >= 0x30, c <= 0x39 else { return nil }
            n = n * 10 + Int(c - 0x30)
        }
        return n
    }
}
