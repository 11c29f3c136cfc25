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
            "bad.yaml:6:1: error: found character that cannot start any token (while scanning for the next token)"
        ])
        let control = load(Array(service("booking").utf8) + [0x07])
        #expect(control.diagnostics.count == 1)
        #expect(control.diagnostics.first?.message.hasPrefix("control characters are not allowed (U+0007)") == true)
        for state in [invalid, tabs, control] { #expect(state.services.keys.sorted() == ["customer"]) }
    }

    @Test func emptyAndCommentOnlyFiles() {
        for text in ["", "\n\n", "# nothing here\n# yet\n", "---\n# only a comment\n...\n"] {
            let state = load(Array(text.utf8))
            #expect(state.diagnostics.isEmpty, "\(text.debugDescription)")
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
