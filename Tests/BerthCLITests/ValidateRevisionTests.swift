import Foundation
import Testing
import BerthTestSupport

/// `berth validate --rev`: what is committed, never the working copy; paths inside the repo.
@Suite struct ValidateRevisionTests {
    @Test func checksTheCommitNotTheWorkingCopy() throws {
        let repo = try GitRepoBuilder()
        defer { repo.cleanup() }
        try repo.write("manifests/web.yaml", GitRepoBuilder.service("web", image: "shop/web:1.0", extra: "  replicas: three\n"))
        _ = try repo.commit("broken replicas")
        // The working copy is fixed but not committed: --rev still reads the commit.
        try repo.write("manifests/web.yaml", GitRepoBuilder.service("web", image: "shop/web:1.0"))
        let short = String(try repo.sha("HEAD").prefix(7))

        let bad = try ProcessRunner.berth(["validate", "--rev", "HEAD"], in: URL(fileURLWithPath: repo.path))
        #expect(bad.status == 1)
        #expect(bad.stderr == "")
        #expect(bad.stdout.hasPrefix("manifests/web.yaml:"))
        #expect(bad.stdout.contains(": error: spec.replicas: expected an integer, found \"three\"\n"))
        #expect(bad.stdout.hasSuffix("1 error in 1 file\n"))

        _ = try repo.commit("fix replicas")
        let good = try ProcessRunner.berth(["validate", "--rev", "main"], in: URL(fileURLWithPath: repo.path))
        let fixed = String(try repo.sha("HEAD").prefix(7))
        #expect(good == ProcessResult(stdout: "manifests at main (\(fixed)): 1 service valid\n", stderr: "", status: 0))
        #expect(fixed != short)
    }

    @Test func jsonNamesRepositoryPaths() throws {
        let repo = try GitRepoBuilder()
        defer { repo.cleanup() }
        try repo.write("deploy/a/web.yaml", GitRepoBuilder.service("web", image: "shop/web:1.0", extra: "  dependsOn: [db]\n"))
        _ = try repo.commit("web")
        let result = try ProcessRunner.berth(
            ["validate", "--rev", "HEAD", "--repo", repo.path, "--path", "deploy", "--format", "json"],
            in: FileManager.default.temporaryDirectory)
        #expect(result.status == 1)
        #expect(result.stdout.contains(#""file":"deploy/a/web.yaml""#))
        #expect(result.stdout.contains(#""message":"unknown service \"db\""#))
    }

    @Test func unknownRevisionAndMisuse() throws {
        let repo = try GitRepoBuilder()
        defer { repo.cleanup() }
        try repo.write("manifests/web.yaml", GitRepoBuilder.service("web", image: "shop/web:1.0"))
        _ = try repo.commit("web")
        let here = URL(fileURLWithPath: repo.path)
        let unknown = try ProcessRunner.berth(["validate", "--rev", "mian"], in: here)
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("did you mean"))
        #expect(unknown.stderr.contains("main"))
        let both = try ProcessRunner.berth(["validate", "--rev", "HEAD", "manifests"], in: here)
        #expect(both.status == 64)
        #expect(both.stderr.hasPrefix("Error: give either files and folders to check on disk, or --rev to check a commit, not both\n"))
        let stray = try ProcessRunner.berth(["validate", "--path", "manifests"], in: here)
        #expect(stray.status == 64)
        #expect(stray.stderr.hasPrefix("Error: --repo and --path go with --rev"))
    }
}
