import BerthTestSupport
import Foundation
import Testing

extension SwarmSuite {
    /// The cluster itself: three nodes in their roles, and an overlay network that carries
    /// traffic between tasks on different nodes (by address and by service name).
    @Suite struct ClusterTests {
        @Test func threeNodesJoinedAsLeaderManagerAndWorker() throws {
            let cluster = try SwarmSuite.cluster
            let r = try cluster.docker(["node", "ls", "--format", "{{.Hostname}} {{.Status}} {{.Availability}} {{.ManagerStatus}}"])
            #expect(r.status == 0)
            #expect(r.stdout.split(separator: "\n").sorted() == [
                "berthsw-n1 Ready Active Leader",
                "berthsw-n2 Ready Active Reachable",
                "berthsw-n3 Ready Active ",
            ])
        }

        @Test func overlayNetworkCarriesTrafficAcrossNodes() throws {
            let cluster = try SwarmSuite.cluster
            let tag = String(UInt32.random(in: 0...UInt32.max) % 0xFFFFFF, radix: 16)
            let network = "ct-net-\(tag)"
            let service = "ct-web-\(tag)"
            defer {
                _ = try? cluster.docker(["service", "rm", service])
                _ = eventually(30) {
                    (try? cluster.docker(["network", "rm", network]))?.status == 0
                }
            }
            try #require(cluster.docker(["network", "create", "--driver", "overlay", "--attachable", network]).status == 0)
            // One task per node (max one replica per node), host-mode port on an ephemeral port.
            let create = try cluster.docker([
                "service", "create", "--detach=false", "--quiet", "--name", service, "--network", network,
                "--endpoint-mode", "dnsrr", "--replicas", "3", "--replicas-max-per-node", "1", "--no-resolve-image",
                "--publish", "mode=host,target=8080", "shop/customer:1.0",
            ], timeout: .seconds(90))
            try #require(create.status == 0, "docker service create: \(create.stderr)")

            let tasks = try cluster.docker([
                "service", "ps", service, "--filter", "desired-state=running", "--format", "{{.Node}} {{.CurrentState}}",
            ]).stdout.split(separator: "\n").map { String($0.split(separator: " ")[0]) }
            #expect(tasks.sorted() == ["berthsw-n1", "berthsw-n2", "berthsw-n3"])

            // Every node's host-mode port answers at the node's bridge address.
            for node in cluster.nodes {
                let containers = try cluster.docker(
                    ["ps", "-q", "--filter", "label=com.docker.swarm.service.name=\(service)"], node: node.number)
                let id = try #require(containers.stdout.split(separator: "\n").first.map(String.init))
                let port = try cluster.docker(["port", id, "8080/tcp"], node: node.number).stdout
                    .split(separator: "\n").first.flatMap { $0.split(separator: ":").last }.map(String.init)
                let body = try ProcessRunner.run(
                    URL(fileURLWithPath: "/usr/bin/curl"), ["-s", "-m", "3", "http://\(node.address):\(try #require(port))/version"])
                #expect(body.stdout == "customer 1.0\n", "node \(node.hostname)")
            }

            // From the task on the worker: every task's overlay address answers, and the
            // service name resolves to all of them.
            let onWorker = try #require(
                try cluster.docker(["ps", "-q", "--filter", "label=com.docker.swarm.service.name=\(service)"], node: 3)
                    .stdout.split(separator: "\n").first.map(String.init))
            let lookup = try cluster.docker(["exec", onWorker, "nslookup", "tasks.\(service)"], node: 3).stdout
            let addresses = lookup.split(separator: "\n").filter { $0.hasPrefix("Address: ") }
                .map { String($0.dropFirst("Address: ".count)) }.sorted()
            #expect(addresses.count == 3, "nslookup tasks.\(service): \(lookup)")
            for address in addresses {
                // busybox wget's own -T crashes in the static build: `timeout` bounds it. The
                // overlay's peer table spreads by gossip: give it a few seconds.
                var last = ProcessResult(stdout: "", stderr: "", status: 0)
                let answered = try eventually(10) {
                    last = try cluster.docker(
                        ["exec", onWorker, "timeout", "3", "wget", "-qO-", "http://\(address):8080/version"], node: 3)
                    return last.stdout == "customer 1.0\n"
                }
                #expect(answered, "from the worker to \(address): \(last.stdout.debugDescription) \(last.stderr)")
            }
            let byName = try cluster.docker(
                ["exec", onWorker, "timeout", "3", "wget", "-qO-", "http://\(service):8080/version"], node: 3)
            #expect(byName.stdout == "customer 1.0\n")
        }
    }
}
