import BerthCore
import BerthDocker
import BerthTestSupport
import Foundation
import Testing

extension SwarmSuite {
    /// BerthDocker's Swarm calls against the real 3-node cluster: services with their version
    /// index, tasks with node, state, ports; nodes; overlay networks; the swarm section of info.
    @Suite struct SwarmClientTests {
        static func connect(_ node: Int = 1) async throws -> DockerClient {
            let cluster = try SwarmSuite.cluster
            return try await DockerClient.connect(to: DockerEndpoint(parsing: cluster.node(node).dockerHost))
        }

        @Test func swarmInfoTellsManagersFromWorkers() async throws {
            let leader = try await (Self.connect(1)).swarmInfo()
            #expect(leader.LocalNodeState == "active")
            #expect(leader.ControlAvailable == true)
            #expect(leader.Nodes == 3)
            #expect(leader.Managers == 2)
            let worker = try await (Self.connect(3)).swarmInfo()
            #expect(worker.LocalNodeState == "active")
            #expect(worker.ControlAvailable == false)
            // A worker cannot answer for the swarm: the engine's own words come through.
            await #expect(throws: DockerError.self) { try await (Self.connect(3)).listServices(labels: [:]) }
        }

        @Test func nodesListTheirRoleStateAndAddress() async throws {
            let nodes = try await Self.connect().listNodes()
            let rows = nodes.map {
                "\($0.Description?.Hostname ?? "?") \($0.Spec.Role ?? "?") \($0.Status.State) \($0.Spec.Availability ?? "?") \($0.Status.Addr ?? "?") \($0.ManagerStatus?.Leader == true ? "leader" : "-")"
            }.sorted()
            #expect(rows == [
                "berthsw-n1 manager ready active 100.64.77.11 leader",
                "berthsw-n2 manager ready active 100.64.77.12 -",
                "berthsw-n3 worker ready active 100.64.77.13 -",
            ])
        }

        @Test func aServiceIsCreatedScaledWithItsVersionIndexAndRemoved() async throws {
            let client = try await Self.connect()
            let project = "sc-\(String(UInt32.random(in: 0...UInt32.max) % 0xFFFFFF, radix: 16))"
            let network = SwarmNaming.network(project: project)
            let spec = ServiceSpec(
                name: "customer", image: "shop/customer:1.0", replicas: 2,
                ports: [PortSpec(containerPort: 8080, publish: 8080)],
                health: HealthCheck(probe: .http(path: "/healthz", port: 8080), interval: Millis(300), failureThreshold: 2))
            let request = InstanceRequest(project: project, spec: spec, commit: "abc123")
            let mapped = SwarmServiceMapping.spec(for: request)
            var serviceID: String?
            defer {
                let cluster = try? SwarmSuite.cluster
                if let serviceID { _ = try? cluster?.docker(["service", "rm", serviceID]) }
                _ = eventually(30) { (try? cluster?.docker(["network", "rm", network]))??.status == 0 }
            }

            let networkID = try await client.createOverlayNetwork(name: network, labels: [BerthLabel.project: project])
            #expect(!networkID.isEmpty)
            let id = try await client.createService(mapped)
            serviceID = id

            // Both tasks run (their health check passed), each with a host-mode port.
            var tasks: [Engine.SwarmTask] = []
            let ran = try await eventuallyAsync(60) {
                tasks = try await client.listTasks(service: mapped.Name, desiredState: "running")
                return tasks.count == 2 && tasks.allSatisfy { $0.Status.State == "running" }
            }
            #expect(ran, "tasks: \(tasks.map { "\($0.Status.State) \(SwarmObservation.reason($0))" })")
            for task in tasks {
                let port = try #require(task.Status.PortStatus?.Ports?.first)
                #expect(port.TargetPort == 8080)
                #expect(port.PublishMode == "host")
                #expect((port.PublishedPort ?? 0) > 0)
                #expect(task.Spec.ContainerSpec.Labels?[BerthLabel.revision] == spec.revision.id)
                #expect(task.NodeID != nil)
            }
            // Found by their service's labels too, as observe finds them.
            let byLabel = try await client.listTasks(labels: [BerthLabel.project: project, BerthLabel.service: "customer"])
            #expect(byLabel.count == 2)

            // Inspect, then update with the version read; a second update from the same read
            // is refused (another writer came first).
            let read = try await client.inspectService(id)
            #expect(read.Spec.Name == "\(project)_customer")
            #expect(read.Spec.Labels?[SwarmNaming.stackNamespace] == project)
            var scaled = read.Spec
            scaled.Mode = .init(Replicated: .init(Replicas: 3))
            try await client.updateService(id, version: read.Version.Index, spec: scaled)
            await #expect(throws: DockerError.self) {
                try await client.updateService(id, version: read.Version.Index, spec: scaled)
            }
            let three = try await eventuallyAsync(60) {
                try await client.listTasks(service: id, desiredState: "running").filter { $0.Status.State == "running" }.count == 3
            }
            #expect(three)
            let listed = try await client.listServices(labels: [BerthLabel.project: project])
            #expect(listed.map(\.Spec.Name) == ["\(project)_customer"])
            #expect(listed.first?.ServiceStatus?.DesiredTasks == 3)

            // Observed state from services, tasks and nodes alone.
            let observed = SwarmObservation.observedState(
                project: project, services: listed, tasks: try await client.listTasks(service: id),
                nodes: try await client.listNodes())
            #expect(observed.services.map(\.name) == ["customer"])
            #expect(observed.services.first?.instances.map(\.state) == [.running, .running, .running])
            // Every instance carries its node; Swarm spreads a service's tasks over the nodes.
            let nodes = Set(observed.services.first?.instances.compactMap(\.node) ?? [])
            #expect(nodes.isSubset(of: ["berthsw-n1", "berthsw-n2", "berthsw-n3"]))
            #expect(nodes.count >= 2, "instances on \(nodes)")

            try await client.removeService(id)
            serviceID = nil
            await #expect(throws: DockerError.self) { try await client.inspectService(id) }
        }
    }
}

/// `eventually` for async conditions.
func eventuallyAsync(_ seconds: Double, _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(200))
    }
    return try await condition()
}
