import Testing
import Foundation
import BerthCore
import BerthEngine
import BerthGit
import BerthTestSupport

/// Remotes behind HTTP Basic authentication, through the function every `berth` command
/// opens `--repo` with, against a real smart-HTTP server (`git http-backend`) on loopback.
@Suite struct RemoteAuthTests {
    static let token = "tok-7f3a9c1e-right"
    static let logins = [
        GitHTTPServer.Login(user: "x-access-token", password: token),
        GitHTTPServer.Login(user: "alice", password: "alice-pw-5d2b"),
    ]

    /// Opens `location` as `berth` does, with credentials read from `environment` alone.
    func open(_ location: String, cache: TemporaryDirectory, environment: [String: String] = [:]) async throws(GitError) -> GitRepository {
        try await GitRepository.open(
            location: location, mirrorCacheRoot: cache.path + "/repos", credentials: GitCredentials(environment: environment))
    }

    @Test func noCredentialsIsAnAuthenticationErrorNamingWhatToSet() async throws {
        let remote = try ServedGitRepository(logins: Self.logins)
        defer { remote.cleanup() }
        let cache = try TemporaryDirectory()
        defer { cache.remove() }
        let error = try await #require(throws: GitError.self) { try await open(remote.url, cache: cache) }
        #expect(error.code == .auth)
        #expect(error.description == "cannot fetch \(remote.url): authentication required: the server asks for a login and no credentials are set; set BERTH_GIT_TOKEN (an access token), or BERTH_GIT_USERNAME and BERTH_GIT_PASSWORD, in berth's environment")
        #expect(remote.server.requests.allSatisfy { $0.user == nil && $0.status == 401 })
    }

