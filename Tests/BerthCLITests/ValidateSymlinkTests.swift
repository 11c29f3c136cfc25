import Foundation
import Testing
import BerthTestSupport

/// `berth validate` on a work tree reads nothing outside the repository (issue 18, finding
/// 5): CI runs it on pull requests from strangers, and a committed `manifests/env.yaml ->
/// /proc/self/environ` printed the job's environment in the error snippet.
@Suite struct ValidateSymlinkTests {
    /// A git work tree in `<tmp>/repo` beside a folder `<tmp>/outside` holding a "secret".
    struct Tree {
        let dir: TemporaryDirectory
        var repo: URL { dir.url.appendingPathComponent("repo") }
        var outside: URL { dir.url.appendingPathComponent("outside") }

        init() throws {
            dir = try TemporaryDirectory()
            try dir.write("repo/manifests/web.yaml", ValidateCommandTests.manifest("web"))
            try dir.write("outside/secret.yaml", "password: hunter2-outside\n  broken: [\n")
            try dir.write("outside/more/api.yaml", ValidateCommandTests.manifest("api"))
            let git = try ProcessRunner.run(URL(fileURLWithPath: "/usr/bin/git"), ["init", "-q", repo.path])
            #expect(git.status == 0)
        }

        func link(_ name: String, to target: String) throws {
            try FileManager.default.createSymbolicLink(
                atPath: repo.appendingPathComponent(name).path, withDestinationPath: target)
        }

        func validate(_ arguments: [String] = [], environment: [String: String]? = nil) throws -> ProcessResult {
            try ProcessRunner.berth(["validate"] + arguments, in: repo, environment: environment)
        }
    }

    static let refusedFile = "a symbolic link to a file outside the repository; not read (berth validate reads nothing outside the repository)"
    static let refusedFolder = "a symbolic link to a folder outside the repository; not searched (berth validate reads nothing outside the repository)"

    @Test func aLinkToTheProcessEnvironmentIsRefusedWithoutPrintingIt() throws {
        let tree = try Tree()
        defer { tree.dir.remove() }
        try tree.link("manifests/env.yaml", to: "/proc/self/environ")
        var environment = ProcessInfo.processInfo.environment
        environment["CI_JOB_TOKEN"] = "glcbt-0123456789abcdef"
        let r = try tree.validate(environment: environment)
        #expect(r == ProcessResult(stdout: """
            manifests/env.yaml:1:1: error: \(Self.refusedFile)
            1 error in 1 file

            """, stderr: "", status: 1))
        let json = try tree.validate(["--format", "json"], environment: environment)
        #expect(json.status == 1)
        #expect(!json.stdout.contains("glcbt-") && json.stdout.contains(#""file":"manifests/env.yaml""#))
    }

    @Test func aLinkToAFileOutsideIsRefusedAlsoWhenNamedOrInASubfolder() throws {
        let tree = try Tree()
        defer { tree.dir.remove() }
        try tree.link("manifests/shadow.yml", to: "../../outside/secret.yaml")
        try FileManager.default.createDirectory(at: tree.repo.appendingPathComponent("manifests/deep"), withIntermediateDirectories: true)
        try tree.link("manifests/deep/x.yaml", to: tree.outside.appendingPathComponent("secret.yaml").path)
        let r = try tree.validate(["manifests"])
        #expect(r == ProcessResult(stdout: """
            manifests/deep/x.yaml:1:1: error: \(Self.refusedFile)
            manifests/shadow.yml:1:1: error: \(Self.refusedFile)
            2 errors in 2 files

            """, stderr: "", status: 1))
        let named = try tree.validate(["manifests/shadow.yml", "manifests/web.yaml"])
        #expect(named.stdout == "manifests/shadow.yml:1:1: error: \(Self.refusedFile)\n1 error in 1 file\n")
        #expect(!r.stdout.contains("hunter2") && !named.stdout.contains("hunter2"))
    }

    @Test func aManifestsFolderLinkedOutsideIsNotWalked() throws {
        let tree = try Tree()
        defer { tree.dir.remove() }
        try FileManager.default.removeItem(at: tree.repo.appendingPathComponent("manifests"))
        try tree.link("manifests", to: tree.outside.path)
        #expect(try tree.validate() == ProcessResult(stdout: """
            manifests:1:1: error: \(Self.refusedFolder)
            1 error in 1 file

            """, stderr: "", status: 1))
        // A folder inside the manifests linked outside: refused, the rest is checked.
        try FileManager.default.removeItem(at: tree.repo.appendingPathComponent("manifests"))
        try tree.dir.write("repo/manifests/web.yaml", ValidateCommandTests.manifest("web"))
        try tree.link("manifests/more", to: "../../outside/more")
        #expect(try tree.validate() == ProcessResult(stdout: """
            manifests/more:1:1: error: \(Self.refusedFolder)
            1 error in 1 file

            """, stderr: "", status: 1))
    }

    /// Links that stay inside the repository are read as before; a loop of folder links is
    /// walked once.
    @Test func linksInsideTheRepositoryAreFollowedOnce() throws {
        let tree = try Tree()
        defer { tree.dir.remove() }
        try tree.dir.write("repo/shared/api.yaml", ValidateCommandTests.manifest("api"))
        try tree.link("manifests/api.yaml", to: "../shared/api.yaml")
        try tree.link("manifests/loop", to: ".")
        try tree.link("manifests/dangling.yaml", to: "nowhere.yaml")
        #expect(try tree.validate() == ProcessResult(stdout: "manifests: 2 services valid\n", stderr: "", status: 0))
    }
}
