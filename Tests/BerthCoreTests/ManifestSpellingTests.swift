import Foundation
import Testing
import BerthTestSupport
@testable import BerthCore

/// Every YAML spelling of a manifest decodes to the same service, and every odd document
/// (anchors, aliases, merge keys, tags, errors of every kind) is reported the same wherever
/// it stands in a stream. Places are checked against the text: a service's place, each
/// `dependsOn` entry's and each published port's point at what was written there.
@Suite struct ManifestSpellingTests {
    /// Parses `bytes`, checks what must hold of any parse (places point at their values,
    /// revisions are memoized and right, loading twice and assembling agree) and returns it.
    @discardableResult
    static func checked(_ bytes: [UInt8], path: String = "m.yaml", sourceLocation: SourceLocation = #_sourceLocation) -> FileManifests {
        let file = ManifestFile(path: path, bytes: bytes)
        let parsed = ManifestLoader.parse(file)
        #expect(ManifestLoader.parse(file) == parsed, sourceLocation: sourceLocation)
        let text = String(decoding: bytes, as: UTF8.self)
        for d in parsed.declared {
            #expect(written(text, at: d.source, is: d.name), "service \(d.name) at \(d.source.description)", sourceLocation: sourceLocation)
            #expect(d.spec.map { $0.source == d.source } ?? true, sourceLocation: sourceLocation)
            for ref in d.dependsOn {
                #expect(written(text, at: ref.source, is: ref.name), "\(ref.path) at \(ref.source.description)", sourceLocation: sourceLocation)
            }
            for p in d.published {
                #expect(written(text, at: p.source, is: "\(p.port)"), "\(p.path) at \(p.source.description)", sourceLocation: sourceLocation)
            }
        }
        #expect(parsed.services.map(\.cachedRevision) == parsed.services.map { Revision(of: $0) }, sourceLocation: sourceLocation)
        for d in parsed.diagnostics { #expect(d.line >= 1 && d.column >= 1 && d.file == path, sourceLocation: sourceLocation) }
        let state = ManifestLoader.assemble([parsed])
        #expect(ManifestLoader.load([file]) == state, sourceLocation: sourceLocation)
        return parsed
    }

    @discardableResult
    static func checked(_ text: String, path: String = "m.yaml", sourceLocation: SourceLocation = #_sourceLocation) -> FileManifests {
        checked(Array(text.utf8), path: path, sourceLocation: sourceLocation)
    }

    /// True when the text at `place` (1-based line and column in Unicode scalars, after a
    /// byte-order mark) starts with `value`, bare or quoted (or as an anchored value's anchor
    /// is followed by it).
    static func written(_ text: String, at place: SourceRef, is value: String) -> Bool {
        // Lines split on "\n" as Unicode scalars ("\r\n" is one `Character`).
        let lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
        guard place.line >= 1, place.line <= lines.count else { return false }
        var scalars = lines[place.line - 1]
        if place.line == 1, scalars.first == "\u{FEFF}" { scalars = scalars.dropFirst() }
        guard place.column - 1 <= scalars.count else { return false }
        var rest = String(String.UnicodeScalarView(scalars.dropFirst(place.column - 1)))
        if rest.hasPrefix("&") { rest = String(rest.drop { $0 != " " }.dropFirst()) }
        return rest.hasPrefix(value) || rest.hasPrefix("'" + value) || rest.hasPrefix("\"" + value)
    }

    // MARK: Valid documents

    static let everyField = """
        apiVersion: berth/v1
        kind: Service
        metadata:
          name: booking
          labels: {team: travel, "tier": 'web', note: "café — №1"}
        spec:
          image: registry.local/travel/booking:1.2.3
          replicas: 3
          command: ["/bin/httpd", "-f", '-p', 8080]
          env:
            LOG_LEVEL: info
            PORT: "8080"
            EMPTY:
            TILDE: ~
            YES: yes
            MULTI: |
              line one
              line two
          ports:
            - containerPort: 8080
              publish: 28080
            - {containerPort: 9090}
          dependsOn: [customer, "auth"]
          health:
            http: {path: /healthz, port: 8080}
            interval: 500ms
            timeout: 1s
            startPeriod: 0s
            failureThreshold: 5
          update:
            strategy: rolling
            maxSurge: "25%"
            maxUnavailable: 0
            progressDeadline: 1m30s
            onFailure: pause
          stopGracePeriod: 10s
          restart: on-failure
          resources: {cpus: 0.5, memory: 256Mi}
          autoscale: {min: 2, max: 10, targetRequestsPerSecond: 50, scaleDownDelay: 60s}

        """

    @Test func everyFieldDecodes() throws {
        let parsed = Self.checked(Self.everyField)
        #expect(parsed.diagnostics == [])
        let spec = try #require(parsed.services.first)
        #expect(spec.labels == ["team": "travel", "tier": "web", "note": "café — №1"])
        #expect(spec.command == ["/bin/httpd", "-f", "-p", "8080"])
        #expect(spec.env == ["LOG_LEVEL": "info", "PORT": "8080", "EMPTY": "", "TILDE": "~", "YES": "yes", "MULTI": "line one\nline two\n"])
        #expect(spec.ports == [PortSpec(containerPort: 8080, publish: 28080), PortSpec(containerPort: 9090)])
        #expect(spec.dependsOn == ["auth", "customer"])
        #expect(spec.health == HealthCheck(probe: .http(path: "/healthz", port: 8080), interval: Millis(500), timeout: .seconds(1), startPeriod: .zero, failureThreshold: 5))
        #expect(spec.update == UpdatePolicy(strategy: .rolling, maxSurge: .percent(25), maxUnavailable: .count(0), progressDeadline: .seconds(90), onFailure: .pause))
        #expect(spec.resources == Resources(milliCPUs: 500, memory: 256 << 20))
        #expect(spec.autoscale == Autoscale(min: 2, max: 10, targetRequestsPerSecond: 50, scaleDownDelay: .seconds(60)))
        #expect(spec.restart == .onFailure)
        #expect(spec.source == SourceRef(file: "m.yaml", line: 4, column: 9))
        #expect(parsed.declared[0].published.map(\.path) == ["spec.ports[0].publish"])
        #expect(parsed.declared[0].dependsOn.map(\.path) == ["spec.dependsOn[0]", "spec.dependsOn[1]"])
        #expect(parsed.declared[0].dependsOn.map(\.source.description) == ["m.yaml:23:15", "m.yaml:23:25"])
    }

    @Test func otherProbesAndFieldOrders() {
        let texts = [
            "spec: {image: a, health: {tcp: {port: 1}}}\nmetadata: {name: a}\nkind: Service\napiVersion: berth/v1\n",
            "apiVersion: berth/v1\nkind: Service\nmetadata: {name: b}\nspec:\n  health:\n    exec:\n      command: [/bin/true]\n  image: b\n",
            "apiVersion: berth/v1\nkind: Service\nmetadata: {name: c}\nspec: {image: c, health: {http: {port: 80}}, update: {strategy: recreate, maxSurge: 0, maxUnavailable: 0}}\n",
            "apiVersion: berth/v1\nkind: Service\nmetadata: {name: d}\nspec: {image: 'd@sha256:\(String(repeating: "a", count: 64))', resources: {memory: \"6Mi\"}, autoscale: {min: 0, max: 1}}\n",
            "apiVersion: berth/v1\nkind: Service\nmetadata: {name: e}\nspec: {image: e, update: {maxSurge: 100%, maxUnavailable: '0%'}, restart: never}\n",
        ]
        for text in texts {
            let parsed = Self.checked(text)
            #expect(parsed.diagnostics == [], "\(text)")
            #expect(parsed.services.count == 1, "\(text)")
        }
    }

    @Test func theSampleManifests() throws {
        // Every sample uses an anchor (and booking a merge key).
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../manifests").standardized
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(names.count >= 3)
        for name in names {
            let bytes = try [UInt8](Data(contentsOf: dir.appendingPathComponent(name)))
            let parsed = Self.checked(bytes, path: "manifests/\(name)")
            #expect(parsed.diagnostics == [])
            #expect(parsed.services.count == 1)
        }
    }

    // MARK: Generated variants

    /// A tiny YAML writer: one abstract document, spelled in block or flow style, keys and
    /// strings plain or quoted, chosen by a seeded generator.
    indirect enum Value {
        case int(Int)
        /// Written plain, always (numbers such as `0.5`).
        case raw(String)
        /// A string: `plainOK` when it may be written plain and still read as that string.
        case str(String, plainOK: Bool)
        case map([(String, Value)])
        case seq([Value])
    }

    struct Rng {
        var base: SeededRandom
        init(state: UInt64) { base = SeededRandom(seed: state) }
        mutating func next() -> UInt64 { base.next() }
        mutating func int(_ n: Int) -> Int { base.below(n) }
        mutating func chance(_ n: Int) -> Bool { int(n) == 0 }
        mutating func pick<T>(_ xs: [T]) -> T { xs[int(xs.count)] }
    }

    static func quoted(_ s: String, _ rng: inout Rng, plainOK: Bool) -> String {
        switch rng.int(plainOK ? 3 : 2) {
        case 0: return "'" + s.replacingOccurrences(of: "'", with: "''") + "'"
        case 1: return "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        default: return s
        }
    }

    static func key(_ k: String, _ rng: inout Rng) -> String { quoted(k, &rng, plainOK: true) }

    static func flow(_ v: Value, _ rng: inout Rng) -> String {
        switch v {
        case .int(let n): return "\(n)"
        case .raw(let text): return text
        case .str(let s, let plainOK): return quoted(s, &rng, plainOK: plainOK && !s.contains(",") && !s.contains("{"))
        case .seq(let items): return "[" + items.map { flow($0, &rng) }.joined(separator: ", ") + "]"
        case .map(let entries): return "{" + entries.map { key($0.0, &rng) + ": " + flow($0.1, &rng) }.joined(separator: ", ") + "}"
        }
    }

    static func block(_ v: Value, indent: Int, _ rng: inout Rng) -> String {
        let pad = String(repeating: " ", count: indent)
        switch v {
        case .map(let entries):
            var out = ""
            for (k, value) in entries {
                out += pad + key(k, &rng) + ":"
                switch value {
                case .map, .seq:
                    if rng.chance(3) {
                        out += " " + flow(value, &rng) + (rng.chance(4) ? "  # a comment" : "") + "\n"
                    } else {
                        out += "\n" + block(value, indent: indent + 2, &rng)
                    }
                default:
                    out += " " + flow(value, &rng) + "\n"
                }
            }
            return out
        case .seq(let items):
            var out = ""
            for item in items {
                switch item {
                case .map, .seq:
                    if rng.chance(2) {
                        out += pad + "- " + flow(item, &rng) + "\n"
                    } else {
                        out += pad + "-\n" + block(item, indent: indent + 2, &rng)
                    }
                default:
                    out += pad + "- " + flow(item, &rng) + "\n"
                }
            }
            return out
        default:
            return pad + flow(v, &rng) + "\n"
        }
    }

    /// A random valid service using (over many seeds) every field and value form.
    static func randomService(_ i: Int, _ rng: inout Rng) -> Value {
        let words = ["booking", "customer", "payment", "search", "café", "naïve-app"]
        func s(_ text: String) -> Value { .str(text, plainOK: true) }
        let name = "svc-\(i)"
        var metadata: [(String, Value)] = [("name", s(name))]
        if rng.chance(2) {
            var labels: [(String, Value)] = [("team", s(rng.pick(["travel", "money"])))]
            if rng.chance(2) { labels.append(("note", .str("№\(i) — \(rng.pick(words))", plainOK: false))) }
            if rng.chance(3) { labels.append(("app.kubernetes.io/name", s(name))) }
            metadata.append(("labels", .map(labels)))
        }
        var spec: [(String, Value)] = [("image", s(rng.pick(["nginx", "shop/booking:1.0", "registry.local/a/b:1.2.3", "localhost:5000/x:y"])))]
        if rng.chance(2) { spec.append(("replicas", .int(rng.int(7)))) }
        if rng.chance(2) { spec.append(("command", .seq([s("/bin/httpd"), s("-f"), .str("a b, c", plainOK: false), .int(8080)]))) }
        if rng.chance(2) {
            var env: [(String, Value)] = [("LOG_LEVEL", s("info")), ("PORT", .str("8080", plainOK: true))]
            for k in 0..<rng.int(5) {
                env.append(("VAR_\(k)", rng.chance(2) ? .str("http://x-\(k):8080/v1 — ü", plainOK: false) : s(rng.pick(["on", "off", "true", "42", "x"]))))
            }
            spec.append(("env", .map(env)))
        }
        if rng.chance(2) {
            var ports: [Value] = [.map([("containerPort", .int(8080))] + (rng.chance(2) ? [("publish", .int(20000 + i))] : []))]
            if rng.chance(3) { ports.insert(.map([("publish", .int(30000 + i)), ("containerPort", .int(9090))]), at: 0) }
            spec.append(("ports", .seq(ports)))
        }
        if rng.chance(2) { spec.append(("dependsOn", .seq([s("customer"), s("auth-\(i)")]))) }
        if rng.chance(2) {
            var health: [(String, Value)] = []
            switch rng.int(3) {
            case 0: health.append(("http", .map([("path", s("/healthz")), ("port", .int(8080))])))
            case 1: health.append(("tcp", .map([("port", .int(8080))])))
            default: health.append(("exec", .map([("command", .seq([s("/bin/sh"), s("-c"), .str("test -f /tmp/ready", plainOK: true)]))])))
            }
            if rng.chance(2) { health.append(("interval", s(rng.pick(["2s", "500ms", "1m30s"])))) }
            if rng.chance(2) { health.append(("timeout", s("1s"))) }
            if rng.chance(2) { health.append(("startPeriod", s("0s"))) }
            if rng.chance(2) { health.append(("failureThreshold", .int(1 + rng.int(5)))) }
            if rng.chance(2) { health.reverse() }
            spec.append(("health", .map(health)))
        }
        if rng.chance(2) {
            spec.append(("update", .map([
                ("strategy", s(rng.pick(["rolling", "recreate"]))),
                ("maxSurge", rng.chance(2) ? .int(1 + rng.int(3)) : .str("25%", plainOK: true)),
                ("maxUnavailable", .int(rng.int(2))),
                ("progressDeadline", s("120s")),
                ("onFailure", s(rng.pick(["rollback", "pause"]))),
            ])))
        }
        if rng.chance(2) { spec.append(("stopGracePeriod", s(rng.pick(["10s", "0s", "1h2m3s"])))) }
        if rng.chance(2) { spec.append(("restart", s(rng.pick(["always", "on-failure", "never"])))) }
        if rng.chance(2) {
            spec.append(("resources", .map([("cpus", .raw(rng.pick(["0.5", "1", "2.250"]))), ("memory", s(rng.pick(["256Mi", "1Gi", "512M", "64Mi"])))])))
        }
        if rng.chance(3) {
            spec.append(("autoscale", .map([("min", .int(2)), ("max", .int(10)), ("targetRequestsPerSecond", .int(50)), ("scaleDownDelay", s("60s"))])))
        }
        if rng.chance(3) { spec.shuffle(using: &rng) }
        var top: [(String, Value)] = [
            ("apiVersion", s("berth/v1")), ("kind", s("Service")), ("metadata", .map(metadata)), ("spec", .map(spec)),
        ]
        if rng.chance(4) { top.reverse() }
        return .map(top)
    }

    /// What the generator meant: the service an abstract document describes, worked out
    /// from the abstract values (no YAML), with the format's defaults.
    static func expectedService(_ document: Value) -> ServiceSpec {
        func text(_ v: Value?) -> String {
            switch v {
            case .int(let n): "\(n)"
            case .raw(let t), .str(let t, _): t
            default: ""
            }
        }
        func map(_ v: Value?) -> [(String, Value)] { if case .map(let e) = v { e } else { [] } }
        func seq(_ v: Value?) -> [Value] { if case .seq(let items) = v { items } else { [] } }
        func field(_ entries: [(String, Value)], _ name: String) -> Value? { entries.first { $0.0 == name }?.1 }
        func strings(_ entries: [(String, Value)]) -> [String: String] {
            Dictionary(entries.map { ($0.0, text($0.1)) }, uniquingKeysWith: { a, _ in a })
        }
        let top = map(document)
        let metadata = map(field(top, "metadata")), f = map(field(top, "spec"))
        var spec = ServiceSpec(name: text(field(metadata, "name")), labels: strings(map(field(metadata, "labels"))), image: text(field(f, "image")))
        if let v = field(f, "replicas") { spec.replicas = Int(text(v))! }
        if let v = field(f, "command") { spec.command = seq(v).map { text($0) } }
        if let v = field(f, "env") { spec.env = strings(map(v)) }
        if let v = field(f, "ports") {
            spec.ports = seq(v).map { p in
                PortSpec(containerPort: Int(text(field(map(p), "containerPort")))!, publish: field(map(p), "publish").map { Int(text($0))! })
            }.sorted { $0.containerPort < $1.containerPort }
        }
        if let v = field(f, "dependsOn") { spec.dependsOn = seq(v).map { text($0) }.sorted() }
        if let v = field(f, "health") {
            let h = map(v)
            let probe: HealthCheck.Probe
            if let http = field(h, "http") {
                probe = .http(path: field(map(http), "path").map { text($0) } ?? "/", port: Int(text(field(map(http), "port")))!)
            } else if let tcp = field(h, "tcp") {
                probe = .tcp(port: Int(text(field(map(tcp), "port")))!)
            } else {
                probe = .exec(command: seq(field(map(field(h, "exec")), "command")).map { text($0) })
            }
            var check = HealthCheck(probe: probe)
            if let d = field(h, "interval") { check.interval = Millis(parsing: text(d))! }
            if let d = field(h, "timeout") { check.timeout = Millis(parsing: text(d))! }
            if let d = field(h, "startPeriod") { check.startPeriod = Millis(parsing: text(d))! }
            if let n = field(h, "failureThreshold") { check.failureThreshold = Int(text(n))! }
            spec.health = check
        }
        if let v = field(f, "update") {
            let u = map(v)
            func amount(_ v: Value?) -> IntOrPercent {
                let t = text(v)
                return t.hasSuffix("%") ? .percent(Int(t.dropLast())!) : .count(Int(t)!)
            }
            spec.update = UpdatePolicy(
                strategy: .init(rawValue: text(field(u, "strategy")))!, maxSurge: amount(field(u, "maxSurge")),
                maxUnavailable: amount(field(u, "maxUnavailable")), progressDeadline: Millis(parsing: text(field(u, "progressDeadline")))!,
                onFailure: .init(rawValue: text(field(u, "onFailure")))!)
        }
        if let v = field(f, "stopGracePeriod") { spec.stopGracePeriod = Millis(parsing: text(v))! }
        if let v = field(f, "restart") { spec.restart = RestartPolicy(rawValue: text(v))! }
        if let v = field(f, "resources") {
            let r = map(v)
            let cpus = text(field(r, "cpus")).split(separator: ".", omittingEmptySubsequences: false)
            let fraction = cpus.count > 1 ? String(cpus[1]) : ""
            let milli = Int(cpus[0])! * 1000 + (fraction.isEmpty ? 0 : Int((fraction + "000").prefix(3))!)
            spec.resources = Resources(milliCPUs: milli, memory: Formats.generalMemoryBytes(text(field(r, "memory"))))
        }
        if let v = field(f, "autoscale") {
            let a = map(v)
            spec.autoscale = Autoscale(
                min: Int(text(field(a, "min")))!, max: Int(text(field(a, "max")))!,
                targetRequestsPerSecond: Int(text(field(a, "targetRequestsPerSecond")))!,
                scaleDownDelay: Millis(parsing: text(field(a, "scaleDownDelay")))!)
        }
        return spec
    }

    @Test func generatedSpellingsDecodeToWhatTheyMean() {
        var rng = Rng(state: 0x5EED)
        var documents = 0
        for round in 0..<400 {
            var text = ""
            var expected: [ServiceSpec] = []
            let count = 1 + rng.int(3)
            if rng.chance(3) { text += "%YAML 1.1\n---\n" } else if rng.chance(2) { text += "--- # first\n" }
            for d in 0..<count {
                if d > 0 { text += rng.chance(3) ? "...\n---\n" : "---\n" }
                let doc = Self.randomService(round * 10 + d, &rng)
                expected.append(Self.expectedService(doc))
                text += rng.chance(5) ? Self.flow(doc, &rng) + "\n" : Self.block(doc, indent: 0, &rng)
            }
            if rng.chance(4) { text = text.replacingOccurrences(of: "\n", with: "\r\n") }
            if rng.chance(4) { text = "\u{FEFF}" + text }
            let parsed = Self.checked(text, path: "gen/\(round).yaml")
            #expect(parsed.diagnostics.map(\.rendered) == [], "\(text)")
            #expect(parsed.services == expected, "\(text)")
            documents += parsed.services.count
        }
        #expect(documents > 700)
    }
}

extension ManifestSpellingTests.Rng: RandomNumberGenerator {}

/// Documents with every YAML feature and every kind of problem: each reported the same
/// wherever it stands in a stream, between valid documents that stay valid.
@Suite struct ManifestSurpriseTests {
    static let base = ManifestSpellingTests.everyField

