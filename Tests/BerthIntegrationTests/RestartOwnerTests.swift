import BerthTestSupport
import Foundation
import Testing

/// Issue 16, "a reboot takes everything down": after `berth apply` Docker restarts the
/// containers (restart policy `unless-stopped`), while `berth watch` runs only watch heals
/// (policy `no`), a stopped watch hands them back, and `berth apply` hands back what a
/// SIGKILLed watch left.
@Suite("restarts: Docker's after apply, Berth's while watch runs", .serialized)
struct RestartOwnerTests {
    /// The restart policy of each of the project's containers, sorted.
    static func policies(_ project: String) throws -> [String] {
        let ids = try Docker.all(project)
        guard !ids.isEmpty else { return [] }
        return try sh(["docker", "inspect", "--format", "{{.HostConfig.RestartPolicy.Name}}"] + ids).out
            .split(separator: "\n").map(String.init).sorted()
    }

    @Test func applyGivesRestartsToDockerWatchTakesThemAndGivesThemBack() throws {
        let h = try WatchHarness()
        defer { h.stop() }
        try h.commit(["manifests/web.yaml": WatchHarness.service("web", replicas: 2)], "web x2")
        let apply = {
            try ProcessRunner.berth(
                ["apply", "--repo", h.repo.path, "--project", h.project, "--state-dir", h.state.path, "--auto-approve"],
                environment: ProcessInfo.processInfo.environment.merging(["NO_COLOR": "1"]) { $1 })
        }
        let first = try apply()
        try #require(first.status == 0, "\(first.stderr)")
        let applied = try Docker.all(h.project)
        #expect(applied.count == 2)
        #expect(try Self.policies(h.project) == ["unless-stopped", "unless-stopped"])

        // Watch takes them over, changing nothing else, and hands them back when it stops.
        try h.start(interval: "5m")
        #expect(try eventually(within: 20) { try Self.policies(h.project) == ["no", "no"] }, "\(h.log())")
        #expect(h.log().contains("restarts: watch heals; Docker restarts nothing while it runs"), "\(h.log())")
        #expect(try Docker.all(h.project) == applied)
        #expect(h.terminate() == 0)
        #expect(try Self.policies(h.project) == ["unless-stopped", "unless-stopped"], "\(h.log())")
        #expect(h.log().contains("restarts: handed back to Docker"), "\(h.log())")

        // A watch killed with SIGKILL cannot hand them back; the next apply does, changing nothing else.
        try h.start(interval: "5m")
        #expect(try eventually(within: 20) { try Self.policies(h.project) == ["no", "no"] }, "\(h.log())")
        h.terminate(signal: SIGKILL)
        #expect(try Self.policies(h.project) == ["no", "no"])
        let again = try apply()
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("No changes. Desired state matches what runs."), "\(again.stdout)")
        #expect(try Self.policies(h.project) == ["unless-stopped", "unless-stopped"])
        #expect(try Docker.all(h.project) == applied)
    }
}
