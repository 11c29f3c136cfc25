import Foundation
import Testing
import BerthTestSupport
@testable import BerthCore

/// `ManifestLoader.parse`'s fast path (`FastServiceDecoder`, libyaml events straight into
/// the model) gives exactly the node-tree path's answer: the same services, declarations,
/// places and revisions for every document it accepts, and for every document it gives up
/// on the tree path's own diagnostics.
@Suite struct ManifestFastDecoderTests {
    // MARK: Comparing the two paths

    struct Outcome {
        var fast: FileManifests
        var tree: FileManifests
        var stats: ManifestLoader.ParseStats
    }

    /// Parses `bytes` both ways and expects the same result, down to the sources,
    /// revisions and diagnostics; returns both for further checks.
    @discardableResult
    static func bothWays(_ bytes: [UInt8], path: String = "m.yaml", sourceLocation: SourceLocation = #_sourceLocation) -> Outcome {
        let file = ManifestFile(path: path, bytes: bytes)
        var stats = ManifestLoader.ParseStats()
        var treeStats = ManifestLoader.ParseStats()
        let fast = ManifestLoader.parse(file, fastPath: true, stats: &stats)
        let tree = ManifestLoader.parse(file, fastPath: false, stats: &treeStats)
        #expect(treeStats.fast == 0, sourceLocation: sourceLocation)
        #expect(fast == tree, sourceLocation: sourceLocation)
        #expect(fast.diagnostics.map(\.rendered) == tree.diagnostics.map(\.rendered), sourceLocation: sourceLocation)
        // Equality of specs ignores `source` and the memoized revision: compare them too.
        #expect(fast.declared.map(\.source) == tree.declared.map(\.source), sourceLocation: sourceLocation)
        #expect(fast.declared.map { $0.spec?.source } == tree.declared.map { $0.spec?.source }, sourceLocation: sourceLocation)
        #expect(fast.services.map(\.cachedRevision) == tree.services.map(\.cachedRevision), sourceLocation: sourceLocation)
        #expect(fast.services.map(\.cachedRevision) == tree.services.map { Revision(of: $0) }, sourceLocation: sourceLocation)
        #expect(fast.declared.map(\.dependsOn) == tree.declared.map(\.dependsOn), sourceLocation: sourceLocation)
        #expect(fast.declared.map(\.published) == tree.declared.map(\.published), sourceLocation: sourceLocation)
        let fastState = ManifestLoader.assemble([fast]), treeState = ManifestLoader.assemble([tree])
        #expect(fastState == treeState, sourceLocation: sourceLocation)
        #expect(fastState.diagnostics.map(\.rendered) == treeState.diagnostics.map(\.rendered), sourceLocation: sourceLocation)
        return Outcome(fast: fast, tree: tree, stats: stats)
    }

    @discardableResult
    static func bothWays(_ text: String, path: String = "m.yaml", sourceLocation: SourceLocation = #_sourceLocation) -> Outcome {
        bothWays(Array(text.utf8), path: path, sourceLocation: sourceLocation)
    }

    // MARK: Valid documents take the fast path

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

