import BerthCore
import BerthDocker
import Foundation
import Testing

/// The balancer's view of a Swarm: tasks at their node's address and host-mode port, and the
/// changes between two polls.
@Suite struct SwarmEndpointSourceTests {
    static func endpoint(_ id: String, host: String = "100.64.77.11", port: Int = 32768) -> ServiceEndpoint {
        ServiceEndpoint(
            instanceID: id, service: "customer", host: host, ports: [EndpointPort(containerPort: 8080, publish: 8081, port: port)])
    }

    @Test func changesBetweenTwoPollsAreRemovedStoppingStartedInIdOrder() {
        let before = EndpointSnapshot(running: [Self.endpoint("a"), Self.endpoint("b"), Self.endpoint("c")], stopped: ["old"])
        let after = EndpointSnapshot(running: [Self.endpoint("c"), Self.endpoint("e"), Self.endpoint("d")], stopped: ["b"])
        #expect(SwarmEndpointSource.changes(from: before, to: after) == [
            .removed(instanceID: "a"), .removed(instanceID: "old"), .stopping(instanceID: "b"),
            .started(Self.endpoint("d")), .started(Self.endpoint("e")),
        ])
        #expect(SwarmEndpointSource.changes(from: after, to: after) == [])
    }

    @Test func aRunningTaskIsReachedAtItsNodesAddressAndPublishedPort() throws {
        let spec = ServiceSpec(
            name: "customer", image: "shop/customer:1.1", ports: [PortSpec(containerPort: 8080, publish: 8081)],
            health: HealthCheck(probe: .tcp(port: 8080)), stopGracePeriod: .seconds(3))
        let mapped = SwarmServiceMapping.spec(for: InstanceRequest(project: "shop", spec: spec, commit: nil))
        let encoder = JSONEncoder()
        let specJSON = String(decoding: try encoder.encode(mapped), as: UTF8.self)
        let services: [Engine.SwarmService] = try JSONDecoder().decode(
            [Engine.SwarmService].self, from: Data(#"[{"ID": "svc1", "Version": {"Index": 1}, "Spec": \#(specJSON)}]"#.utf8))
        let observation = SwarmObservationTests.self
        var tasks: [Engine.SwarmTask] = try observation.decode(observation.tasks)
        for i in tasks.indices { tasks[i].Spec.ContainerSpec.Labels?[BerthLabel.revision] = spec.revision.id }
        let nodes: [Engine.SwarmNode] = try observation.decode(observation.nodes)
        let snapshot = SwarmEndpointSource.snapshot(services: services, tasks: tasks, nodes: nodes)
        // t1 and t2 run on ready nodes with a host port; t3 is starting on a down node; the
        // rest are history.
        #expect(snapshot.running.map { "\($0.instanceID) \($0.node ?? "-") \($0.host):\($0.ports.map { "\($0.containerPort)→\($0.port) publish \($0.publish ?? 0)" })" } == [
            "t1 berthsw-n2 100.64.77.12:[\"8080→32768 publish 8081\"]",
            "t2 berthsw-n1 100.64.77.11:[\"8080→32769 publish 8081\"]",
        ])
        #expect(snapshot.running.first?.health == HealthCheck(probe: .tcp(port: 8080)))
        #expect(snapshot.running.first?.stopGracePeriod == .seconds(3))
        #expect(snapshot.stopped == ["t0", "t2a", "t2b", "t3"])
    }

    /// A health check on a port that serves no traffic is published too (the proxy probes
    /// through it); an `exec` check is Swarm's alone (the proxy trusts the task's state).
    @Test func theHealthPortIsReachedToAndAnExecCheckIsLeftToSwarm() throws {
        var spec = ServiceSpec(
            name: "customer", image: "shop/customer:1.1", ports: [PortSpec(containerPort: 8080, publish: 8081)],
            health: HealthCheck(probe: .http(path: "/healthz", port: 9000)))
        #expect(SwarmServiceMapping.publishedContainerPorts(spec) == [8080, 9000])
        func snapshot(_ spec: ServiceSpec, hostPorts: [(Int, Int)]) throws -> EndpointSnapshot {
            let mapped = SwarmServiceMapping.spec(for: InstanceRequest(project: "shop", spec: spec, commit: nil))
            let specJSON = String(decoding: try JSONEncoder().encode(mapped), as: UTF8.self)
            let services: [Engine.SwarmService] = try JSONDecoder().decode(
                [Engine.SwarmService].self, from: Data(#"[{"ID": "svc1", "Version": {"Index": 1}, "Spec": \#(specJSON)}]"#.utf8))
            let ports = hostPorts.map { #"{"TargetPort": \#($0.0), "PublishedPort": \#($0.1), "PublishMode": "host"}"# }
                .joined(separator: ", ")
            let tasks: [Engine.SwarmTask] = try JSONDecoder().decode(
                [Engine.SwarmTask].self,
                from: Data(
                    #"""
                    [{"ID": "t1", "ServiceID": "svc1", "NodeID": "n1", "DesiredState": "running",
                      "Spec": {"ContainerSpec": {"Image": "shop/customer:1.1", "Labels": {"berth.revision": "\#(spec.revision.id)"}}},
                      "Status": {"State": "running", "PortStatus": {"Ports": [\#(ports)]}}}]
                    """#.utf8))
            let nodes: [Engine.SwarmNode] = try JSONDecoder().decode(
                [Engine.SwarmNode].self,
                from: Data(
                    #"[{"ID": "n1", "Version": {"Index": 1}, "Spec": {}, "Description": {"Hostname": "berthsw-n1"}, "Status": {"State": "ready", "Addr": "100.64.77.11"}}]"#
                        .utf8))
            return SwarmEndpointSource.snapshot(services: services, tasks: tasks, nodes: nodes)
        }
        let probed = try snapshot(spec, hostPorts: [(8080, 30001), (9000, 30002)])
        let endpoint = try #require(probed.running.first)
        #expect(endpoint.ports == [
            EndpointPort(containerPort: 8080, publish: 8081, port: 30001), EndpointPort(containerPort: 9000, publish: nil, port: 30002),
        ])
        #expect(endpoint.port(reaching: 9000) == 30002)
        #expect(endpoint.publishedPorts == [8081: 30001])
        #expect(endpoint.health == spec.health)
        // Until the health port is published, the task is not reachable for probes: not running.
        #expect(try snapshot(spec, hostPorts: [(8080, 30001)]).running.isEmpty)

        spec.health = HealthCheck(probe: .exec(command: ["/bin/true"]))
        #expect(SwarmServiceMapping.publishedContainerPorts(spec) == [8080])
        let trusted = try snapshot(spec, hostPorts: [(8080, 30001)])
        #expect(trusted.running.map(\.instanceID) == ["t1"])
        #expect(trusted.running.first?.health == nil)
    }
}
