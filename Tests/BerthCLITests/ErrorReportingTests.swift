import Foundation
import Testing
import BerthTestSupport

/// How failures read (issue 17, item 6), run as the built binary against real git
/// repositories: JSON errors with `--format json`, `history` of an unknown service, an empty
/// manifest file, Compose habits, YAML syntax errors in Berth's words.
@Suite struct ErrorReportingTests {
    static func run(_ repo: GitRepoBuilder, _ arguments: [String]) throws -> ProcessResult {
        var env = repo.environment
        env["XDG_CACHE_HOME"] = repo.root.path + "/cache"
        env["XDG_STATE_HOME"] = repo.root.path + "/state"
        return try ProcessRunner.berth(arguments, in: URL(fileURLWithPath: repo.path), environment: env)
    }

    static func manifest(_ name: String, _ extra: String = "") -> String {
        "apiVersion: berth/v1\nkind: Service\nmetadata:\n  name: \(name)\nspec:\n  image: shop/\(name):1.0\n\(extra)"
    }

    // MARK: --format json

    @Test func aFailureIsOneJSONObjectOnStandardError() throws {
        let repo = try GitRepoBuilder()
        defer { repo.cleanup() }
        let missing = repo.root.path + "/nowhere"
        for command in ["status", "history", "plan", "apply", "diff", "journal"] {
            var arguments = [command, "--repo", missing, "--format", "json"]
            if command == "diff" { arguments.insert("HEAD~1", at: 1) }
            if command == "plan" { arguments += ["--observed", "none"] }
            if command == "apply" { arguments += ["--auto-approve", "--project", "p\(UUID().uuidString.prefix(8).lowercased())"] }
            let result = try Self.run(repo, arguments)
            #expect(result.stdout == "", "\(command)")
            #expect(result.status == 1, "\(command)")
            if command == "journal" {
                let journal = repo.root.path + "/state/berth/nowhere/journal.sqlite"
                #expect(result.stderr == #"{"error":"journal \#(journal): open failed: no journal here yet; `berth watch` creates it on its first sync (see --state-dir) (SQLite code 14); check that the state directory is writable and not shared with another berth watch of the same project","formatVersion":1}"# + "\n")
            } else {
                #expect(
                    result.stderr == #"{"error":"cannot open repository \#(missing); no git repository here or in any parent folder; pass --repo PATH|URL","formatVersion":1}"# + "\n",
                    "\(command)")
            }
        }
        // The same failure in text.
        let text = try Self.run(repo, ["status", "--repo", missing])
        #expect(text == ProcessResult(
            stdout: "", stderr: "error: cannot open repository \(missing); no git repository here or in any parent folder; pass --repo PATH|URL\n",
            status: 1))
    }

    @Test func aUsageErrorIsJSONTooWithItsExitStatus() throws {
        let repo = try GitRepoBuilder()
        defer { repo.cleanup() }
        let result = try Self.run(repo, ["history", "--limit", "0", "--format", "json"])
        #expect(result == ProcessResult(stdout: "", stderr: #"{"error":"--limit must be at least 1, got 0","formatVersion":1}"# + "\n", status: 64))
        let format = try Self.run(repo, ["status", "--format=json", "--bogus"])
        #expect(format == ProcessResult(stdout: "", stderr: #"{"error":"Unknown option '--bogus'","formatVersion":1}"# + "\n", status: 64))
    }

    @Test func planWithManifestErrorsKeepsItsDocumentAndReportsEachProblemWithItsPlace() throws {
        let repo = try GitRepoBuilder()
        defer { repo.cleanup() }
        try repo.write("manifests/a.yaml", Self.manifest("customer", "  replicas: three\n"))
        try repo.write("manifests/b.yaml", Self.manifest("booking"))
        _ = try repo.commit("Two services, one broken")
        let result = try Self.run(repo, ["plan", "--observed", "none", "--format", "json", "--project", "shop"])
        #expect(result.status == 1)
        #expect(result.stderr == """
            {"column":13,"file":"manifests/a.yaml","line":7,"message":"expected an integer, found \\"three\\"","path":"spec.replicas","severity":"error"}
            {"error":"the desired state has 1 error (above); the plan covers only the services that loaded, and prunes nothing","formatVersion":1}

            """)
        let plan = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(plan?["formatVersion"] as? Int == 1)
        #expect((plan?["steps"] as? [[String: Any]])?.map { $0["service"] as? String } == ["booking"])
    }

    // MARK: history of an unknown service

    @Test func historyOfAServiceNoCommitDeclaredExits1WithASuggestion() throws {
        let shop = try ShopHistory()
        defer { shop.cleanup() }
        let result = try Self.run(shop.builder, ["history", "bookng"])
        #expect(result == ProcessResult(
            stdout: "", stderr: "error: no commit of HEAD changed a service named bookng; did you mean booking?\n", status: 1))
        let far = try Self.run(shop.builder, ["history", "zzz", "--format", "json"])
        #expect(far == ProcessResult(
            stdout: "",
            stderr: #"{"error":"no commit of HEAD changed a service named zzz (its services: booking, customer)","formatVersion":1}"# + "\n",
            status: 1))
        // A known service with no commit in the window is no mistake.
        let window = try Self.run(shop.builder, ["history", "booking", "--since", "2099-01-01"])
        #expect(window == ProcessResult(stdout: "No commit changed service booking.\n", stderr: "", status: 0))
    }

    // MARK: manifests

    @Test func anEmptyFileIsAWarningAndCompactHabitsGetBerthsSyntax() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("m/empty.yaml", "")
        try dir.write("m/comments.yaml", "# nothing yet\n")
        try dir.write("m/web.yaml", Self.manifest("web", "  ports: [\"8080:80\", 9090, \"127.0.0.1:53:53/udp\"]\n  env: [\"LOG=debug\", \"URL=http://x:1\"]\n"))
        try dir.write("m/api.yaml", Self.manifest("api", "  environment:\n    - MODE=fast\n"))
        let result = try ProcessRunner.berth(["validate", "m"], in: dir.url, environment: ["NO_COLOR": "1", "PATH": "/usr/bin:/bin"])
        #expect(result.stderr == "")
        #expect(result.status == 1)
        #expect(result.stdout == """
            m/api.yaml:7:3: error: spec.environment: unknown field "environment"; did you mean "env"? (Compose's name): env: {MODE: fast}
              environment:
              ^
            m/comments.yaml:1:1: warning: the file declares nothing (it is empty, or holds only comments); add a Service to it, or delete it
            # nothing yet
            ^
            m/empty.yaml:1:1: warning: the file declares nothing (it is empty, or holds only comments); add a Service to it, or delete it
            m/web.yaml:7:11: error: spec.ports[0]: expected a mapping, found "8080:80" (Compose's short syntax); did you mean {containerPort: 80, publish: 8080}?
              ports: ["8080:80", 9090, "127.0.0.1:53:53/udp"]
                      ^
            m/web.yaml:7:22: error: spec.ports[1]: expected a mapping, found 9090 (Compose's short syntax); did you mean {containerPort: 9090}?
              ports: ["8080:80", 9090, "127.0.0.1:53:53/udp"]
                                 ^
            m/web.yaml:7:28: error: spec.ports[2]: expected a mapping, found "127.0.0.1:53:53/udp" (Compose's short syntax); did you mean {containerPort: 53, publish: 53, protocol: udp}?
              ports: ["8080:80", 9090, "127.0.0.1:53:53/udp"]
                                       ^
            m/web.yaml:8:8: error: spec.env: expected a mapping of names to strings, found a list (Compose's KEY=value list); did you mean {LOG: debug, URL: "http://x:1"}?
              env: ["LOG=debug", "URL=http://x:1"]
                   ^
            5 errors, 2 warnings in 4 files

            """)
        // Alone, an empty file is valid with its warning (exit 0), not silence.
        let alone = try ProcessRunner.berth(["validate", "m/empty.yaml", "m/comments.yaml"], in: dir.url, environment: ["NO_COLOR": "1", "PATH": "/usr/bin:/bin"])
        #expect(alone.status == 0)
        #expect(alone.stdout.hasSuffix("m/empty.yaml, m/comments.yaml: 0 services valid, 2 warnings\n"))
    }

    @Test func yamlSyntaxErrorsInBerthsWordsAndEveryFileStillChecked() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("m/a-tab.yaml", "apiVersion: berth/v1\nkind: Service\nmetadata:\n\tname: x\n")
        try dir.write("m/b-indent.yaml", "apiVersion: berth/v1\nkind: Service\nmetadata:\n  name: y\n   labels: {}\n")
        try dir.write("m/c-colon.yaml", "apiVersion: berth/v1\nkind: Service\nmetadata:\n  name: z\nspec:\n  image shop/z:1\n  replicas: 2\n")
        try dir.write("m/d-fine.yaml", Self.manifest("fine", "  replica: 2\n"))
        let result = try ProcessRunner.berth(["validate", "m"], in: dir.url, environment: ["NO_COLOR": "1", "PATH": "/usr/bin:/bin"])
        #expect(result.stderr == "")
        #expect(result.status == 1)
        #expect(result.stdout == """
            m/a-tab.yaml:4:1: error: a tab in the indentation: YAML indents with spaces only; replace the tab with spaces
            \tname: x
            ^
            m/b-indent.yaml:5:4: error: this line is indented by 3 spaces, deeper than name: on line 4 (2), so YAML reads it as more of name's value; line it up with its siblings (2 spaces)
               labels: {}
               ^
            m/c-colon.yaml:6:8: error: a key without ':' after it: write image: shop/z:1
              image shop/z:1
                   ^
            m/d-fine.yaml:7:3: error: spec.replica: unknown field "replica"; did you mean "replicas"?
              replica: 2
              ^
            4 errors in 4 files

            """)
    }
}
