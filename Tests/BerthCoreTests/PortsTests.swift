import BerthCore
import Foundation
import Testing

@Suite struct PortsTests {
    private func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    @Test func anInstanceOnOneDockerHostHasNoNodeInTheStatusJSON() throws {
        let instance = Instance(id: "c1", service: "web", revision: Revision("r1"), state: .running)
        #expect(try json(instance) == #"{"health":"healthy","id":"c1","restartCount":0,"revision":"r1","state":"running"}"#)
    }

    @Test func anInstanceOnASwarmNodeCarriesItsNodeThroughTheStatusJSON() throws {
        let instance = Instance(id: "c1", service: "web", revision: Revision("r1"), state: .running, node: "node-2")
        let text = try json(instance)
        #expect(text == #"{"health":"healthy","id":"c1","node":"node-2","restartCount":0,"revision":"r1","state":"running"}"#)
        let back = try JSONDecoder().decode(Instance.self, from: Data(text.utf8))
        #expect(back.node == "node-2")
    }

    @Test func anEndpointReachesUnlistedContainerPortsAtTheSameNumber() {
        let onDocker = ServiceEndpoint(
            instanceID: "c1", service: "web", host: "172.18.0.5",
            ports: [EndpointPort(containerPort: 8080, publish: 8081)])
        #expect(onDocker.port(reaching: 8080) == 8080)
        #expect(onDocker.port(reaching: 9090) == 9090)
        #expect(onDocker.publishedPorts == [8081: 8080])

        let onSwarm = ServiceEndpoint(
            instanceID: "t1", service: "web", node: "node-2", host: "10.0.0.12",
            ports: [EndpointPort(containerPort: 8080, publish: 8081, port: 31044), EndpointPort(containerPort: 22, port: 31001)])
        #expect(onSwarm.ports.map(\.containerPort) == [22, 8080])
        #expect(onSwarm.port(reaching: 8080) == 31044)
        #expect(onSwarm.publishedPorts == [8081: 31044])
    }

    @Test func aSnapshotIsSorted() {
        let a = ServiceEndpoint(instanceID: "b", service: "web", host: "h", ports: [])
        let b = ServiceEndpoint(instanceID: "a", service: "web", host: "h", ports: [])
        let snapshot = EndpointSnapshot(running: [a, b], stopped: ["z", "y"])
        #expect(snapshot.running.map(\.instanceID) == ["a", "b"])
        #expect(snapshot.stopped == ["y", "z"])
    }

    @Test func rateIsTheMeanOfTheLastSamples() {
        let traffic = ServiceTraffic(
            service: "web", requestsTotal: 100, connectionsTotal: 10, connectionsActive: 1,
            recent: [
                TrafficSample(second: 3, requests: 30, connections: 3),
                TrafficSample(second: 1, requests: 10, connections: 1),
                TrafficSample(second: 2, requests: 20, connections: 0),
            ])
        #expect(traffic.recent.map(\.second) == [1, 2, 3])
        #expect(traffic.requestsPerSecond(lastSeconds: 2) == 25)
        #expect(traffic.requestsPerSecond(lastSeconds: 10) == 20)
        #expect(traffic.connectionsPerSecond(lastSeconds: 3) == 4.0 / 3.0)
        let idle = ServiceTraffic(service: "db", requestsTotal: 0, connectionsTotal: 0, connectionsActive: 0)
        #expect(idle.requestsPerSecond(lastSeconds: 5) == nil)
        let report = TrafficReport(uptimeSeconds: 4, services: [traffic, idle])
        #expect(report.services.map(\.service) == ["db", "web"])
        #expect(report.service("web")?.requestsTotal == 100)
    }
}
