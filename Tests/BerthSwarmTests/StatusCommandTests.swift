import BerthCore
import BerthDocker
import BerthTestSupport
import Foundation
import Testing

extension SwarmSuite {
    /// `berth status` and `berth plan` with `--runtime swarm` (or `BERTH_RUNTIME=swarm`)
    /// against the real cluster: instances with their nodes, the nodes table, a drained
    /// node's warning.
    @Suite struct StatusCommandTests {
        @Test func statusShowsEachInstancesNodeAndWarnsAboutADrainedNode() async throws {
            let cluster = try SwarmSuite.cluster
            let runtime = try await SwarmRuntime.connect(environment: ["DOCKER_HOST": cluster.managerHost])
            let project = "st-\(String(UInt32.random(in: 0...UInt32.max) % 0xFFFFFF, radix: 16))"
            let repo = try GitRepoBuilder()
            defer {
                SwarmRuntimeTests.cleanup(project)
                _ = try? cluster.docker(["node", "update", "--availability", "active", "berthsw-n3"])
                repo.cleanup()
            }
            try repo.write("manifests/customer.yaml", GitRepoBuilder.service("customer", image: "shop/customer:1.0", replicas: 3))
            try repo.commit("customer")
            let spec = ServiceSpec(name: "customer", image: "shop/customer:1.0", replicas: 3)
            try await runtime.deploy(InstanceRequest(project: project, spec: spec, commit: nil))
            #expect(
                try await runtime.waitConverged(
                    project: project, service: "customer", revision: spec.revision, replicas: 3,
                    deadline: .now + .seconds(60)) == .converged)

            var environment = ProcessInfo.processInfo.environment
            environment["DOCKER_HOST"] = cluster.managerHost
            environment["NO_COLOR"] = "1"
            environment.removeValue(forKey: "BERTH_RUNTIME")
            let args = ["status", "--repo", repo.path, "--project", project, "--runtime", "swarm"]

            // JSON: every instance names its node; the nodes in their roles.
            let json = try ProcessRunner.berth(args + ["--format", "json"], environment: environment)
            #expect(json.status == 0, "\(json.stderr)")
            #expect(json.stderr == "")
            let document = try JSONDecoder().decode(Document.self, from: Data(json.stdout.utf8))
            let customer = try #require(document.services.first)
            #expect("\(customer.name) \(customer.sync) \(customer.health) \(customer.readyReplicas)/\(customer.desiredReplicas)"
                == "customer Synced Healthy 3/3")
            let instanceNodes = customer.instances.map { $0.node ?? "(none)" }
            #expect(Set(instanceNodes).isSubset(of: ["berthsw-n1", "berthsw-n2", "berthsw-n3"]))
            #expect(document.nodes.map { "\($0.hostname) \($0.role) \($0.state) \($0.availability) \($0.address ?? "-") \($0.leader)" } == [
                "berthsw-n1 manager ready active 100.64.77.11 true",
                "berthsw-n2 manager ready active 100.64.77.12 false",
                "berthsw-n3 worker ready active 100.64.77.13 false",
            ])

            // Text: the service table, then the nodes with what of the project runs there.
            // Drained first: Swarm moves the worker's tasks away, and status says so.
            #expect(try cluster.docker(["node", "update", "--availability", "drain", "berthsw-n3"]).status == 0)
            _ = try await eventuallyAsync(30) {
                let now = try await runtime.observe(project: project).service("customer")?.instances ?? []
                return now.count == 3 && now.allSatisfy { $0.state == .running && $0.node != "berthsw-n3" }
            }
            let observed = try await runtime.observe(project: project)
            func placed(_ node: String) -> String {
                let n = observed.service("customer")?.instances.filter { $0.node == node }.count ?? 0
                return n == 0 ? "-" : n == 1 ? "customer" : "customer ×\(n)"
            }
            // BERTH_RUNTIME picks the runtime when the flag is not given.
            environment["BERTH_RUNTIME"] = "swarm"
            let text = try ProcessRunner.berth(Array(args.dropLast(2)), environment: environment)
            #expect(text.status == 0)
            #expect(text.stderr == "warning: node berthsw-n3 is drained: Swarm moves its tasks away\n")
            let lines = text.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            #expect(lines.first?.hasPrefix("SERVICE   IMAGE") == true)
            let nodesTable = Array(lines.drop { $0 != "" }.dropFirst())
            #expect(nodesTable == [
                "NODE        ROLE              STATE  AVAILABILITY  ADDRESS       INSTANCES",
                "berthsw-n1  manager (leader)  ready  active        100.64.77.11  \(placed("berthsw-n1"))",
                "berthsw-n2  manager           ready  active        100.64.77.12  \(placed("berthsw-n2"))",
                "berthsw-n3  worker            ready  drain         100.64.77.13  -",
                "",
            ])

            // plan reads the Swarm as well: nothing to do.
            let plan = try ProcessRunner.berth(
                ["plan", "--repo", repo.path, "--project", project, "--detailed-exitcode"], environment: environment)
            #expect(plan.status == 0, "\(plan.stdout)\(plan.stderr)")
        }

        @Test func anUnknownRuntimeAndAnEngineOutsideASwarmAreRefusedWithAdvice() throws {
            let repo = try GitRepoBuilder()
            defer { repo.cleanup() }
            try repo.write("manifests/web.yaml", GitRepoBuilder.service("web", image: "shop/customer:1.0"))
            try repo.commit("web")
            var environment = ProcessInfo.processInfo.environment
            environment["BERTH_RUNTIME"] = "k8s"
            let status = try ProcessRunner.berth(["status", "--repo", repo.path], environment: environment)
            #expect(status.status == 1)
            #expect(status.stderr == "error: BERTH_RUNTIME=k8s is not a runtime Berth knows; use docker or swarm (or unset it for docker)\n")
            // The shared engine is in no swarm (and never joins one).
            environment["BERTH_RUNTIME"] = "swarm"
            environment["DOCKER_HOST"] = "unix:///var/run/docker.sock"
            let scratch = try TemporaryDirectory(prefix: "berth-swarm-refused")
            defer { scratch.remove() }
            environment["XDG_STATE_HOME"] = scratch.path
            let apply = try ProcessRunner.berth(["apply", "--auto-approve", "--repo", repo.path], environment: environment)
            #expect(apply.status == 1)
            #expect(
                apply.stderr
                    == "error: the Docker Engine at unix:///var/run/docker.sock is not part of a Swarm; --runtime swarm needs a Swarm manager: set DOCKER_HOST to one, or run `docker swarm init` there, or use --runtime docker\n")
        }

        struct Document: Decodable {
            struct Service: Decodable {
                struct Instance: Decodable {
                    var id: String
                    var node: String?
                    var image: String?
                    var state: String?
                    var restartCount: Int?
                }
                var name: String
                var sync: String
                var health: String
                var readyReplicas: Int
                var desiredReplicas: Int
                var instances: [Instance]
            }
            var services: [Service]
            var nodes: [SwarmNodeStatus]
        }
    }
}
