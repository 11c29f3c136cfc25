import Testing
import BerthCore

/// Hostile input through the whole manifest loader (the fast decoder first, the node-tree
/// path on its first surprise, then the checks across files), not only through the YAML
/// parser: never a crash or a hang, every problem at its place, the other files kept.
@Suite struct ManifestHostileInputTests {
    /// A valid neighbour file, to show one hostile file never costs the others.
    static let neighbour = ("ok.yaml", service("customer"))

    func load(_ bytes: [UInt8], path: String = "bad.yaml") -> DesiredState {
        ManifestLoader.load([
            ManifestFile(path: Self.neighbour.0, bytes: Array(Self.neighbour.1.utf8)),
            ManifestFile(path: path, bytes: bytes),
        ])
    }

    @Test func tenMegabyteValues() {
        // In an env value it is valid: taken verbatim.
        let big = String(repeating: "a", count: 10_000_000)
        let valid = load(Array(service("booking", "env: {BLOB: \"\(big)\"}").utf8))
        #expect(valid.diagnostics.isEmpty)
        #expect(valid.services["booking"]?.env["BLOB"]?.utf8.count == 10_000_000)
        // As an image it is an error whose message quotes a shortened value.
        let invalid = load(Array(service("booking", image: big).utf8))
        #expect(invalid.diagnostics.count == 1)
        #expect(invalid.diagnostics.first?.file == "bad.yaml")
        #expect(invalid.diagnostics.first?.line == 6)
        #expect(invalid.diagnostics.first?.column == 10)
        #expect((invalid.diagnostics.first?.rendered.utf8.count ?? .max) < 400)
        #expect(invalid.services.keys.sorted() == ["customer"])
    }

    @Test func tenThousandLevelsOfNesting() {
        let flow = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        let state = load(Array(service("booking", "command: \(flow)").utf8))
        #expect(state.diagnostics.map(\.rendered) == [
            "bad.yaml:7:266: error: collections nested more than 256 levels deep; flatten the document"
        ])
        #expect(state.services.keys.sorted() == ["customer"])
        // Block nesting (10,000 levels of it would be 100 MB of indentation: 300 will do).
        var block = service("booking") + "  labels:\n"
        for level in 1...300 { block += String(repeating: " ", count: 2 + 2 * level) + "k\(level):\n" }
        let blockState = load(Array(block.utf8))
        // Root, spec, labels (line 8), then one mapping per line: the 257th starts on line 262.
        #expect(blockState.diagnostics.map(\.rendered) == [
            "bad.yaml:262:513: error: collections nested more than 256 levels deep; flatten the document"
        ])
        #expect(blockState.services.keys.sorted() == ["customer"])
    }

    @Test func billionLaughs() {
        var text = service("booking") + "  labels:\n"
        text += "    a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for i in 1...9 {
            text += "    a\(i): &a\(i) [\(Array(repeating: "*a\(i - 1)", count: 9).joined(separator: ", "))]\n"
        }
        let state = load(Array(text.utf8))
        #expect(state.diagnostics.map(\.rendered) == [
            #"bad.yaml:13:14: error: aliases expand to more than 100000 nodes in this document (a "billion laughs" document?); use fewer or smaller aliases"#
        ])
        #expect(state.services.keys.sorted() == ["customer"])
    }

    @Test func everyTruncation() {
        let full = service("booking", "command: ['/bin/httpd', \"-f\"]\nenv: &env {A: \"text\"}\nhealth: {http: {path: /healthz, port: 8080}}\nlabels: *env")
        let bytes = Array(full.utf8)
        let lines = full.split(separator: "\n", omittingEmptySubsequences: false).count
        for n in 0...bytes.count {
            let state = load(Array(bytes[..<n]))
            // The neighbour always survives; every problem of the cut file is placed in it.
            #expect(state.services["customer"] != nil)
            for d in state.diagnostics where d.file == "bad.yaml" {
                #expect(d.line >= 1 && d.line <= lines && d.column >= 1, "cut at \(n): \(d.rendered)")
            }
        }
    }

    @Test func invalidUTF8TabsAndControlCharacters() {
        let invalid = load(Array("apiVersion: berth/v1\nkind: Serv".utf8) + [0xC3, 0x28] + Array("\n".utf8))
        #expect(invalid.diagnostics.map(\.rendered) == [
            "bad.yaml:2:12: error: invalid trailing UTF-8 octet (byte 0x28); the file must be UTF-8 (or UTF-16) text"
        ])
        let tabs = load(Array("apiVersion: berth/v1\nkind: Service\nmetadata:\n  name: booking\nspec:\n\timage: x\n".utf8))
        #expect(tabs.diagnostics.map(\.rendered) == [
            "bad.yaml:6:1: error: a tab in the indentation: YAML indents with spaces only; replace the tab with spaces"
        ])
        let control = load(Array(service("booking").utf8) + [0x07])
        #expect(control.diagnostics.count == 1)
        #expect(control.diagnostics.first?.message.hasPrefix("control characters are not allowed (U+0007)") == true)
        for state in [invalid, tabs, control] { #expect(state.services.keys.sorted() == ["customer"]) }
    }

    @Test func emptyAndCommentOnlyFiles() {
        for text in ["", "\n\n", "# nothing here\n# yet\n", "---\n# only a comment\n...\n"] {
            let state = load(Array(text.utf8))
            // A warning naming the file (issue 17), never an error: the other files load.
            #expect(state.diagnostics.map(\.rendered) == [
                "bad.yaml:1:1: warning: the file declares nothing (it is empty, or holds only comments); add a Service to it, or delete it"
            ], "\(text.debugDescription)")
            #expect(state.services.keys.sorted() == ["customer"])
        }
    }
}

