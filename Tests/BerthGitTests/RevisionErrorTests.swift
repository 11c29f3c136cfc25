import Testing
import Foundation
import BerthGit
import BerthTestSupport

/// Revisions that name more than one thing.
@Suite struct RevisionErrorTests {
    /// The `&& false` that kept ambiguous ids out of the suggestions: they get their own hint.
    @Test func ambiguousShortIDAsksForMoreDigits() async throws {
        let b = try GitRepoBuilder()
        defer { b.cleanup() }
        try b.write("manifests/web.yaml", GitRepoBuilder.service("web", image: "shop/web:1.0"))
        try b.commit("web")
        // 1,500 blobs with fixed contents: their ids, so the collisions, are always the same;
        // several pairs share their first 4 hex digits (libgit2's shortest prefix).
        let blobs = try TemporaryDirectory()
        defer { blobs.remove() }
        var paths: [String] = []
        for i in 0..<1500 { paths.append(try blobs.write("b\(i)", "blob \(i)\n").path) }
        let ids = try b.git(["hash-object", "-w", "--stdin-paths"], input: Data(paths.joined(separator: "\n").utf8))
            .split(separator: "\n").map(String.init).sorted()
        let pair = try #require(zip(ids, ids.dropFirst()).first { $0.prefix(4) == $1.prefix(4) })
        let prefix = String(zip(pair.0, pair.1).prefix { $0 == $1 }.map(\.0))
        let repository = try GitRepository(path: b.path)
        let error = try await #require(throws: GitError.self) { try await repository.resolve(prefix) }
        #expect(error.code == .ambiguous)
        #expect(error.hint == "a short id in \"\(prefix)\" is the start of several object ids; give more of its hex digits")
    }

    @Test func nameOfABranchAndATagResolvesToTheTagAsInGit() async throws {
        let b = try GitRepoBuilder()
        defer { b.cleanup() }
        try b.write("a.yaml", "1\n")
        let first = try b.commit("one")
        try b.git("tag", "release")
        try b.write("a.yaml", "2\n")
        try b.commit("two")
        try b.git("branch", "release")
        let repository = try GitRepository(path: b.path)
        #expect(try await repository.resolve("release").hex == first)
        #expect(try await repository.resolve("release").hex == b.sha("release"))
    }
}