    /// `base` with `old` replaced by `new` (which must occur).
    static func variant(_ old: String, _ new: String) -> String {
        precondition(base.contains(old), old)
        return base.replacingOccurrences(of: old, with: new)
    }

    /// (what, document): each something other than a plain valid document; most are errors.
    static let surprises: [(String, String)] = [
        ("anchor", variant("replicas: 3", "replicas: &r 3")),
        ("alias", variant("timeout: 1s", "timeout: &t 1s\n    startPeriod: *t").replacingOccurrences(of: "    startPeriod: 0s\n", with: "")),
        ("merge key", variant("  update:\n", "  update:\n    <<: {onFailure: rollback}\n")),
        ("explicit tag", variant("replicas: 3", "replicas: !!int 3")),
        ("tagged mapping", variant("resources: {", "resources: !!map {")),
        ("unknown field", variant("replicas: 3", "replica: 3")),
        ("unknown top field", "extra: 1\n" + base),
        ("wrong type", variant("replicas: 3", "replicas: three")),
        ("quoted number", variant("replicas: 3", "replicas: \"3\"")),
        ("negative", variant("replicas: 3", "replicas: -1")),
        ("hex number", variant("replicas: 3", "replicas: 0x3")),
        ("list for a mapping", variant("  resources: {cpus: 0.5, memory: 256Mi}", "  resources: [0.5]")),
        ("null spec", "apiVersion: berth/v1\nkind: Service\nmetadata: {name: a}\nspec:\n"),
        ("bad image", variant("image: registry.local/travel/booking:1.2.3", "image: Registry/Booking")),
        ("image the general path accepts", variant("image: registry.local/travel/booking:1.2.3", "image: \"a\\tb\"")),
        ("port 0", variant("publish: 28080", "publish: 0")),
        ("port too big", variant("publish: 28080", "publish: 70000")),
        ("bad duration", variant("interval: 500ms", "interval: 1.5s")),
        ("zero interval", variant("interval: 500ms", "interval: 0s")),
        ("small memory", variant("memory: 256Mi", "memory: 1Mi")),
        ("zero cpus", variant("cpus: 0.5", "cpus: 0")),
        ("quoted cpus", variant("cpus: 0.5", "cpus: '0.5'")),
        ("both zero", variant("maxSurge: \"25%\"", "maxSurge: 0")),
        ("min over max", variant("{min: 2, max: 10,", "{min: 20, max: 10,")),
        ("autoscale without max", variant("{min: 2, max: 10,", "{min: 2,")),
        ("two probes", variant("    http: {path: /healthz, port: 8080}\n", "    http: {path: /healthz, port: 8080}\n    tcp: {port: 8080}\n")),
        ("no probe", variant("    http: {path: /healthz, port: 8080}\n", "")),
        ("http without port", variant("http: {path: /healthz, port: 8080}", "http: {path: /healthz}")),
        ("path without slash", variant("path: /healthz", "path: healthz")),
        ("path with a combining mark", variant("path: /healthz", "path: \"/\u{301}x\"")),
        ("missing name", variant("  name: booking\n", "")),
        ("missing image", variant("  image: registry.local/travel/booking:1.2.3\n", "")),
        ("missing apiVersion", variant("apiVersion: berth/v1\n", "")),
        ("missing kind", variant("kind: Service\n", "")),
        ("foreign apiVersion", variant("apiVersion: berth/v1", "apiVersion: apps/v1")),
        ("kind in lower case", variant("kind: Service", "kind: service")),
        ("bad name", variant("name: booking", "name: Booking_1")),
        ("null name", variant("name: booking", "name: null")),
        ("duplicate field", variant("replicas: 3", "replicas: 3\n  replicas: 4")),
        ("duplicate quoted field", variant("replicas: 3", "replicas: 3\n  'replicas': 4")),
        ("duplicate env key", variant("PORT: \"8080\"", "PORT: \"8080\"\n    \"PORT\": x")),
        ("env keys 1 and \"1\"", variant("PORT: \"8080\"", "PORT: \"8080\"\n    1: a\n    \"1\": b")),
        ("env key true", variant("PORT: \"8080\"", "PORT: \"8080\"\n    true: a")),
        ("env key null", variant("PORT: \"8080\"", "PORT: \"8080\"\n    ~: a")),
        ("env key with =", variant("PORT: \"8080\"", "PORT: \"8080\"\n    \"A=B\": a")),
        ("empty env key", variant("PORT: \"8080\"", "PORT: \"8080\"\n    \"\": a")),
        ("non-ASCII env key", variant("PORT: \"8080\"", "PORT: \"8080\"\n    CAFÉ: a")),
        ("env value a list", variant("PORT: \"8080\"", "PORT: [8080]")),
        ("env merge key", variant("PORT: \"8080\"", "PORT: \"8080\"\n    <<: {A: b}")),
        ("reserved label", variant("team: travel,", "berth.team: travel,")),
        ("Kelvin sign in a key", variant("kind: Service", "\u{212A}ind: Service")),
        ("duplicate dependency", variant("dependsOn: [customer, \"auth\"]", "dependsOn: [customer, customer]")),
        ("non-ASCII dependency", variant("dependsOn: [customer, \"auth\"]", "dependsOn: [customer, \"e\u{301}\", \"\u{e9}\"]")),
        ("null dependency", variant("dependsOn: [customer, \"auth\"]", "dependsOn: [customer, ~]")),
        ("duplicate container port", variant("- {containerPort: 9090}", "- {containerPort: 8080}")),
        ("duplicate publish", variant("- {containerPort: 9090}", "- {containerPort: 9090, publish: 28080}")),
        ("missing containerPort", variant("- {containerPort: 9090}", "- {publish: 9090}")),
        ("empty command", variant("command: [\"/bin/httpd\", \"-f\", '-p', 8080]", "command: []")),
        ("null in command", variant("command: [\"/bin/httpd\", \"-f\", '-p', 8080]", "command: [\"/bin/httpd\", null]")),
        ("yes for a strategy", variant("strategy: rolling", "strategy: yes")),
        ("restart typo", variant("restart: on-failure", "restart: onfailure")),
        ("a mapping as a key", variant("replicas: 3", "? {a: 1}\n  : 3")),
        ("root a list", "- a\n- b\n"),
        ("root a scalar", "just text\n"),
        ("empty document", "---\n"),
        ("deep nesting", variant("replicas: 3", "replicas: " + String(repeating: "[", count: 300) + String(repeating: "]", count: 300))),
        ("unknown alias", variant("replicas: 3", "replicas: *nope")),
        ("bad merge", variant("  update:\n", "  update:\n    <<: 3\n")),
        ("scanner error in the document", variant("replicas: 3", "replicas: 3\n  env2: \"unterminated")),
        ("parser error after a surprise", variant("replicas: 3", "replica: 3\n  - x")),
        ("tab indentation", variant("  replicas: 3", "\treplicas: 3")),
    ]