/// Numbers too large for 64 bits, in every field that reads one: an error at the value,
/// never an arithmetic overflow (which would crash `berth watch`).
@Suite struct ManifestHugeNumberTests {
    func problems(_ specLines: String) -> [String] {
        ManifestLoader.load([ManifestFile(path: "m.yaml", bytes: Array(service("booking", specLines).utf8))])
            .diagnostics.map(\.rendered)
    }

    static let twenty = String(repeating: "9", count: 20)

    @Test func durations() {
        #expect(problems("health: {tcp: {port: 80}, interval: \(Self.twenty)s}") == [
            #"m.yaml:7:39: error: spec.health.interval: expected a duration greater than 0 such as 250ms, 2s or 1m30s, found "99999999999999999999s""#
        ])
        // Each part fits in 64 bits, their sum does not.
        let parts = String(repeating: "999999999999h", count: 3)
        #expect(problems("stopGracePeriod: \(parts)") == [
            #"m.yaml:7:20: error: spec.stopGracePeriod: expected a duration such as 250ms, 2s or 1m30s, found "999999999999h999999999999h999999999999h""#
        ])
        #expect(problems("stopGracePeriod: \(parts).5s") == [
            #"m.yaml:7:20: error: spec.stopGracePeriod: expected a duration such as 250ms, 2s or 1m30s, found "999999999999h999999999999h999999999999h.5s""#
        ])
        #expect(Millis(parsing: "999999999999h999999999999h999999999999h") == nil)
        let hours = Millis(parsing: "999999999999h1.5s")?.milliseconds
        #expect(hours == Int64(3_599_999_999_996_401_500))
    }

    @Test func cpusReplicasPortsAndMemory() {
        #expect(problems("resources: {cpus: \(Self.twenty)}") == [
            "m.yaml:7:21: error: spec.resources.cpus: expected a number of CPUs greater than 0 such as 0.5 or 2, found \(Self.twenty)"
        ])
        #expect(problems("resources: {cpus: \(Self.twenty).5}") == [
            "m.yaml:7:21: error: spec.resources.cpus: expected a number of CPUs greater than 0 such as 0.5 or 2, found \(Self.twenty).5"
        ])
        #expect(problems("replicas: \(Self.twenty)") == [
            "m.yaml:7:13: error: spec.replicas: expected an integer, found \(Self.twenty)"
        ])
        #expect(problems("ports: [{containerPort: \(Self.twenty)}]") == [
            "m.yaml:7:27: error: spec.ports[0].containerPort: expected a port number from 1 to 65535, found \(Self.twenty)"
        ])
        #expect(problems("resources: {memory: \(Self.twenty)Gi}") == [
            #"m.yaml:7:23: error: spec.resources.memory: expected a memory size such as 256Mi, 1Gi or 512M (suffixes k, Ki, M, Mi, G, Gi), found "99999999999999999999Gi""#
        ])
    }

    @Test func longValuesAreShortenedInMessages() {
        let digits = String(repeating: "1", count: 200)
        #expect(problems("replicas: \(digits)") == [
            "m.yaml:7:13: error: spec.replicas: expected an integer, found \(String(repeating: "1", count: 80))…"
        ])
        let name = String(repeating: "a", count: 200)
        #expect(problems("dependsOn: [\(name)]") == [
            #"m.yaml:7:15: error: spec.dependsOn[0]: unknown service ""# + String(repeating: "a", count: 80) + #"…": no manifest defines it"#
        ])
        #expect(problems("update: {strategy: \(name)}") == [
            #"m.yaml:7:22: error: spec.update.strategy: expected rolling or recreate, found ""# + String(repeating: "a", count: 80) + #"…""#
        ])
    }
}

