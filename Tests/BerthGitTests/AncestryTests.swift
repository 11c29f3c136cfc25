import BerthGit
import BerthTestSupport
import Foundation
import Testing

/// `isAncestor` (libgit2's `git_graph_descendant_of`) on a real repository, through a mirror
/// fetched over file:// after a force-push: how watch tells a rewritten history.
@Suite struct AncestryTests {
    @Test func aForcePushedCommitDoesNotContainTheOneItReplaced() async throws {
        let origin = try GitRepoBuilder()
        defer { origin.cleanup() }
        try origin.write("manifests/a.yaml", "1\n")
        let first = try #require(ObjectID(hex: try origin.commit("first")))
        try origin.write("manifests/a.yaml", "2\n")
        let second = try #require(ObjectID(hex: try origin.commit("second")))
        let cache = try TemporaryDirectory()
        defer { cache.remove() }
        let url = "file://" + origin.path
        let dir = GitRepository.mirrorDirectory(for: url, cacheRoot: cache.path)
        _ = try await GitRepository.mirror(url: url, into: dir, credentials: .init())

        // The branch reset under the mirror's feet, and a new commit on top.
        try origin.git("reset", "-q", "--hard", "HEAD~1")
        try origin.write("manifests/a.yaml", "3\n")
        let rewritten = try #require(ObjectID(hex: try origin.commit("rewritten")))
        let mirror = try await GitRepository.mirror(url: url, into: dir, credentials: .init())
        #expect(try await mirror.resolve("main") == rewritten)

        #expect(try await mirror.isAncestor(first, of: second))
        #expect(try await mirror.isAncestor(first, of: rewritten))
        #expect(try await mirror.isAncestor(second, of: second))
        #expect(try await !mirror.isAncestor(second, of: rewritten))
        #expect(try await !mirror.isAncestor(rewritten, of: first))
        // A commit the repository does not hold is no ancestor.
        let unknown = try #require(ObjectID(hex: String(repeating: "ab", count: 20)))
        #expect(try await !mirror.isAncestor(unknown, of: rewritten))
        // The newer commit must exist.
        await #expect(throws: GitError.self) { try await mirror.isAncestor(first, of: unknown) }
    }
}
