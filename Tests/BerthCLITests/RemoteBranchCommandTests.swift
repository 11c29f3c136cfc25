import Foundation
import Testing
import BerthTestSupport

/// `--ref` naming a remote's branch: `origin/feature` in a clone, `feature` in a mirror.
@Suite struct RemoteBranchCommandTests {
    @Test func remoteTrackingBranchAndMirroredBranch() throws {
        let upstream = try GitRepoBuilder()
        defer { upstream.cleanup() }
        try upstream.write("manifests/web.yaml", GitRepoBuilder.service("web", image: "shop/web:1.0"))
        try upstream.commit("web 1.0")
        let clone = upstream.root.path + "/clone"
        try upstream.git("clone", "-q", upstream.path, clone)
        try upstream.git("checkout", "-q", "-b", "feature")
        try upstream.write("manifests/web.yaml", GitRepoBuilder.service("web", image: "shop/web:2.0", extra: "  replicas: two\n"))
        try upstream.commit("web 2.0, broken")
        try upstream.git("-C", clone, "fetch", "-q")
        var env = upstream.environment
        env["BERTH_CACHE_DIR"] = upstream.root.path + "/state"

        // In the clone, the fetched branch is origin/feature (and it is invalid: exit 1).
        let tracking = try ProcessRunner.berth(["validate", "--rev", "origin/feature"], in: URL(fileURLWithPath: clone), environment: env)
        #expect(tracking.status == 1)
        #expect(tracking.stderr == "")
        #expect(tracking.stdout.contains("manifests/web.yaml:7:13: error: spec.replicas: expected an integer, found \"two\""))
        let local = try ProcessRunner.berth(["validate", "--rev", "feature"], in: URL(fileURLWithPath: clone), environment: env)
        #expect(local.status == 1)
        #expect(local.stderr.hasSuffix("; did you mean origin/feature?\n"))

        // In the mirror of the remote, it is plain feature.
        let url = "file://" + upstream.path
        let mirrored = try ProcessRunner.berth(
            ["diff", "main", "feature", "--repo", url, "--format", "json"], in: URL(fileURLWithPath: upstream.root.path), environment: env)
        #expect(mirrored.status == 1)
        #expect(mirrored.stderr.hasPrefix(#"{"column":13,"file":"manifests/web.yaml","line":7,"message":"expected an integer, found \"two\"","path":"spec.replicas","severity":"error"}"# + "\n"))
        let fixed = try ProcessRunner.berth(
            ["validate", "--rev", "feature~1", "--repo", url], in: URL(fileURLWithPath: upstream.root.path), environment: env)
        #expect(fixed == ProcessResult(stdout: "manifests at feature~1 (\(try upstream.sha("main").prefix(7))): 1 service valid\n", stderr: "", status: 0))
        let named = try ProcessRunner.berth(
            ["validate", "--rev", "origin/feature", "--repo", url], in: URL(fileURLWithPath: upstream.root.path), environment: env)
        #expect(named.status == 1)
        #expect(named.stderr.hasPrefix("error: cannot resolve revision \"origin/feature\": "))
        #expect(named.stderr.hasSuffix("; did you mean feature?\n"))
    }
}
