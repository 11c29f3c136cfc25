import BerthDocker
import BerthTestSupport
import Foundation
import Testing

/// `apply`, `status` and `plan` agree on the project of a repository in a folder whose name
/// is not a valid project name.
@Suite(.serialized) struct ProjectNameTests {
    @Test func everyCommandCleansTheFolderNameAlike() throws {
        let repo = try GitRepoBuilder()
        defer { repo.cleanup() }
        // No replicas: the apply creates nothing on the engine.
        try repo.write("manifests/web.yaml", GitRepoBuilder.service("web", image: "shop/customer:1.0", replicas: 0))
        _ = try repo.commit("web")
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let n = UInt32.random(in: 0...UInt32.max)
        let project = "my-shop-\(n)"
        defer { _ = try? docker(["network", "rm", BerthNaming.network(project: project)]) }
        let link = dir.url.appendingPathComponent("My shop_\(n)").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: repo.path)

        let plan = try ProcessRunner.berth(["plan", "--repo", link, "--format", "json"])
        #expect(plan.status == 0)
        #expect(try projectField(plan.stdout) == project)
        let status = try ProcessRunner.berth(["status", "--repo", link, "--format", "json"])
        #expect(status.status == 0)
        #expect(try JSONDecoder().decode(StatusDocument.self, from: Data(status.stdout.utf8)).project == project)
        // Its state folder (the project lease) in the test's folder, not under $HOME.
        let environment = ProcessInfo.processInfo.environment.merging(["XDG_STATE_HOME": dir.path + "/state"]) { $1 }
        let apply = try ProcessRunner.berth(
            ["apply", "--repo", link, "--auto-approve", "--format", "json"], environment: environment)
        #expect(apply.status == 0, "\(apply.stderr)")
        #expect(try projectField(apply.stdout) == project)
    }
}

/// The top-level `"project"` of a JSON document.
private func projectField(_ json: String) throws -> String? {
    let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
    return object?["project"] as? String
}
