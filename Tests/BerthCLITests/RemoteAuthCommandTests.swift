import Foundation
import Testing
import BerthTestSupport

/// `--repo http://…` behind HTTP Basic authentication, run as the built binary against a real
/// smart-HTTP server on loopback: exit codes, what the operator is told, and no secret in
/// any output.
@Suite struct RemoteAuthCommandTests {
    static let token = "tok-c41d-right-e9"
    static let logins = [
        GitHTTPServer.Login(user: "x-access-token", password: token),
        GitHTTPServer.Login(user: "carol", password: "carol-pw-31f"),
    ]

    /// Runs `berth` with only `credentials` as git credentials and its own state folder.
    static func berth(_ remote: ServedGitRepository, _ arguments: [String], credentials: [String: String] = [:]) throws -> ProcessResult {
        var env = ProcessInfo.environmentWithoutGitCredentials
        env["HOME"] = remote.origin.root.path + "/home"
        env["BERTH_CACHE_DIR"] = remote.origin.root.path + "/state"
        env.merge(credentials) { $1 }
        return try ProcessRunner.berth(arguments, in: URL(fileURLWithPath: remote.origin.root.path), environment: env, timeout: .seconds(60))
    }

    @Test func noCredentials() throws {
        let remote = try ServedGitRepository(logins: Self.logins)
        defer { remote.cleanup() }
        let result = try Self.berth(remote, ["validate", "--rev", "HEAD", "--repo", remote.url])
        #expect(result == ProcessResult(
            stdout: "",
            stderr: "error: cannot fetch \(remote.url): authentication required: the server asks for a login and no credentials are set; set BERTH_GIT_TOKEN (an access token), or BERTH_GIT_USERNAME and BERTH_GIT_PASSWORD, in berth's environment\n",
            status: 1))
    }

    @Test func wrongTokenNeverShown() throws {
        let remote = try ServedGitRepository(logins: Self.logins)
        defer { remote.cleanup() }
        let wrong = "tok-STALE-a7c2"
        let result = try Self.berth(remote, ["validate", "--rev", "HEAD", "--repo", remote.url], credentials: ["BERTH_GIT_TOKEN": wrong])
        #expect(result.status == 1)
        #expect(result.stdout == "")
        #expect(result.stderr.hasPrefix("error: cannot fetch \(remote.url): authentication failed: the server rejected the token in BERTH_GIT_TOKEN; "))
        #expect(!result.stderr.contains(wrong))
        #expect(remote.server.requests.filter { $0.password != nil }.map(\.password) == [wrong])
    }

    @Test func rightTokenThenANewCommitIsFetched() throws {
        let remote = try ServedGitRepository(logins: Self.logins)
        defer { remote.cleanup() }
        let credentials = ["BERTH_GIT_TOKEN": Self.token]
        let first = try remote.origin.sha("main")
        let valid = try Self.berth(remote, ["validate", "--rev", "HEAD", "--repo", remote.url], credentials: credentials)
        #expect(valid == ProcessResult(stdout: "manifests at HEAD (\(first.prefix(7))): 1 service valid\n", stderr: "", status: 0))

        try remote.origin.write("manifests/web.yaml", GitRepoBuilder.service("web", image: "shop/web:1.1"))
        try remote.origin.commit("web 1.1")
        let second = try remote.publish()
        let diff = try Self.berth(remote, ["diff", first, "--repo", remote.url, "--detailed-exitcode"], credentials: credentials)
        #expect(diff.status == 2)
        #expect(diff.stdout.hasPrefix("~ web  spec.image: shop/web:1.0 → shop/web:1.1\n"))
        #expect(diff.stdout.contains("(\(first.prefix(7))..\(second.prefix(7)))"))
        #expect(!diff.stdout.contains(Self.token) && !diff.stderr.contains(Self.token))
    }

    @Test func userAndPassword() throws {
        let remote = try ServedGitRepository(logins: Self.logins)
        defer { remote.cleanup() }
        let result = try Self.berth(
            remote, ["validate", "--rev", "main", "--repo", remote.url],
            credentials: ["BERTH_GIT_USERNAME": "carol", "BERTH_GIT_PASSWORD": "carol-pw-31f"])
        #expect(result.status == 0)
        #expect(result.stderr == "")
        #expect(remote.server.requests.contains { $0.user == "carol" && $0.status == 200 })
    }

    @Test func credentialsInTheURLAreScrubbed() throws {
        let remote = try ServedGitRepository(logins: Self.logins)
        defer { remote.cleanup() }
        let good = try Self.berth(remote, ["validate", "--rev", "HEAD", "--repo", remote.url(user: "carol", password: "carol-pw-31f"), "--format", "json"])
        #expect(good.status == 0)
        #expect(good.stdout.contains(#""valid" : true"#) || good.stdout.contains(#""valid":true"#))
        let unknown = try Self.berth(remote, ["validate", "--rev", "mian", "--repo", remote.url(user: "carol", password: "carol-pw-31f")])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("did you mean main?"))
        let wrong = try Self.berth(remote, ["diff", "HEAD", "--repo", remote.url(user: "carol", password: "old-pw-5e")])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.hasPrefix("error: cannot fetch http://***@127.0.0.1:\(remote.server.port)/repo.git: authentication failed: the server rejected the user name and password in the URL; "))
        for result in [good, unknown, wrong] {
            for secret in ["carol", "carol-pw-31f", "old-pw-5e"] {
                #expect(!result.stdout.contains(secret) && !result.stderr.contains(secret))
            }
        }
    }
}
