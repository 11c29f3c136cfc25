import BerthYAML


/// One `berth/v1` object → a `ServiceSpec` with defaults, and what the cross-file checks
/// need to know about it. Every problem goes to the reader's diagnostics.
struct ServiceDecoder {
    static let apiVersion = "berth/v1"
    static let kind = "Service"

    static let topFields: FieldNames = ["apiVersion", "kind", "metadata", "spec"]
    static let metadataFields: FieldNames = ["name", "labels"]
    static let specFields: FieldNames = [
        "image", "replicas", "command", "env", "ports", "dependsOn", "health", "update",
        "stopGracePeriod", "restart", "resources", "autoscale",
    ]
    static let portFields: FieldNames = ["containerPort", "publish"]
    static let healthFields: FieldNames = ["http", "tcp", "exec", "interval", "timeout", "startPeriod", "failureThreshold"]
    static let updateFields: FieldNames = ["strategy", "maxSurge", "maxUnavailable", "progressDeadline", "onFailure"]
    static let resourceFields: FieldNames = ["cpus", "memory"]
    static let autoscaleFields: FieldNames = ["min", "max", "targetRequestsPerSecond", "scaleDownDelay"]
    static let httpFields: FieldNames = ["path", "port"]
    static let tcpFields: FieldNames = ["port"]
    static let execFields: FieldNames = ["command"]

    /// Docker refuses memory limits below 6 MiB.
    static let minimumMemory: Int64 = 6 << 20

    var r: FieldReader

    /// Decodes one document's root. Returns the declaration when the object names its
    /// service (even with errors, so other files can refer to it), with `spec` set only
    /// when the document has no errors.
    mutating func decode(_ root: Node) -> DeclaredService? {
        let errorsBefore = r.errorCount
        guard case .mapping(let top) = root else {
            r.error(
                at: root.mark, "",
                "expected a berth/v1 object (a mapping with apiVersion, kind, metadata and spec), found \(FieldReader.found(root))"
            )
            return nil
        }
        // A foreign object (a Kubernetes Deployment, …) is named, not picked apart.
        if let v = top["apiVersion"] {
            guard let text = r.string(v, "apiVersion") else { return nil }
            guard text == Self.apiVersion else {
                r.error(at: v.mark, "apiVersion", "unsupported apiVersion \(FieldReader.quoted(text)): Berth reads \(Self.apiVersion)")
                return nil
            }
        }
        if let k = top["kind"] {
            guard let text = r.string(k, "kind") else { return nil }
            guard text == Self.kind else {
                var message = "unsupported kind \(FieldReader.quoted(text)): \(Self.apiVersion) defines only kind \(Self.kind)"
                if text.lowercased() == Self.kind.lowercased() { message += " (mind the capital S)" }
                r.error(at: k.mark, "kind", message)
                return nil
            }
        }
        guard let fields = r.fields(root, "", known: Self.topFields) else { return nil }
        if fields["apiVersion"] == nil {
            r.error(at: fields.mark, "apiVersion", "required field is missing; add \"apiVersion: \(Self.apiVersion)\"")
        }
        if fields["kind"] == nil {
            r.error(at: fields.mark, "kind", "required field is missing; add \"kind: \(Self.kind)\"")
        }

        var name: String?
        var nameMark = fields.mark
        var labels: [String: String] = [:]
        if let metadata = fields["metadata"] {
            if let m = r.fields(metadata, "metadata", known: Self.metadataFields) {
                if let n = m["name"] {
                    nameMark = n.mark
                    if let text = r.string(n, "metadata.name", expected: "a service name") {
                        if let problem = Formats.labelNameProblem(text) {
                            r.error(at: n.mark, "metadata.name", "invalid service name \(FieldReader.quoted(text)): \(problem)")
                        }
                        // Declared even when invalid, so a dependsOn naming it is not
                        // reported a second time as an unknown service.
                        name = text
                    }
                } else {
                    r.error(at: m.mark, "metadata.name", "required field is missing; add \"name: SERVICE\" under metadata")
                }
                if let l = m["labels"] { labels = decodeLabels(l) }
            }
        } else {
            r.error(at: fields.mark, "metadata", "required field is missing; add metadata with the service's name")
        }

        var declared = name.map { DeclaredService(name: $0, source: r.ref(nameMark)) }
        guard let specNode = fields["spec"] else {
            r.error(at: fields.mark, "spec", "required field is missing; add a spec with at least the image to run")
            return declared
        }
        let spec = decodeSpec(specNode, name: name ?? "", labels: labels, declared: &declared)
        if var d = declared, let spec, r.errorCount == errorsBefore {
            var s = spec
            s.source = d.source
            d.spec = s
            declared = d
        }
        return declared
    }