/// Every number has a documented largest value (`ManifestLimits`, README's manifest
/// reference): beyond it validation fails at the value, so whatever validates also plans.
@Suite struct ManifestLimitTests {
    func problems(_ specLines: String) -> [String] {
        ManifestLoader.load([ManifestFile(path: "m.yaml", bytes: Array(service("booking", specLines).utf8))])
            .diagnostics.map(\.rendered)
    }

    @Test func hugeReplicasWithAPercentSurgeIsAValidationError() {
        // Validated once, then crashed the planner (replicas × 100%).
        #expect(problems("replicas: 100000000000000000\nupdate: {maxSurge: \"100%\"}") == [
            "m.yaml:7:13: error: spec.replicas: expected at most 10000 replicas, found 100000000000000000"
        ])
    }

    @Test func theLargestValuesValidateAndPlan() throws {
        let text = service("booking", """
            replicas: 10000
            health: {tcp: {port: 65535}, interval: 8760h, timeout: 365h, startPeriod: 8760h, failureThreshold: 1000}
            update: {maxSurge: 10000, maxUnavailable: "100%", progressDeadline: 8760h}
            stopGracePeriod: 8760h
            resources: {cpus: 1024, memory: 4096Gi}
            autoscale: {min: 10000, max: 10000, targetRequestsPerSecond: 1000000, scaleDownDelay: 8760h}
            """)
        let state = ManifestLoader.load([ManifestFile(path: "m.yaml", bytes: Array(text.utf8))])
        #expect(state.diagnostics.map(\.rendered) == [])
        let spec = try #require(state.services["booking"])
        #expect(spec.replicas == 10_000)
        #expect(spec.stopGracePeriod == Millis(31_536_000_000))
        #expect(spec.resources == Resources(milliCPUs: 1_024_000, memory: 4 << 40))
        // Planned against a running revision of it, with nothing trapping.
        var old = spec
        old.image = "shop/booking:0.9"
        let running = (0..<10_000).map { i in
            Instance(id: "c\(i)", service: "booking", revision: old.revision, image: old.image, state: .running)
        }
        let plan = try Planner.plan(
            desired: state, observed: ObservedState(project: "shop", services: [ObservedService(name: "booking", instances: running)]))
        #expect(plan.steps.map(\.action) == [.update])
    }

    @Test func oneOverEachLimit() {
        #expect(problems("""
            replicas: 10001
            health: {tcp: {port: 65536}, interval: 8761h, timeout: 525601m, failureThreshold: 1001}
            update: {maxSurge: 10001, maxUnavailable: 20000, progressDeadline: 31536000001ms}
            stopGracePeriod: 8760h1ms
            resources: {cpus: 1024.001, memory: 4097Gi}
            autoscale: {min: 10001, max: 10001, targetRequestsPerSecond: 1000001, scaleDownDelay: 9000h}
            """) == [
            "m.yaml:7:13: error: spec.replicas: expected at most 10000 replicas, found 10001",
            "m.yaml:8:24: error: spec.health.tcp.port: expected a port number from 1 to 65535, found 65536",
            #"m.yaml:8:42: error: spec.health.interval: expected a duration of at most 8760h (365 days), found "8761h""#,
            #"m.yaml:8:58: error: spec.health.timeout: expected a duration of at most 8760h (365 days), found "525601m""#,
            "m.yaml:8:85: error: spec.health.failureThreshold: expected at most 1000 failures, found 1001",
            "m.yaml:9:22: error: spec.update.maxSurge: expected at most 10000 replicas or a percentage, found 10001",
            "m.yaml:9:45: error: spec.update.maxUnavailable: expected at most 10000 replicas or a percentage, found 20000",
            #"m.yaml:9:70: error: spec.update.progressDeadline: expected a duration of at most 8760h (365 days), found "31536000001ms""#,
            #"m.yaml:10:20: error: spec.stopGracePeriod: expected a duration of at most 8760h (365 days), found "8760h1ms""#,
            "m.yaml:11:21: error: spec.resources.cpus: expected at most 1024 CPUs, found 1024.001",
            #"m.yaml:11:39: error: spec.resources.memory: expected at most 4096Gi (4 TiB), found "4097Gi""#,
            "m.yaml:12:20: error: spec.autoscale.min: expected at most 10000 replicas, found 10001",
            "m.yaml:12:32: error: spec.autoscale.max: expected at most 10000 replicas, found 10001",
            "m.yaml:12:64: error: spec.autoscale.targetRequestsPerSecond: expected at most 1000000 requests per second, found 1000001",
            #"m.yaml:12:89: error: spec.autoscale.scaleDownDelay: expected a duration of at most 8760h (365 days), found "9000h""#,
        ])
    }
}
