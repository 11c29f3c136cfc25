import Foundation
import Testing
import BerthTestSupport

@Suite struct PlanCommandTests {
    @Test func withoutObservedStateItObservesDockerAndNamesADeadDaemon() throws {
        var environment = ProcessInfo.processInfo.environment
        environment["DOCKER_HOST"] = "unix:///nonexistent.sock"
        let r = try ProcessRunner.berth(["plan"], environment: environment)
        #expect(r == ProcessResult(stdout: "", stderr: """
            error: cannot connect to the Docker daemon at unix:///nonexistent.sock: no such socket file. \
            Is dockerd running? Start it with `sudo systemctl start docker` (or `sudo dockerd &`), or set \
            DOCKER_HOST to the engine's address; Berth looked for the socket /nonexistent.sock.
            (berth plan observes the Docker Engine unless --observed FILE|none is given)

            """, status: 1))
    }

    @Test func anUnknownFormatIsAUsageError() throws {
        let r = try ProcessRunner.berth(["plan", "--observed", "none", "--format", "yaml"])
        #expect(r.status == 64)
        #expect(r.stdout == "")
        #expect(r.stderr.contains("The value 'yaml' is invalid for '--format <format>'"))
    }

    @Test func aFileThatIsNoStatusDocumentIsNamed() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = try dir.write("observed.json", #"{"project": "shop", "services": [{"name": "booking", "instances": [{"id": "booking-1", "revision": "abc"}]}]}"#)
        let r = try ProcessRunner.berth(["plan", "--observed", file.path])
        #expect(r == ProcessResult(stdout: "", stderr: """
            error: \(file.path): not an observed state (expected the JSON of `berth status --format json`): \
            missing field services[0].instances[0].state

            """, status: 1))
    }

    @Test func aStatusFileOfAnotherProjectIsRefused() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = try dir.write("observed.json", #"{"formatVersion": 1, "project": "shop", "services": []}"#)
        let r = try ProcessRunner.berth(["plan", "--observed", file.path, "--project", "travel"])
        #expect(r == ProcessResult(stdout: "", stderr: """
            error: \(file.path) describes project shop, not travel: pass --project shop, \
            or the status file of project travel

            """, status: 1))
    }

    @Test func aMissingFileIsNamed() throws {
        let r = try ProcessRunner.berth(["plan", "--observed", "/nonexistent/observed.json"])
        #expect(r.status == 1)
        #expect(r.stdout == "")
        #expect(r.stderr.hasPrefix("error: /nonexistent/observed.json: cannot read the observed state: "))
    }

    /// Issue 17, item 4: berth plans the commit, never the work tree; uncommitted manifest
    /// edits get a warning that names them (and a clean tree none).
    @Test func uncommittedManifestChangesAreNamedInAWarning() throws {
        let repo = try GitRepoBuilder()
        defer { repo.cleanup() }
        try repo.write("manifests/web.yaml", GitRepoBuilder.service("web", image: "shop/web:1.0", replicas: 1))
        try repo.write("README.md", "notes")
        let sha = try repo.commit("web")
        let clean = try ProcessRunner.berth(["plan", "--repo", repo.path, "--observed", "none", "--project", "shop"])
        #expect(clean.status == 0)
        #expect(clean.stderr == "")
        #expect(clean.stdout.hasPrefix("Berth plan for project shop at commit \(sha.prefix(7)) (prune: on)\n"), "\(clean.stdout)")

        try repo.write("manifests/web.yaml", GitRepoBuilder.service("web", image: "shop/web:1.1", replicas: 1))
        try repo.write("manifests/api.yaml", GitRepoBuilder.service("api", image: "shop/api:1.0", replicas: 1))
        try repo.write("README.md", "more notes")
        let dirty = try ProcessRunner.berth(["plan", "--repo", repo.path, "--observed", "none", "--project", "shop"])
        #expect(dirty.status == 0)
        #expect(dirty.stderr == """
            warning: uncommitted changes to manifests (manifests/api.yaml, manifests/web.yaml) are not in this plan: \
            berth reads the commit HEAD, as berth watch does; commit them to plan them

            """)
        // The plan is the commit's: web at 1.0, no api.
        #expect(dirty.stdout == clean.stdout)
        // Another ref than HEAD is not the work tree's: no warning.
        let other = try ProcessRunner.berth(["plan", "--repo", repo.path, "--ref", sha, "--observed", "none", "--project", "shop"])
        #expect(other.stderr == "")
    }
}