    private mutating func decodeLabels(_ node: Node) -> [String: String] {
        var labels: [String: String] = [:]
        let entries = r.stringMap(node, "metadata.labels") ?? []
        labels.reserveCapacity(entries.count)
        for (key, value, mark) in entries {
            if key.isEmpty {
                r.error(at: mark, "metadata.labels", "a label name cannot be empty")
            } else if key.hasPrefix("berth.") {
                r.error(
                    at: mark, "metadata.labels.\(key)",
                    "label names starting with \"berth.\" are reserved for Berth's own labels; choose another name")
            } else {
                labels[key] = value
            }
        }
        return labels
    }

    // MARK: spec

    private mutating func decodeSpec(
        _ node: Node, name: String, labels: [String: String], declared: inout DeclaredService?
    ) -> ServiceSpec? {
        guard let f = r.fields(node, "spec", known: Self.specFields) else { return nil }
        var spec = ServiceSpec(name: name, labels: labels, image: "")

        if let n = f["image"] {
            if let image = r.string(n, "spec.image", expected: "a Docker image reference such as shop/booking:1.0") {
                if let problem = Formats.imageProblem(image) {
                    r.error(at: n.mark, "spec.image", "invalid image reference \(FieldReader.quoted(image)): \(problem)")
                } else {
                    spec.image = image
                }
            }
        } else {
            r.error(at: f.mark, "spec.image", "required field is missing; add \"image: REPOSITORY:TAG\" under spec")
        }
        if let n = f["replicas"], let v = r.int(n, "spec.replicas", in: 0...Int.max, expected: "an integer of at least 0") {
            spec.replicas = v
        }
        if let n = f["command"] {
            spec.command = r.stringList(n, "spec.command", example: "[\"/bin/httpd\", \"-f\"]")
        }
        if let n = f["env"] { spec.env = decodeEnv(n) }
        if let n = f["ports"] { spec.ports = decodePorts(n, declared: &declared) }
        if let n = f["dependsOn"] { spec.dependsOn = decodeDependsOn(n, self: name, declared: &declared) }
        if let n = f["health"] { spec.health = decodeHealth(n) }
        if let n = f["update"] { spec.update = decodeUpdate(n) }
        if let n = f["stopGracePeriod"], let d = r.duration(n, "spec.stopGracePeriod") {
            spec.stopGracePeriod = d
        }
        if let n = f["restart"], let v = r.oneOf(n, "spec.restart", [RestartPolicy.always, .onFailure, .never]) { spec.restart = v }
        if let n = f["resources"] { spec.resources = decodeResources(n) }
        if let n = f["autoscale"] { spec.autoscale = decodeAutoscale(n) }
        return spec
    }

    private mutating func decodeEnv(_ node: Node) -> [String: String] {
        var env: [String: String] = [:]
        let entries = r.stringMap(node, "spec.env") ?? []
        env.reserveCapacity(entries.count)
        for (key, value, mark) in entries {
            if Self.isInvalidVariableName(key) {
                r.error(
                    at: mark, "spec.env",
                    "invalid variable name \(FieldReader.quoted(key)): names cannot be empty or hold '='")
            } else {
                env[key] = value
            }
        }
        return env
    }

    /// Empty, or holding '=' or NUL (as `Character`s, like `String.contains`): ASCII names
    /// are checked on their bytes.
    static func isInvalidVariableName(_ key: String) -> Bool {
        if key.isEmpty { return true }
        var text = key
        let verdict = text.withUTF8 { b -> Bool? in
            var found = false
            for c in b {
                if c >= 0x80 { return nil }  // not ASCII ('=' may start a longer Character): ask String
                if c == UInt8(ascii: "=") || c == 0 { found = true }
            }
            return found
        }
        return verdict ?? (key.contains("=") || key.contains("\0"))
    }