    /// The diagnostics on lines `lines` (rendered), moved up by `lines.lowerBound - 1`
    /// lines, "first at" places included: as they read in a file that starts there.
    static func moved(_ diagnostics: [Diagnostic], from lines: ClosedRange<Int>) -> [String] {
        let offset = lines.lowerBound - 1
        return diagnostics.filter { lines.contains($0.line) }.map { d in
            var d = d
            d.line -= offset
            var message = d.message
            if let range = message.range(of: #"first at (\d+):"#, options: .regularExpression) {
                let digits = message[range].dropFirst("first at ".count).dropLast()
                message.replaceSubrange(range, with: "first at \(Int(digits)! - offset):")
            }
            d.message = message
            return d.rendered
        }
    }

    @Test(arguments: surprises.indices)
    func eachSurpriseIsReportedTheSameWhereverItStands(_ i: Int) {
        let (what, text) = Self.surprises[i]
        let alone = ManifestSpellingTests.checked(text)
        // Between a valid document before and after it: the same problems, further down.
        let before = ManifestSpellingTests.everyField.replacingOccurrences(of: "name: booking", with: "name: before")
        let after = ManifestSpellingTests.everyField.replacingOccurrences(of: "name: booking", with: "name: after")
        let framed = ManifestSpellingTests.checked(before + "---\n" + text + "\n---\n" + after)
        #expect(framed.declared.first?.name == "before", "\(what)")
        let first = before.split(separator: "\n", omittingEmptySubsequences: false).count + 1
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count
        if framed.declared.contains(where: { $0.name == "after" }) {
            // The stream went on: the document after it is valid, and the surprise's
            // problems are the same as alone (a fatal YAML error ends the stream instead).
            #expect(framed.services.last?.name == "after", "\(what)")
            // (A file that declares nothing is a warning of its own; framed, the file declares two.)
            let aloneProblems = alone.diagnostics.filter { !$0.message.hasPrefix("the file declares nothing") }
            #expect(Self.moved(framed.diagnostics, from: first...(first + lines - 1)) == aloneProblems.map(\.rendered), "\(what)")
        } else {
            #expect(!alone.diagnostics.isEmpty, "\(what)")
        }
        // Three times, between valid documents; with a byte-order mark, CRLF line ends and a
        // directive.
        let valid = { (name: String) in
            ManifestSpellingTests.everyField.replacingOccurrences(of: "name: booking", with: "name: \(name)")
                .replacingOccurrences(of: "publish: 28080", with: "publish: \(28000 + name.count)")
        }
        let thrice = valid("one") + "---\n" + text + "\n---\n" + valid("two") + "---\n" + text + "\n---\n" + text
            + "\n---\n" + valid("three")
        #expect(ManifestSpellingTests.checked(thrice).declared.first?.name == "one", "\(what)")
        let crlf = "\u{FEFF}%YAML 1.1\n---\n" + (valid("one") + "---\n" + text).replacingOccurrences(of: "\n", with: "\r\n")
        #expect(ManifestSpellingTests.checked(crlf).declared.first?.name == "one", "\(what)")
    }

