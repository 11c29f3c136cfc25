import Foundation
import Testing
import BerthTestSupport

/// `--project` is one option with one rule and one default across the commands.
@Suite struct ProjectOptionTests {
    static let message = """
        Error: --project "bad name": ' ' is not allowed; use lowercase letters, digits and '-', \
        starting and ending with a letter or digit, at most 63 characters (e.g. --project bad-name)
        """

    @Test(arguments: [
        ["plan", "--observed", "none"], ["apply", "--auto-approve"], ["status"],
        ["watch", "--listen", "off"], ["journal"], ["history", "--applied"],
    ])
    func aBadProjectIsAUsageErrorEverywhere(_ command: [String]) throws {
        var environment = ProcessInfo.processInfo.environment
        // Were the option not checked, nothing could be reached anyway: no daemon, no state.
        environment["DOCKER_HOST"] = "unix:///nonexistent.sock"
        environment["XDG_STATE_HOME"] = "/nonexistent"
        let r = try ProcessRunner.berth(command + ["--project", "bad name"], environment: environment)
        #expect(r.status == 64)
        #expect(r.stdout == "")
        #expect(r.stderr.hasPrefix(Self.message + "\n"))
    }

    @Test func upperCaseAndEdgeDashesAreRefusedWithTheReason() throws {
        let upper = try ProcessRunner.berth(["plan", "--observed", "none", "--project", "Shop"])
        #expect(upper.status == 64)
        #expect(upper.stderr.hasPrefix("Error: --project \"Shop\": 'S' is not allowed; "))
        let dash = try ProcessRunner.berth(["plan", "--observed", "none", "--project=-shop"])
        #expect(dash.status == 64)
        #expect(dash.stderr.hasPrefix("Error: --project \"-shop\": starts or ends with '-'; "))
        let long = try ProcessRunner.berth(["plan", "--observed", "none", "--project", String(repeating: "a", count: 64)])
        #expect(long.status == 64)
        #expect(long.stderr.contains(": longer than 63 characters; "))
    }

    /// A repository in a folder named `My shop_<n>`: plan and journal both use the cleaned
    /// name `my-shop-<n>` (apply and status: BerthIntegrationTests, they need Docker).
    @Test func planAndJournalCleanTheFolderNameAlike() throws {
        let repo = try GitRepoBuilder()
        defer { repo.cleanup() }
        try repo.write("manifests/web.yaml", GitRepoBuilder.service("web", image: "shop/web:1", replicas: 1))
        _ = try repo.commit("web")
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let n = UInt32.random(in: 0...UInt32.max)
        let link = dir.url.appendingPathComponent("My shop_\(n)")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: repo.path)
        let plan = try ProcessRunner.berth(["plan", "--repo", link.path, "--observed", "none", "--format", "json"])
        #expect(plan.status == 0)
        #expect(try projectField(plan.stdout) == "my-shop-\(n)")
        var environment = ProcessInfo.processInfo.environment
        environment["XDG_STATE_HOME"] = dir.path
        let journal = try ProcessRunner.berth(["journal", "--repo", link.path], environment: environment)
        #expect(journal.status == 1)
        #expect(journal.stderr.hasPrefix("error: journal \(dir.path)/berth/my-shop-\(n)/journal.sqlite: open failed"))
    }

    /// Issue 17, item 4: one project name for a repository whatever folder it is cloned into,
    /// from `project:` in its committed `berth.yaml`; a bad name there is cleaned, with a warning.
    @Test func berthYamlNamesTheProjectInEveryClone() throws {
        let repo = try GitRepoBuilder()
        defer { repo.cleanup() }
        try repo.write("manifests/web.yaml", GitRepoBuilder.service("web", image: "shop/web:1.0", replicas: 1))
        try repo.write("berth.yaml", "project: travel-shop\n")
        _ = try repo.commit("web, named")
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let clone = dir.url.appendingPathComponent("Another Folder").path
        _ = try repo.git(["clone", "-q", repo.path, clone])

        func project(_ path: String, cwd: Bool = false) throws -> ProcessResult {
            try ProcessRunner.berth(["plan", "--observed", "none", "--format", "json"] + (cwd ? [] : ["--repo", path]),
                                    in: cwd ? URL(fileURLWithPath: path + "/manifests") : nil)
        }
        for r in [try project(repo.path), try project(clone), try project(clone, cwd: true)] {
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stderr == "")
            #expect(r.stdout.contains("\"project\" : \"travel-shop\""), "\(r.stdout)")
        }
        // --project still wins.
        let flag = try ProcessRunner.berth(["plan", "--observed", "none", "--repo", clone, "--project", "other"])
        #expect(flag.stdout.hasPrefix("Berth plan for project other "))

        try "project: Travel Shop\n".write(toFile: clone + "/berth.yaml", atomically: true, encoding: .utf8)
        let bad = try project(clone)
        #expect(bad.status == 0)
        #expect(bad.stderr == """
            warning: \(clone)/berth.yaml:1:10: project "Travel Shop": 'T' is not allowed; using travel-shop (write project: travel-shop to say so)

            """)
        #expect(bad.stdout.contains("\"project\" : \"travel-shop\""))
    }
}

/// The top-level `"project"` of a JSON document.
private func projectField(_ json: String) throws -> String? {
    let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
    return object?["project"] as? String
}