    private mutating func decodePorts(_ node: Node, declared: inout DeclaredService?) -> [PortSpec] {
        guard case .sequence(let seq) = node else {
            r.error(at: node.mark, "spec.ports", "expected a list of ports such as [{containerPort: 8080}], found \(FieldReader.found(node))")
            return []
        }
        var ports: [PortSpec] = []
        var containerPorts: [Int: Mark] = [:]
        var published: [Int: Mark] = [:]
        for (i, item) in seq.items.enumerated() {
            let path = { "spec.ports[\(i)]" }  // spelled out only when needed
            guard let f = r.fields(item, path(), known: Self.portFields) else { continue }
            var containerPort: Int?
            if let cpNode = f["containerPort"] {
                if let cp = r.port(cpNode, "\(path()).containerPort") {
                    if let first = containerPorts[cp] {
                        r.error(
                            at: cpNode.mark, "\(path()).containerPort",
                            "container port \(cp) is listed twice (first at \(first.line):\(first.column))")
                    } else {
                        containerPorts[cp] = cpNode.mark
                        containerPort = cp
                    }
                }
            } else {
                r.error(at: f.mark, "\(path()).containerPort", "required field is missing; add the port the container listens on")
            }
            var publish: Int?
            if let pNode = f["publish"], let p = r.port(pNode, "\(path()).publish") {
                if let first = published[p] {
                    r.error(
                        at: pNode.mark, "\(path()).publish",
                        "host port \(p) is published twice (first at \(first.line):\(first.column))")
                } else {
                    published[p] = pNode.mark
                    publish = p
                    declared?.published.append(.init(port: p, source: r.ref(pNode.mark), path: "\(path()).publish"))
                }
            }
            if let containerPort { ports.append(PortSpec(containerPort: containerPort, publish: publish)) }
        }
        // Order does not matter to the runtime; sorting makes reordering no change.
        return ports.sorted { $0.containerPort < $1.containerPort }
    }

    private mutating func decodeDependsOn(_ node: Node, self name: String, declared: inout DeclaredService?) -> [String] {
        guard case .sequence(let seq) = node else {
            r.error(at: node.mark, "spec.dependsOn", "expected a list of service names such as [customer], found \(FieldReader.found(node))")
            return []
        }
        var names: [String] = []
        var seen: [String: Mark] = [:]
        for (i, item) in seq.items.enumerated() {
            let path = "spec.dependsOn[\(i)]"
            guard let dep = r.string(item, path, expected: "a service name") else { continue }
            if let first = seen[dep] {
                r.error(at: item.mark, path, "\(FieldReader.quoted(dep)) is listed twice (first at \(first.line):\(first.column))")
                continue
            }
            seen[dep] = item.mark
            names.append(dep)
            declared?.dependsOn.append(.init(name: dep, source: r.ref(item.mark), path: path))
        }
        return names.sorted()
    }

    private mutating func decodeHealth(_ node: Node) -> HealthCheck? {
        guard let f = r.fields(node, "spec.health", known: Self.healthFields) else { return nil }
        var check = HealthCheck(probe: .tcp(port: 0))
        var ok = true
        var kinds: [String] = []
        for kind in ["http", "tcp", "exec"] where f[kind] != nil { kinds.append(kind) }
        if kinds.isEmpty {
            r.error(at: f.mark, "spec.health", "expected one probe: http, tcp or exec, found none; add e.g. \"http: {path: /healthz, port: 8080}\"")
            ok = false
        } else if kinds.count > 1 {
            // Reported at the later probe, so the first one reads as the one meant.
            let later = kinds.map { (kind: $0, mark: f.keyMark($0)!) }.sorted { $0.mark < $1.mark }
            for extra in later.dropFirst() {
                r.error(
                    at: extra.mark, "spec.health.\(extra.kind)",
                    "expected one probe, found \(FieldReader.alternatives(later.map(\.kind), "and")); keep only one")
            }
            ok = false
        } else if let probe = decodeProbe(kinds[0], f[kinds[0]]!) {
            check.probe = probe
        } else {
            ok = false
        }
        if let n = f["interval"] {
            if let d = r.duration(n, "spec.health.interval", positive: true) { check.interval = d } else { ok = false }
        }
        if let n = f["timeout"] {
            if let d = r.duration(n, "spec.health.timeout", positive: true) { check.timeout = d } else { ok = false }
        }
        if let n = f["startPeriod"] {
            if let d = r.duration(n, "spec.health.startPeriod") { check.startPeriod = d } else { ok = false }
        }
        if let n = f["failureThreshold"] {
            if let v = r.int(n, "spec.health.failureThreshold", in: 1...Int.max, expected: "an integer of at least 1") {
                check.failureThreshold = v
            } else {
                ok = false
            }
        }
        return ok ? check : nil
    }