    @Test func surprisesReportWhatTheyShould() {
        // A few spelled out, so the comparison above cannot pass by both sides being empty.
        let unknown = ManifestSpellingTests.checked(Self.variant("replicas: 3", "replica: 3"))
        #expect(unknown.diagnostics.map(\.rendered) == [
            "m.yaml:8:3: error: spec.replica: unknown field \"replica\"; did you mean \"replicas\"?"
        ])
        let duplicate = ManifestSpellingTests.checked(Self.variant("PORT: \"8080\"", "PORT: \"8080\"\n    \"PORT\": x"))
        #expect(duplicate.diagnostics.map(\.rendered) == [
            "m.yaml:13:5: error: duplicate key \"PORT\" (first at 12:5); the first value is used, remove one of them"
        ])
        let anchored = ManifestSpellingTests.checked(Self.variant("replicas: 3", "replicas: &r 3"))
        #expect(anchored.diagnostics == [])
        #expect(anchored.services.map(\.replicas) == [3])
    }

    @Test func libyamlErrorsAfterValidDocuments() {
        let valid = ManifestSpellingTests.everyField
        for tail in ["key: \"unterminated\n", "a: b\n- c\n", "\tx: 1\n", "x: [1, 2\n"] {
            let parsed = ManifestSpellingTests.checked(valid + "---\n" + valid.replacingOccurrences(of: "name: booking", with: "name: second") + "---\n" + tail)
            #expect(parsed.declared.map(\.name) == ["booking", "second"], "\(tail)")
            // The error's place is after the last delivered document's start, so that
            // document counts as broken (as it always has): one service.
            #expect(parsed.services.map(\.name) == ["booking"], "\(tail)")
            #expect(parsed.diagnostics.count == 1, "\(tail)")
        }
        // A libyaml error inside an ordinary document: the document is dropped.
        let broken = ManifestSpellingTests.checked(valid.replacingOccurrences(of: "replicas: 3", with: "replicas: \"3"))
        #expect(broken.declared.isEmpty)
        #expect(broken.services.isEmpty)
        // The same after a document with an anchor.
        let anchored = valid.replacingOccurrences(of: "replicas: 3", with: "replicas: &r 3")
        for tail in ["replicas: \"3", "a: 'open", "x: [1, 2\n"] {
            let afterAnchor = ManifestSpellingTests.checked(anchored + "---\n" + valid.replacingOccurrences(of: "replicas: 3", with: tail))
            #expect(afterAnchor.declared.map(\.name) == ["booking"], "\(tail)")
            #expect(afterAnchor.diagnostics.count == 1, "\(tail)")
        }
        // Invalid UTF-8 after many valid documents.
        var bytes: [UInt8] = []
        for k in 0..<40 { bytes += Array((valid.replacingOccurrences(of: "name: booking", with: "name: s\(k)") + "---\n").utf8) }
        bytes += [0x61, 0x3A, 0x20, 0xFF, 0x0A]
        let utf8 = ManifestSpellingTests.checked(bytes)
        // libyaml reads 16 KiB at a time: the documents of the block with the bad byte are lost.
        #expect(utf8.declared.count == 36)
        #expect(utf8.diagnostics.map(\.message) == ["invalid leading UTF-8 octet (byte 0xFF); the file must be UTF-8 (or UTF-16) text"])
    }

    @Test func aSurpriseLateInALongDocument() {
        // A long document (600 more env entries), then a duplicate key late in it.
        var env = ""
        for k in 0..<600 { env += "    VAR_\(k): value \(k)\n" }
        let text = ManifestSpellingTests.everyField.replacingOccurrences(of: "    LOG_LEVEL: info\n", with: env + "    LOG_LEVEL: info\n")
        let ok = ManifestSpellingTests.checked(text)
        #expect(ok.services.first?.env.count == 606)
        let late = ManifestSpellingTests.checked(text.replacingOccurrences(of: "    LOG_LEVEL: info\n", with: "    LOG_LEVEL: info\n    VAR_3: again\n"))
        #expect(late.services.isEmpty)
        #expect(late.diagnostics.map(\.message).contains { $0.hasPrefix("duplicate key \"VAR_3\"") })
    }

    @Test func emptyInputsAndComments() {
        for text in ["", "# only a comment\n", "\u{FEFF}", "---\n...\n", "--- # empty\n---\n"] {
            let parsed = ManifestSpellingTests.checked(text)
            #expect(parsed.declared.isEmpty, "\(text.debugDescription)")
            #expect(parsed.diagnostics.map(\.rendered) == [
                "m.yaml:1:1: warning: the file declares nothing (it is empty, or holds only comments); add a Service to it, or delete it"
            ], "\(text.debugDescription)")
        }
    }
}
