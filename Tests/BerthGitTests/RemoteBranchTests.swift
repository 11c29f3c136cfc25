import Testing
import Foundation
import BerthCore
import BerthEngine
import BerthGit
import BerthTestSupport

/// Branches of a remote: remote-tracking `origin/feature` in a local clone, plain `feature`
/// in a mirror; and the hints when the other spelling is used.
@Suite struct RemoteBranchTests {
    /// An upstream repository with `main` (web 1.0) and `feature` (web 2.0); returns
    /// feature's commit.
    static func upstreamWithFeature(_ upstream: GitRepoBuilder) throws -> String {
        try upstream.write("manifests/web.yaml", GitRepoBuilder.service("web", image: "shop/web:1.0"))
        try upstream.commit("web 1.0")
        try upstream.git("checkout", "-q", "-b", "feature")
        try upstream.write("manifests/web.yaml", GitRepoBuilder.service("web", image: "shop/web:2.0"))
        let feature = try upstream.commit("web 2.0")
        try upstream.git("checkout", "-q", "main")
        return feature
    }

    @Test func remoteTrackingBranchOfALocalClone() async throws {
        let upstream = try GitRepoBuilder()
        defer { upstream.cleanup() }
        try upstream.write("manifests/web.yaml", GitRepoBuilder.service("web", image: "shop/web:1.0"))
        try upstream.commit("web 1.0")
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let clone = folder.path + "/clone"
        try upstream.git("clone", "-q", upstream.path, clone)
        // The branch appears upstream after the clone; a fetch brings origin/feature.
        try upstream.git("checkout", "-q", "-b", "feature")
        try upstream.write("manifests/web.yaml", GitRepoBuilder.service("web", image: "shop/web:2.0"))
        let feature = try upstream.commit("web 2.0")
        try upstream.git("-C", clone, "fetch", "-q")

        let repository = try GitRepository(path: clone)
        #expect(try await repository.resolve("origin/feature").hex == feature)
        #expect(try await repository.resolve("refs/remotes/origin/feature").hex == feature)
        let state = try await GitDesiredStateSource(repository: repository).desiredState(revision: "origin/feature", path: nil)
        #expect(state.services["web"]?.image == "shop/web:2.0")
        // No local branch `feature`: the error points at the remote-tracking one.
        let error = try await #require(throws: GitError.self) { try await repository.resolve("feature") }
        #expect(error.code == .notFound)
        #expect(error.hint == "did you mean origin/feature?")
    }

    @Test func branchOfAMirroredFileRemote() async throws {
        let upstream = try GitRepoBuilder()
        defer { upstream.cleanup() }
        let feature = try Self.upstreamWithFeature(upstream)
        let cache = try TemporaryDirectory()
        defer { cache.remove() }
        let mirror = try await GitRepository.open(
            location: "file://" + upstream.path, mirrorCacheRoot: cache.path, credentials: GitCredentials())
        #expect(await mirror.referenceNames() == ["feature", "main"])
        #expect(try await mirror.resolve("feature").hex == feature)
        let state = try await GitDesiredStateSource(repository: mirror).desiredState(revision: "feature", path: nil)
        #expect(state.services["web"]?.image == "shop/web:2.0")
        // A mirror has no remote-tracking branches: origin/feature is named as feature.
        let error = try await #require(throws: GitError.self) { try await mirror.resolve("origin/feature") }
        #expect(error.code == .notFound)
        #expect(error.hint == "did you mean feature?")
    }
}