    private mutating func decodeProbe(_ kind: String, _ node: Node) -> HealthCheck.Probe? {
        let path: String
        switch kind {
        case "http": path = "spec.health.http"
        case "tcp": path = "spec.health.tcp"
        default: path = "spec.health.\(kind)"
        }
        switch kind {
        case "http":
            guard let f = r.fields(node, path, known: Self.httpFields) else { return nil }
            var urlPath: String? = "/"
            if let n = f["path"] {
                urlPath = r.string(n, "\(path).path", expected: "a URL path such as /healthz")
                if let p = urlPath, !p.hasPrefix("/") {
                    r.error(at: n.mark, "\(path).path", "expected a URL path starting with '/' such as /healthz, found \(FieldReader.quoted(p))")
                    urlPath = nil
                }
            }
            guard let portNode = f["port"] else {
                r.error(at: f.mark, "\(path).port", "required field is missing; add the container port to probe")
                return nil
            }
            guard let port = r.port(portNode, "\(path).port"), let urlPath else { return nil }
            return .http(path: urlPath, port: port)
        case "tcp":
            guard let f = r.fields(node, path, known: Self.tcpFields) else { return nil }
            guard let portNode = f["port"] else {
                r.error(at: f.mark, "\(path).port", "required field is missing; add the container port to probe")
                return nil
            }
            return r.port(portNode, "\(path).port").map { .tcp(port: $0) }
        default:
            guard let f = r.fields(node, path, known: Self.execFields) else { return nil }
            guard let c = f["command"] else {
                r.error(at: f.mark, "\(path).command", "required field is missing; add the command to run, e.g. [\"/bin/true\"]")
                return nil
            }
            return r.stringList(c, "\(path).command", example: "[\"/bin/true\"]").map { .exec(command: $0) }
        }
    }

    private mutating func decodeUpdate(_ node: Node) -> UpdatePolicy {
        var policy = UpdatePolicy()
        guard let f = r.fields(node, "spec.update", known: Self.updateFields) else { return policy }
        var surgeOK = true, unavailableOK = true, strategyOK = true
        if let n = f["strategy"] {
            if let v = r.oneOf(n, "spec.update.strategy", [UpdatePolicy.Strategy.rolling, .recreate]) {
                policy.strategy = v
            } else {
                strategyOK = false
            }
        }
        if let n = f["maxSurge"] {
            if let v = r.intOrPercent(n, "spec.update.maxSurge") { policy.maxSurge = v } else { surgeOK = false }
        }
        if let n = f["maxUnavailable"] {
            if let v = r.intOrPercent(n, "spec.update.maxUnavailable") { policy.maxUnavailable = v } else { unavailableOK = false }
        }
        if let n = f["progressDeadline"], let d = r.duration(n, "spec.update.progressDeadline", positive: true) {
            policy.progressDeadline = d
        }
        if let n = f["onFailure"], let v = r.oneOf(n, "spec.update.onFailure", [UpdatePolicy.OnFailure.rollback, .pause]) {
            policy.onFailure = v
        }
        if policy.strategy == .rolling, strategyOK, surgeOK, unavailableOK, Self.isZero(policy.maxSurge),
            Self.isZero(policy.maxUnavailable)
        {
            let (field, mark) = f["maxSurge"].map { ("maxSurge", $0.mark) } ?? ("maxUnavailable", f["maxUnavailable"]?.mark ?? f.mark)
            r.error(
                at: mark, "spec.update.\(field)",
                "maxSurge and maxUnavailable cannot both be 0: a rolling update could never replace a replica; set maxSurge to 1")
        }
        return policy
    }

    private static func isZero(_ v: IntOrPercent) -> Bool {
        switch v {
        case .count(let n), .percent(let n): n == 0
        }
    }

    private mutating func decodeResources(_ node: Node) -> Resources? {
        guard let f = r.fields(node, "spec.resources", known: Self.resourceFields) else { return nil }
        var resources = Resources()
        if let n = f["cpus"] { resources.milliCPUs = decodeCPUs(n) }
        if let n = f["memory"] {
            let expected = "a memory size such as 256Mi, 1Gi or 512M (suffixes k, Ki, M, Mi, G, Gi)"
            if case .scalar(let s) = n, !s.resolvesToNull, let bytes = Formats.memoryBytes(s.value) {
                if bytes < Self.minimumMemory {
                    r.error(at: n.mark, "spec.resources.memory", "expected at least 6Mi (Docker's smallest memory limit), found \(FieldReader.found(n))")
                } else {
                    resources.memory = bytes
                }
            } else {
                r.error(at: n.mark, "spec.resources.memory", "expected \(expected), found \(FieldReader.found(n))")
            }
        }
        return resources
    }

