import Testing
import Foundation
import BerthGit
import BerthTestSupport

@Suite struct RemoteTests {
    @Test func mirrorsOverFileURLAndFetchesNewCommits() async throws {
        let origin = try GitRepoBuilder()
        defer { origin.cleanup() }
        try origin.write("manifests/a.yaml", "1\n")
        let first = try origin.commit("first")
        try origin.git("tag", "v1")
        let cache = try TemporaryDirectory()
        defer { cache.remove() }
        let url = "file://" + origin.path
        let dir = GitRepository.mirrorDirectory(for: url, cacheRoot: cache.path)
        #expect(dir.hasPrefix(cache.path + "/") && dir.hasSuffix(".git"))

        let mirror = try await GitRepository.mirror(url: url, into: dir, credentials: .init())
        #expect(try await mirror.resolve("HEAD").hex == first)
        #expect(try await mirror.resolve("v1").hex == first)
        #expect(await mirror.workDirectory == nil)

        try origin.write("manifests/a.yaml", "2\n")
        let second = try origin.commit("second")
        try origin.git("branch", "feature")
        let again = try await GitRepository.mirror(url: url, into: dir, credentials: .init())
        #expect(try await again.resolve("HEAD").hex == second)
        #expect(try await again.resolve("feature").hex == second)
        #expect(try await again.resolve("main~1").hex == first)
    }

    @Test func unreachableFileRemote() async throws {
        let cache = try TemporaryDirectory()
        defer { cache.remove() }
        let error = try await #require(throws: GitError.self) {
            try await GitRepository.mirror(url: "file:///nonexistent/repo", into: cache.path + "/m.git", credentials: .init())
        }
        #expect(error.operation == "fetch")
        #expect(error.subject == "file:///nonexistent/repo")
        #expect(error.description.hasPrefix("cannot fetch file:///nonexistent/repo: "))
    }

    @Test func unreachableHTTPSRemoteScrubsCredentials() async throws {
        let cache = try TemporaryDirectory()
        defer { cache.remove() }
        let credentials = GitCredentials(token: "tok-SECRET-123", password: "hunter2-secret")
        let error = try await #require(throws: GitError.self) {
            try await GitRepository.mirror(
                url: "https://alice:pa55word-xyz@127.0.0.1:1/x.git", into: cache.path + "/m.git", credentials: credentials)
        }
        #expect(error.code == .network)
        #expect(error.subject == "https://***@127.0.0.1:1/x.git")
        for secret in ["pa55word-xyz", "alice", "tok-SECRET-123", "hunter2-secret"] {
            #expect(!error.description.contains(secret))
        }
        #expect(error.description.hasPrefix("cannot fetch https://***@127.0.0.1:1/x.git: "))
    }

    @Test func scrubberRemovesUserInfoAndSecrets() {
        let s = Scrubber(secrets: ["s3cr3t"])
        #expect(s.apply("failed for https://user:pw@host/x and ssh://git@host:22/y token s3cr3t")
            == "failed for https://***@host/x and ssh://***@host:22/y token ***")
        #expect(Scrubber.scrubURLUserInfo("https://host/a@b") == "https://host/a@b")
    }

    @Test func classifiesLocations() {
        #expect(GitRepository.isRemote("https://example.com/x.git"))
        #expect(GitRepository.isRemote("git@github.com:org/repo.git"))
        #expect(!GitRepository.isRemote("/srv/repo"))
        #expect(!GitRepository.isRemote("repo"))
    }
}
