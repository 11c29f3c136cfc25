import BerthTestSupport
import Foundation
import Testing

extension SwarmSuite {
    /// Issue 16: a dockerd restarted (stopped and started, as a host reboot does) with no
    /// Berth process running brings every replica `berth apply` started back by itself, and
    /// a `berth watch` started afterwards finds them and changes nothing. Uses the worker
    /// node's dockerd as a plain Docker Engine (no Swarm service: containers as `berth
    /// apply` makes them), because the shared dockerd must never be restarted.
    @Suite struct RebootTests {
        static let node = 3

        @Test func afterADockerdRestartTheReplicasComeBackAndWatchChangesNothing() throws {
            let cluster = try SwarmSuite.cluster
            let host = cluster.node(Self.node).dockerHost
            let project = "rb-\(String(UInt32.random(in: 0...UInt32.max) % 0xFFFFFF, radix: 16))"
            let repo = try GitRepoBuilder()
            let state = try TemporaryDirectory(prefix: "berth-reboot")
            var watch: ChildProcess?
            var stopped = false
            func docker(_ arguments: [String]) throws -> ProcessResult { try cluster.docker(arguments, node: Self.node) }
            func containers() throws -> [String] {
                try docker(["ps", "-aq", "--no-trunc", "--filter", "label=berth.project=\(project)"]).stdout
                    .split(separator: "\n").map(String.init).sorted()
            }
            func running() throws -> [String] {
                try docker(["ps", "-q", "--no-trunc", "--filter", "label=berth.project=\(project)", "--filter", "status=running"]).stdout
                    .split(separator: "\n").map(String.init).sorted()
            }
            defer {
                _ = watch?.terminate(SIGTERM, grace: .seconds(15))
                if stopped { try? cluster.startNode(Self.node) }
                let ids = (try? containers()) ?? []
                if !ids.isEmpty { _ = try? docker(["rm", "-f"] + ids) }
                _ = try? docker(["network", "rm", "berth-\(project)"])
                repo.cleanup()
                state.remove()
            }
            var environment = ProcessInfo.processInfo.environment
            environment["DOCKER_HOST"] = host
            environment["NO_COLOR"] = "1"
            environment.removeValue(forKey: "BERTH_RUNTIME")

            // No HTTP health check: the node's container addresses are inside its network
            // namespace, out of this host's reach.
            try repo.write("manifests/web.yaml", GitRepoBuilder.service("web", image: "shop/customer:1.0", replicas: 2, extra: "  stopGracePeriod: 1s\n"))
            try repo.write("manifests/api.yaml", GitRepoBuilder.service("api", image: "shop/booking:1.0", replicas: 1, extra: "  stopGracePeriod: 1s\n"))
            try repo.commit("web x2, api x1")
            let apply = try ProcessRunner.berth(
                ["apply", "--repo", repo.path, "--project", project, "--state-dir", state.path, "--auto-approve"], environment: environment)
            try #require(apply.status == 0, "\(apply.stderr)")
            let applied = try running()
            try #require(applied.count == 3)

            // The host shuts down and boots again; no Berth process runs meanwhile.
            try cluster.stopNode(Self.node)
            stopped = true
            try cluster.startNode(Self.node)
            stopped = false
            #expect(eventually(60) { (try? running()) == applied }, "running after the restart: \((try? running()) ?? [])")
            #expect(try containers() == applied)

            // A watch started now finds everything as it should be: it applies nothing.
            watch = try ChildProcess(
                try ProcessRunner.berthExecutable(),
                ["watch", "--repo", repo.path, "--project", project, "--state-dir", state.path, "--interval", "5m", "--listen", "off"],
                environment: environment, stderr: .file(state.path + "/watch.log"))
            let log = { (try? String(contentsOfFile: state.path + "/watch.log", encoding: .utf8)) ?? "" }
            #expect(eventually(60) { log().contains("restarts: watch heals") }, "\(log())")
            // The apply was journaled (trigger manual); the watch resumes from it: its first
            // sync finds the applied commit running and records and applies nothing.
            func records() -> [[String: Any]] {
                guard let r = try? ProcessRunner.berth(
                    ["journal", "--project", project, "--state-dir", state.path, "--format", "json"], environment: environment),
                    let document = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
                else { return [] }
                return document["records"] as? [[String: Any]] ?? []
            }
            #expect(eventually(60) { log().contains("msg=resuming") || log().contains("msg=\"resuming\"") }, "\(log())")
            Thread.sleep(forTimeInterval: 3)  // its first sync: nothing to apply
            let first = try #require(records().first)
            #expect(first["trigger"] as? String == "manual" && first["result"] as? String == "succeeded", "\(first)")
            #expect(!log().contains("applying plan"), "\(log())")
            #expect(try containers() == applied)
            #expect(watch?.terminate(SIGTERM, grace: .seconds(15)) == 0)
            watch = nil
            #expect(records().count == 1)
            // The swarm has its worker back, ready, for the tests after this one.
            #expect(eventually(60) {
                (try? cluster.docker(["node", "ls", "--format", "{{.Hostname}} {{.Status}}"]).stdout)?.contains("berthsw-n3 Ready") == true
            })
        }
    }
}