    /// CPUs as thousandths, exactly: `0.5` → 500, `2` → 2000.
    private mutating func decodeCPUs(_ node: Node) -> Int? {
        let path = "spec.resources.cpus"
        let expected = "a number of CPUs greater than 0 such as 0.5 or 2"
        guard case .scalar(let s) = node else {
            r.error(at: node.mark, path, "expected \(expected), found \(FieldReader.found(node))")
            return nil
        }
        if s.tag == nil, s.style == .plain, let milli = Self.simpleMilliCPUs(s.value) { return milli }
        switch s.resolved {
        case .int, .float:
            break
        default:
            r.error(at: node.mark, path, "expected \(expected), found \(FieldReader.found(node))")
            return nil
        }
        // Decimal text → thousandths without floating point.
        let text = s.value.hasPrefix("+") ? String(s.value.dropFirst()) : s.value
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0], fraction = parts.count > 1 ? parts[1] : ""
        guard whole.allSatisfy({ $0.isASCII && $0.isNumber }), fraction.allSatisfy({ $0.isASCII && $0.isNumber }),
            whole.count <= 6, !(whole.isEmpty && fraction.isEmpty)
        else {
            r.error(at: node.mark, path, "expected \(expected), found \(FieldReader.shortened(s.value))")
            return nil
        }
        guard fraction.count <= 3 || fraction.dropFirst(3).allSatisfy({ $0 == "0" }) else {
            r.error(at: node.mark, path, "expected a number of CPUs with at most 3 decimal places, found \(FieldReader.shortened(s.value))")
            return nil
        }
        let milli = (Int(whole) ?? 0) * 1000 + (Int(String(fraction.prefix(3)).padding(toLength: 3)) ?? 0)
        guard milli > 0 else {
            r.error(at: node.mark, path, "expected \(expected), found \(FieldReader.shortened(s.value))")
            return nil
        }
        return milli
    }

    /// `1`, `0.5`, `2.250`: up to 6 whole and 3 fraction ASCII digits, greater than 0, read
    /// from the bytes (`decodeCPUs`' answer for these); nil for anything else.
    static func simpleMilliCPUs(_ text: String) -> Int? {
        var text = text
        return text.withUTF8 { simpleMilliCPUs(bytes: $0) }
    }

    static func simpleMilliCPUs(bytes b: UnsafeBufferPointer<UInt8>) -> Int? {
        return { () -> Int? in
            var i = 0
            var whole = 0
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                guard i < 6 else { return nil }  // more than 6 digits
                whole = whole * 10 + Int(b[i] - 0x30)
                i += 1
            }
            guard i >= 1 else { return nil }
            var fraction = 0
            if i < b.count {
                guard b[i] == UInt8(ascii: "."), b.count - i - 1 >= 1, b.count - i - 1 <= 3 else { return nil }
                var scale = 100
                for k in (i + 1)..<b.count {
                    guard b[k] >= 0x30, b[k] <= 0x39 else { return nil }
                    fraction += Int(b[k] - 0x30) * scale
                    scale /= 10
                }
            }
            let milli = whole * 1000 + fraction
            return milli > 0 ? milli : nil
        }()
    }

    private mutating func decodeAutoscale(_ node: Node) -> Autoscale? {
        guard let f = r.fields(node, "spec.autoscale", known: Self.autoscaleFields) else { return nil }
        var ok = true
        func bound(_ name: String, _ r: inout FieldReader) -> Int? {
            guard let n = f[name] else {
                r.error(at: f.mark, "spec.autoscale.\(name)", "required field is missing; add the \(name == "min" ? "fewest" : "most") replicas to run")
                return nil
            }
            return r.int(n, "spec.autoscale.\(name)", in: (name == "min" ? 0 : 1)...Int.max,
                expected: "an integer of at least \(name == "min" ? 0 : 1)")
        }
        let min = bound("min", &r), max = bound("max", &r)
        var scale = Autoscale(min: min ?? 0, max: max ?? 0)
        if let min, let max, min > max {
            r.error(at: f["min"]!.mark, "spec.autoscale.min", "expected at most max (\(max)), found \(min)")
            ok = false
        }
        if min == nil || max == nil { ok = false }
        if let n = f["targetRequestsPerSecond"] {
            scale.targetRequestsPerSecond = r.int(n, "spec.autoscale.targetRequestsPerSecond", in: 1...Int.max, expected: "an integer of at least 1")
            if scale.targetRequestsPerSecond == nil { ok = false }
        }
        if let n = f["scaleDownDelay"] {
            if let d = r.duration(n, "spec.autoscale.scaleDownDelay") { scale.scaleDownDelay = d } else { ok = false }
        }
        return ok ? scale : nil
    }
}

extension String {
    fileprivate func padding(toLength n: Int) -> String {
        count >= n ? self : self + String(repeating: "0", count: n - count)
    }

}
