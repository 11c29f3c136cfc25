import Testing
@testable import BerthGit

/// The answers to libgit2's credential requests, in the order a server asks.
@Suite struct CredentialPlannerTests {
    @Test func httpsOffersEachCredentialOnceThenNamesItsSource() {
        var planner = CredentialPlanner(GitCredentials(token: "t0k"))
        #expect(planner.answer(allowed: .userPassword, urlUser: nil) == .userPassword(user: "x-access-token", password: "t0k"))
        guard case .refuse(let failure) = planner.answer(allowed: .userPassword, urlUser: nil) else {
            Issue.record("a rejected token must not be offered again")
            return
        }
        #expect(failure.message == "authentication failed: the server rejected the token in BERTH_GIT_TOKEN")
        #expect(planner.failure == failure)
        #expect(planner.requests == 2)
    }

    @Test func userNameComesFromTheEnvironmentThenTheURL() {
        var withUser = CredentialPlanner(GitCredentials(token: "t0k", username: "ci"))
        #expect(withUser.answer(allowed: .userPassword, urlUser: "bob") == .userPassword(user: "ci", password: "t0k"))
        var fromURL = CredentialPlanner(GitCredentials(password: "pw1"))
        #expect(fromURL.answer(allowed: .userPassword, urlUser: "bob") == .userPassword(user: "bob", password: "pw1"))
        var none = CredentialPlanner(GitCredentials())
        guard case .refuse(let failure) = none.answer(allowed: .userPassword, urlUser: "bob") else {
            Issue.record("nothing to offer after the URL's credentials")
            return
        }
        #expect(failure.message == "authentication failed: the server rejected the user name and password in the URL")
    }

    /// ssh://host/repo without a user: libgit2 asks for a user name first, then for a key;
    /// the agent must still be tried (it used to be tried only on the very first request).
    @Test func sshAsksForTheUserFirstThenTheAgentOnce() {
        var planner = CredentialPlanner(GitCredentials())
        #expect(planner.answer(allowed: .username, urlUser: nil) == .username("git"))
        #expect(planner.answer(allowed: [.sshKey], urlUser: "git") == .sshAgent(user: "git"))
        guard case .refuse(let failure) = planner.answer(allowed: [.sshKey], urlUser: "git") else {
            Issue.record("the agent must be tried once")
            return
        }
        #expect(failure.message == "authentication failed: the server accepted none of the ssh agent's keys")
        #expect(failure.hint.contains("BERTH_GIT_SSH_KEY"))
    }

    @Test func sshKeyFileIsOfferedOnce() {
        var planner = CredentialPlanner(GitCredentials(sshKeyPath: "/keys/deploy", sshPassphrase: "pp-secret"))
        #expect(planner.answer(allowed: [.sshKey], urlUser: "deploy") == .sshKey(user: "deploy", path: "/keys/deploy", passphrase: "pp-secret"))
        guard case .refuse(let failure) = planner.answer(allowed: [.sshKey], urlUser: "deploy") else {
            Issue.record("a rejected key must not be offered again")
            return
        }
        #expect(failure.message == "authentication failed: the server rejected the ssh key in BERTH_GIT_SSH_KEY (/keys/deploy)")
        #expect(!failure.message.contains("pp-secret") && !failure.hint.contains("pp-secret"))
    }

    @Test func unsupportedKindsAreRefused() {
        var planner = CredentialPlanner(GitCredentials(token: "t0k"))
        guard case .refuse(let failure) = planner.answer(allowed: [], urlUser: nil) else {
            Issue.record("no supported kind")
            return
        }
        #expect(failure.message.contains("does not support"))
    }
}
