import Foundation
import Testing
import BerthTestSupport

/// `berth validate`, run as the built binary: exact stdout, stderr and exit status.
@Suite struct ValidateCommandTests {
    static func manifest(_ name: String, _ extra: String = "") -> String {
        """
        apiVersion: berth/v1
        kind: Service
        metadata:
          name: \(name)
        spec:
          image: shop/\(name):1.0
        \(extra)
        """
    }

    static let usage = """
        Usage: berth validate [<paths> ...] [--format <format>] [--color <color>] [--rev <rev>] [--repo <repo>] [--path <path>]
          See 'berth validate --help' for more information.

        """

    @Test func validFolder() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("manifests/customer.yaml", Self.manifest("customer"))
        try dir.write("manifests/shop/booking.yml", Self.manifest("booking", "  dependsOn: [customer]\n"))
        try dir.write("manifests/.hidden/broken.yaml", "not: [valid")
        try dir.write("manifests/notes.txt", "not a manifest")
        let result = try ProcessRunner.berth(["validate", "manifests/"], in: dir.url)
        #expect(result == ProcessResult(stdout: "manifests: 2 services valid\n", stderr: "", status: 0))
    }

    @Test func invalidTextShowsEachProblemWithItsSourceLine() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("m/booking.yaml", Self.manifest("booking", "  replicas: three\n  replica: 2\n"))
        try dir.write("m/a/gateway.yaml", Self.manifest("gateway", "  dependsOn: [bookng]\n"))
        try dir.write("m/z.yaml", "---\n" + Self.manifest("booking"))
        let result = try ProcessRunner.berth(["validate", "m"], in: dir.url)
        #expect(result.stderr == "")
        #expect(result.status == 1)
        #expect(result.stdout == """
            m/a/gateway.yaml:7:15: error: spec.dependsOn[0]: unknown service "bookng"; did you mean "booking"?
              dependsOn: [bookng]
                          ^
            m/booking.yaml:4:9: error: metadata.name: service "booking" is also defined at m/z.yaml:5:9
              name: booking
                    ^
            m/booking.yaml:7:13: error: spec.replicas: expected an integer, found "three"
              replicas: three
                        ^
            m/booking.yaml:8:3: error: spec.replica: unknown field "replica"; did you mean "replicas"?
              replica: 2
              ^
            m/z.yaml:5:9: error: metadata.name: service "booking" is also defined at m/booking.yaml:4:9
              name: booking
                    ^
            5 errors in 3 files

            """)
    }

    @Test func invalidJSON() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("a.yaml", Self.manifest("customer", "  replicas: -1\n"))
        try dir.write("b.yaml", Self.manifest("booking", "  dependsOn: [customer]\n"))
        let result = try ProcessRunner.berth(["validate", "--format", "json", "b.yaml", "a.yaml"], in: dir.url)
        #expect(result.stderr == "")
        #expect(result.status == 1)
        let expected = #"{"errors":[{"column":13,"file":"a.yaml","line":7,"message":"expected an integer of at least 0, found -1","path":"spec.replicas"}],"formatVersion":1,"valid":false,"warnings":[{"column":15,"file":"b.yaml","line":7,"message":"service \"booking\" is held back: it depends on \"customer\", which has errors","path":"spec.dependsOn[0]"}]}"#
        #expect(result.stdout == expected + "\n")

        let valid = try ProcessRunner.berth(["validate", "--format", "json", "b.yaml"], in: dir.url)
        // b.yaml alone names a service that no file given defines.
        #expect(valid.status == 1)
        try dir.write("a.yaml", Self.manifest("customer"))
        let ok = try ProcessRunner.berth(["validate", "--format", "json", "."], in: dir.url)
        #expect(ok == ProcessResult(stdout: #"{"errors":[],"formatVersion":1,"valid":true,"warnings":[]}"# + "\n", stderr: "", status: 0))
    }

    @Test func yamlSyntaxErrorsCarryTheirPlace() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("bad.yaml", "apiVersion: berth/v1\nkind: [Service\n")
        let result = try ProcessRunner.berth(["validate", "bad.yaml"], in: dir.url)
        #expect(result.status == 1)
        // At the bracket that is never closed, in Berth's words.
        #expect(result.stdout.hasPrefix("bad.yaml:2:7: error: the [ opened here is not closed: add ] at its end, and a ',' between its items\n"))
        #expect(result.stdout.hasSuffix("\n1 error in 1 file\n"))
    }

    @Test func defaultIsTheManifestsFolderOfTheGitRepository() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let git = try ProcessRunner.run(URL(fileURLWithPath: "/usr/bin/git"), ["init", "-q", dir.path])
        #expect(git.status == 0)
        try dir.write("manifests/customer.yaml", Self.manifest("customer"))
        try dir.write("docs/readme.yaml", "this is not looked at: [")
        #expect(try ProcessRunner.berth(["validate"], in: dir.url)
            == ProcessResult(stdout: "manifests: 1 service valid\n", stderr: "", status: 0))
        #expect(try ProcessRunner.berth(["validate"], in: dir.url.appendingPathComponent("docs"))
            == ProcessResult(stdout: "../manifests: 1 service valid\n", stderr: "", status: 0))

        // Without a manifests folder, the repository root is checked.
        try FileManager.default.removeItem(at: dir.url.appendingPathComponent("manifests"))
        try dir.write("customer.yaml", Self.manifest("customer", "  replicas: x\n"))
        let root = try ProcessRunner.berth(["validate"], in: dir.url.appendingPathComponent("docs"))
        #expect(root.status == 1)
        #expect(root.stdout.hasPrefix("../customer.yaml:7:13: error: spec.replicas: expected an integer, found \"x\"\n"))
        #expect(root.stdout.contains("../docs/readme.yaml:"))
    }

    @Test func usageErrors() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        #expect(try ProcessRunner.berth(["validate", "missing.yaml"], in: dir.url)
            == ProcessResult(stdout: "", stderr: "Error: no such file or folder: missing.yaml\n" + Self.usage, status: 64))
        #expect(try ProcessRunner.berth(["validate"], in: dir.url)
            == ProcessResult(
                stdout: "",
                stderr: "Error: not inside a git repository; name the files or folders to check, e.g. berth validate manifests/\n"
                    + Self.usage,
                status: 64))
        #expect(try ProcessRunner.berth(["validate", "--format", "xml", "."], in: dir.url).status == 64)
        #expect(try ProcessRunner.berth(["validate", "--format", "markdown", "."], in: dir.url)
            == ProcessResult(stdout: "", stderr: "Error: The value 'markdown' is invalid for '--format <format>'. Please provide one of 'text' and 'json'.\nHelp:  --format <format>  Output format: text or json.\n" + Self.usage, status: 64))
    }

    @Test func aFolderWithoutManifestsFails() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("empty/notes.txt", "")
        #expect(try ProcessRunner.berth(["validate", "empty"], in: dir.url)
            == ProcessResult(stdout: "", stderr: "berth validate: no *.yaml or *.yml files in empty\n", status: 1))
    }

    @Test func theSampleShopIsValid() throws {
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { root = root.deletingLastPathComponent() }
        #expect(try ProcessRunner.berth(["validate", "manifests"], in: root)
            == ProcessResult(stdout: "manifests: 3 services valid\n", stderr: "", status: 0))
    }

    /// Colour on a terminal (a pseudo-terminal from util-linux `script`), none with NO_COLOR.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script")))
    func colourOnlyOnATerminalWithoutNoColor() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("a.yaml", Self.manifest("customer", "  replicas: x\n"))
        let berth = try ProcessRunner.berthExecutable()
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = nil
        let script = URL(fileURLWithPath: "/usr/bin/script")
        let command = ["-qec", "'\(berth.path)' validate a.yaml", "/dev/null"]
        let coloured = try ProcessRunner.run(script, command, in: dir.url, environment: environment)
        let esc = "\u{1B}["
        #expect(coloured.stdout == """
            \(esc)1ma.yaml:7:13:\(esc)0m \(esc)31;1merror:\(esc)0m \(esc)1mspec.replicas: expected an integer, found "x"\(esc)0m\r
              replicas: x\r
                        \(esc)32;1m^\(esc)0m\r
            \(esc)31;1m1 error in 1 file\(esc)0m\r

            """)
        environment["NO_COLOR"] = "1"
        let plain = try ProcessRunner.run(script, command, in: dir.url, environment: environment)
        #expect(plain.stdout == "a.yaml:7:13: error: spec.replicas: expected an integer, found \"x\"\r\n  replicas: x\r\n            ^\r\n1 error in 1 file\r\n")
    }

    /// CRLF line ends and a lone CR are line breaks for the snippets as they are for libyaml.
    @Test func snippetsOfFilesWithCRLFAndCRLineEnds() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        func lines(_ name: String) -> [Substring] {
            Self.manifest(name, "  replicas: three").split(separator: "\n", omittingEmptySubsequences: false)
        }
        try dir.write("crlf.yaml", lines("booking").joined(separator: "\r\n"))
        try dir.write("cr.yaml", lines("customer").joined(separator: "\r"))
        let result = try ProcessRunner.berth(["validate", "crlf.yaml", "cr.yaml"], in: dir.url)
        #expect(result == ProcessResult(stdout: """
            cr.yaml:7:13: error: spec.replicas: expected an integer, found "three"
              replicas: three
                        ^
            crlf.yaml:7:13: error: spec.replicas: expected an integer, found "three"
              replicas: three
                        ^
            2 errors in 2 files

            """, stderr: "", status: 1))
    }

    /// A long line is shown as the 120 characters around the column, cut with ellipses.
    @Test func snippetsOfLongLinesAreCut() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let digits = String(repeating: "1", count: 100_000)
        try dir.write("m.yaml", Self.manifest("booking", "  command: [\(String(repeating: "x", count: 300))]\n  replicas: \(digits)\n"))
        try dir.write("n.yaml", Self.manifest("gateway", "  env: {A: \(String(repeating: "y", count: 300))}\n  e: 1\n").replacingOccurrences(of: "  e: 1", with: "  \(String(repeating: "z", count: 300)): 1"))
        let result = try ProcessRunner.berth(["validate", "m.yaml", "n.yaml"], in: dir.url)
        let ones80 = String(repeating: "1", count: 80)
        #expect(result.status == 1)
        #expect(result.stdout == """
            m.yaml:8:13: error: spec.replicas: expected an integer, found \(ones80)…
              replicas: \(String(repeating: "1", count: 108))…
                        ^
            n.yaml:8:3: error: spec.\(String(repeating: "z", count: 300)): unknown field "\(String(repeating: "z", count: 80))…" (spec takes image, replicas, command, env, ports, dependsOn, health, update, stopGracePeriod, restart, resources, autoscale, pullPolicy, volumes, secrets, envFrom, entrypoint, user, workingDir, readOnly, capabilities, init)
              \(String(repeating: "z", count: 118))…
              ^
            2 errors in 2 files

            """)
    }
}