    @Test func wrongTokenIsSentOnceAndNeverShown() async throws {
        let remote = try ServedGitRepository(logins: Self.logins)
        defer { remote.cleanup() }
        let cache = try TemporaryDirectory()
        defer { cache.remove() }
        let wrong = "tok-WRONG-0b1e"
        let error = try await #require(throws: GitError.self) {
            try await open(remote.url, cache: cache, environment: ["BERTH_GIT_TOKEN": wrong])
        }
        #expect(error.code == .auth)
        #expect(error.description.hasPrefix("cannot fetch \(remote.url): authentication failed: the server rejected the token in BERTH_GIT_TOKEN; check that BERTH_GIT_TOKEN"))
        #expect(!error.description.contains(wrong))
        // The server really got the token, once: libgit2 would replay it 15 times.
        let presented = remote.server.requests.filter { $0.password != nil }
        #expect(presented.map(\.user) == ["x-access-token"])
        #expect(presented.map(\.password) == [wrong])
    }

    @Test func wrongPasswordNamesItsVariables() async throws {
        let remote = try ServedGitRepository(logins: Self.logins)
        defer { remote.cleanup() }
        let cache = try TemporaryDirectory()
        defer { cache.remove() }
        let error = try await #require(throws: GitError.self) {
            try await open(remote.url, cache: cache, environment: ["BERTH_GIT_USERNAME": "alice", "BERTH_GIT_PASSWORD": "nope-9x8"])
        }
        #expect(error.code == .auth)
        #expect(error.libgit2Message == "authentication failed: the server rejected the password in BERTH_GIT_USERNAME/BERTH_GIT_PASSWORD")
        #expect(!error.description.contains("nope-9x8"))
        let half = try await #require(throws: GitError.self) {
            try await open(remote.url, cache: cache, environment: ["BERTH_GIT_USERNAME": "alice"])
        }
        #expect(half.code == .auth)
        #expect(half.libgit2Message == "authentication required: the server asks for a login and BERTH_GIT_PASSWORD is not set")
    }

    @Test func rightTokenClonesReadsAndFetchesNewCommits() async throws {
        let remote = try ServedGitRepository(logins: Self.logins)
        defer { remote.cleanup() }
        let cache = try TemporaryDirectory()
        defer { cache.remove() }
        let environment = ["BERTH_GIT_TOKEN": Self.token]
        let first = try remote.origin.sha("main")

        let mirror = try await open(remote.url, cache: cache, environment: environment)
        #expect(try await mirror.resolve("HEAD").hex == first)
        let state = try await GitDesiredStateSource(repository: mirror).desiredState(revision: "HEAD", path: nil)
        #expect(state.services["web"]?.image == "shop/web:1.0")
        #expect(remote.server.requests.contains { $0.method == "POST" && $0.status == 200 })

        try remote.origin.write("manifests/web.yaml", GitRepoBuilder.service("web", image: "shop/web:1.1"))
        try remote.origin.commit("web 1.1")
        let second = try remote.publish()
        let again = try await open(remote.url, cache: cache, environment: environment)
        #expect(try await again.resolve("HEAD").hex == second)
        #expect(try await again.resolve("HEAD~1").hex == first)
        let newer = try await GitDesiredStateSource(repository: again).desiredState(revision: "main", path: nil)
        #expect(newer.services["web"]?.image == "shop/web:1.1")
        // One mirror, fetched twice.
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache.path + "/repos").count == 1)
    }

    @Test func userAndPasswordFromTheEnvironment() async throws {
        let remote = try ServedGitRepository(logins: Self.logins)
        defer { remote.cleanup() }
        let cache = try TemporaryDirectory()
        defer { cache.remove() }
        let mirror = try await open(
            remote.url, cache: cache, environment: ["BERTH_GIT_USERNAME": "alice", "BERTH_GIT_PASSWORD": "alice-pw-5d2b"])
        #expect(try await mirror.resolve("main").hex == remote.origin.sha("main"))
        #expect(remote.server.requests.contains { $0.user == "alice" && $0.status == 200 })
    }

    @Test func credentialsInTheURLWorkAndAreScrubbed() async throws {
        let remote = try ServedGitRepository(logins: Self.logins)
        defer { remote.cleanup() }
        let cache = try TemporaryDirectory()
        defer { cache.remove() }
        let url = remote.url(user: "alice", password: "alice-pw-5d2b")
        let mirror = try await open(url, cache: cache)
        #expect(try await mirror.resolve("HEAD").hex == remote.origin.sha("main"))
        #expect(mirror.displayName == "http://***@127.0.0.1:\(remote.server.port)/repo.git")
        // The cache folder is the one of the URL without credentials.
        #expect(FileManager.default.fileExists(atPath: GitRepository.mirrorDirectory(for: remote.url, cacheRoot: cache.path + "/repos")))
        let unknown = try await #require(throws: GitError.self) { try await mirror.resolve("mian") }
        for text in [mirror.displayName, unknown.description] {
            #expect(!text.contains("alice") && !text.contains("alice-pw-5d2b"))
        }

        let wrong = remote.url(user: "alice", password: "stale-pw-77")
        let error = try await #require(throws: GitError.self) { try await open(wrong, cache: cache) }
        #expect(error.code == .auth)
        #expect(error.description == "cannot fetch http://***@127.0.0.1:\(remote.server.port)/repo.git: authentication failed: the server rejected the user name and password in the URL; correct them, or take them out of the URL and set BERTH_GIT_TOKEN (an access token), or BERTH_GIT_USERNAME and BERTH_GIT_PASSWORD, in berth's environment")
        #expect(remote.server.requests.contains { $0.user == "alice" && $0.password == "stale-pw-77" && $0.status == 401 })
    }

    @Test func tokenWithTheURLsUserName() async throws {
        let remote = try ServedGitRepository(logins: [GitHTTPServer.Login(user: "bob", password: Self.token)])
        defer { remote.cleanup() }
        let cache = try TemporaryDirectory()
        defer { cache.remove() }
        let url = "http://bob@127.0.0.1:\(remote.server.port)/repo.git"
        let mirror = try await open(url, cache: cache, environment: ["BERTH_GIT_TOKEN": Self.token])
        #expect(try await mirror.resolve("HEAD").hex == remote.origin.sha("main"))
    }
}