    @Test func everyFieldDecodesOnTheFastPath() throws {
        let outcome = Self.bothWays(Self.everyField)
        #expect(outcome.stats == .init(fast: 1, tree: 0))
        #expect(outcome.fast.diagnostics == [])
        let spec = try #require(outcome.fast.services.first)
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
        #expect(outcome.fast.declared[0].published.map(\.path) == ["spec.ports[0].publish"])
        #expect(outcome.fast.declared[0].dependsOn.map(\.path) == ["spec.dependsOn[0]", "spec.dependsOn[1]"])
        #expect(outcome.fast.declared[0].dependsOn.map(\.source.description) == ["m.yaml:23:15", "m.yaml:23:25"])
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
            let outcome = Self.bothWays(text)
            #expect(outcome.stats == .init(fast: 1, tree: 0), "\(text)")
            #expect(outcome.fast.diagnostics == [], "\(text)")
        }
    }

    @Test func theSampleManifests() throws {
        // Every sample uses an anchor (and booking a merge key): they fall back, with the same result.
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../manifests").standardized
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(names.count >= 3)
        for name in names {
            let bytes = try [UInt8](Data(contentsOf: dir.appendingPathComponent(name)))
            let outcome = Self.bothWays(bytes, path: "manifests/\(name)")
            #expect(outcome.fast.diagnostics == [])
            #expect(outcome.fast.services.count == 1)
            #expect(outcome.stats == .init(fast: 0, tree: 1))
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

    @Test func generatedVariantsDecodeTheSameBothWays() {
        var rng = Rng(state: 0x5EED)
        var fastDocuments = 0
        var documents = 0
        for round in 0..<400 {
            var text = ""
            let count = 1 + rng.int(3)
            if rng.chance(3) { text += "%YAML 1.1\n---\n" } else if rng.chance(2) { text += "--- # first\n" }
            for d in 0..<count {
                if d > 0 { text += rng.chance(3) ? "...\n---\n" : "---\n" }
                let doc = Self.randomService(round * 10 + d, &rng)
                text += rng.chance(5) ? Self.flow(doc, &rng) + "\n" : Self.block(doc, indent: 0, &rng)
            }
            if rng.chance(4) { text = text.replacingOccurrences(of: "\n", with: "\r\n") }
            if rng.chance(4) { text = "\u{FEFF}" + text }
            let outcome = Self.bothWays(text, path: "gen/\(round).yaml")
            #expect(outcome.fast.diagnostics.map(\.rendered) == [], "\(text)")
            #expect(outcome.stats == .init(fast: count, tree: 0), "\(text)")
            fastDocuments += outcome.stats.fast
            documents += count
        }
        #expect(fastDocuments == documents)
    }
}

extension ManifestFastDecoderTests.Rng: RandomNumberGenerator {}

/// Every kind of surprise makes the fast path give up on that document, and the tree path
/// then reports exactly what it reports without a fast path.
@Suite struct ManifestFastDecoderFallbackTests {
    static let base = ManifestFastDecoderTests.everyField

    /// `base` with `old` replaced by `new` (which must occur).
    static func variant(_ old: String, _ new: String) -> String {
        precondition(base.contains(old), old)
        return base.replacingOccurrences(of: old, with: new)
    }

    /// (what, document): each a surprise for the fast path; most are errors.
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

    @Test(arguments: surprises.indices)
    func eachSurpriseFallsBackWithTheSameDiagnostics(_ i: Int) {
        let (what, text) = Self.surprises[i]
        let outcome = ManifestFastDecoderTests.bothWays(text)
        #expect(outcome.stats.fast == 0, "\(what)")
        // Between a valid document before and after it, only the surprise falls back.
        let framed = ManifestFastDecoderTests.everyField.replacingOccurrences(of: "name: booking", with: "name: before")
            + "---\n" + text + "\n---\n"
            + ManifestFastDecoderTests.everyField.replacingOccurrences(of: "name: booking", with: "name: after")
        let both = ManifestFastDecoderTests.bothWays(framed)
        #expect(both.stats.fast >= 1, "\(what)")
        #expect(both.fast.declared.first?.name == "before", "\(what)")
        // The first surprise of a stream is replayed by parsing again, later ones from
        // the kept events: a stream with the surprise three times, between valid documents.
        let valid = { (name: String) in
            ManifestFastDecoderTests.everyField.replacingOccurrences(of: "name: booking", with: "name: \(name)")
                .replacingOccurrences(of: "publish: 28080", with: "publish: \(28000 + name.count)")
        }
        let thrice = valid("one") + "---\n" + text + "\n---\n" + valid("two") + "---\n" + text + "\n---\n" + text
            + "\n---\n" + valid("three")
        ManifestFastDecoderTests.bothWays(thrice)
        // With a byte-order mark, CRLF line ends and a directive.
        let crlf = "\u{FEFF}%YAML 1.1\n---\n" + (valid("one") + "---\n" + text).replacingOccurrences(of: "\n", with: "\r\n")
        ManifestFastDecoderTests.bothWays(crlf)
    }

    @Test func surprisesReportWhatTheTreePathReports() {
        // A few spelled out, so the comparison above cannot pass by both sides being empty.
        let unknown = ManifestFastDecoderTests.bothWays(Self.variant("replicas: 3", "replica: 3"))
        #expect(unknown.fast.diagnostics.map(\.rendered) == [
            "m.yaml:8:3: error: spec.replica: unknown field \"replica\"; did you mean \"replicas\"?"
        ])
        #expect(unknown.stats == .init(fast: 0, tree: 1))
        let duplicate = ManifestFastDecoderTests.bothWays(Self.variant("PORT: \"8080\"", "PORT: \"8080\"\n    \"PORT\": x"))
        #expect(duplicate.fast.diagnostics.map(\.rendered) == [
            "m.yaml:13:5: error: duplicate key \"PORT\" (first at 12:5); the first value is used, remove one of them"
        ])
        let anchored = ManifestFastDecoderTests.bothWays(Self.variant("replicas: 3", "replicas: &r 3"))
        #expect(anchored.fast.diagnostics == [])
        #expect(anchored.fast.services.map(\.replicas) == [3])
        #expect(anchored.stats == .init(fast: 0, tree: 1))
    }

    @Test func libyamlErrorsAfterFastDocuments() {
        let valid = ManifestFastDecoderTests.everyField
        for tail in ["key: \"unterminated\n", "a: b\n- c\n", "\tx: 1\n", "x: [1, 2\n"] {
            let outcome = ManifestFastDecoderTests.bothWays(valid + "---\n" + valid.replacingOccurrences(of: "name: booking", with: "name: second") + "---\n" + tail)
            #expect(outcome.stats == .init(fast: 2, tree: 0), "\(tail)")
            #expect(outcome.fast.declared.map(\.name) == ["booking", "second"], "\(tail)")
            // The error's place is after the last delivered document's start, so that
            // document counts as broken (as it always has): one service.
            #expect(outcome.fast.services.map(\.name) == ["booking"], "\(tail)")
            #expect(outcome.fast.diagnostics.count == 1, "\(tail)")
        }
        // A libyaml error inside an ordinary document: the document is dropped, as before.
        let broken = ManifestFastDecoderTests.bothWays(valid.replacingOccurrences(of: "replicas: 3", with: "replicas: \"3"))
        #expect(broken.stats == .init(fast: 0, tree: 0))
        #expect(broken.fast.services.isEmpty)
        // The same after an earlier surprise (the broken document's events are then kept
        // and replayed before the error).
        let anchored = valid.replacingOccurrences(of: "replicas: 3", with: "replicas: &r 3")
        for tail in ["replicas: \"3", "a: 'open", "x: [1, 2\n"] {
            let afterSurprise = ManifestFastDecoderTests.bothWays(anchored + "---\n" + valid.replacingOccurrences(of: "replicas: 3", with: tail))
            #expect(afterSurprise.stats == .init(fast: 0, tree: 1), "\(tail)")
            #expect(afterSurprise.fast.diagnostics.count == 1, "\(tail)")
        }
        // Invalid UTF-8 after many valid documents.
        var bytes: [UInt8] = []
        for k in 0..<40 { bytes += Array((valid.replacingOccurrences(of: "name: booking", with: "name: s\(k)") + "---\n").utf8) }
        bytes += [0x61, 0x3A, 0x20, 0xFF, 0x0A]
        ManifestFastDecoderTests.bothWays(bytes)
    }

    @Test func aSurpriseLateInALongDocument() {
        // More events than the reader's first buffer holds, then a duplicate key.
        var env = ""
        for k in 0..<600 { env += "    VAR_\(k): value \(k)\n" }
        let text = ManifestFastDecoderTests.everyField.replacingOccurrences(of: "    LOG_LEVEL: info\n", with: env + "    LOG_LEVEL: info\n")
        let ok = ManifestFastDecoderTests.bothWays(text)
        #expect(ok.stats == .init(fast: 1, tree: 0))
        #expect(ok.fast.services.first?.env.count == 606)
        let late = ManifestFastDecoderTests.bothWays(text.replacingOccurrences(of: "    LOG_LEVEL: info\n", with: "    LOG_LEVEL: info\n    VAR_3: again\n"))
        #expect(late.stats == .init(fast: 0, tree: 1))
        #expect(late.fast.diagnostics.map(\.message).contains { $0.hasPrefix("duplicate key \"VAR_3\"") })
    }

    @Test func emptyInputsAndComments() {
        for text in ["", "# only a comment\n", "\u{FEFF}", "---\n...\n", "--- # empty\n---\n"] {
            let outcome = ManifestFastDecoderTests.bothWays(text)
            #expect(outcome.stats.fast == 0, "\(text.debugDescription)")
            #expect(outcome.fast.services.isEmpty)
        }
    }
}
