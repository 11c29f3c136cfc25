import BerthCore
import BerthDocker
import Foundation
import Testing

/// Observed state from services, tasks and nodes alone, decoded from the engine's own JSON
/// (shapes captured from dockerd 20.10 in swarm mode, trimmed to what matters).
@Suite struct SwarmObservationTests {
    static let services = """
        [
          {"ID": "svc1", "Version": {"Index": 27}, "CreatedAt": "2026-12-07T11:38:07.453169154Z",
           "Spec": {"Name": "shop_customer",
                    "Labels": {"berth.project": "shop", "berth.service": "customer", "berth.revision": "r2",
                               "berth.depends-on": "db", "com.docker.stack.namespace": "shop"},
                    "TaskTemplate": {"ContainerSpec": {"Image": "shop/customer:1.1"}},
                    "Mode": {"Replicated": {"Replicas": 3}},
                    "EndpointSpec": {"Mode": "dnsrr", "Ports": [{"Protocol": "tcp", "TargetPort": 8080, "PublishMode": "host"}]}},
           "UpdateStatus": {"State": "completed", "Message": "update completed"},
           "ServiceStatus": {"RunningTasks": 2, "DesiredTasks": 3}},
          {"ID": "svc2", "Version": {"Index": 3},
           "Spec": {"Name": "other_web", "Labels": {"com.docker.stack.namespace": "shop"},
                    "TaskTemplate": {"ContainerSpec": {"Image": "nginx"}}}}
        ]
        """

    static func task(
        _ id: String, slot: Int, node: String, desired: String, state: String, revision: String,
        exit: Int = 0, err: String? = nil, published: Int? = nil
    ) -> String {
        let ports = published.map {
            #", "PortStatus": {"Ports": [{"Protocol": "tcp", "TargetPort": 8080, "PublishedPort": \#($0), "PublishMode": "host"}]}"#
        } ?? ""
        let error = err.map { #", "Err": "\#($0)""# } ?? ""
        return """
            {"ID": "\(id)", "Version": {"Index": 36}, "CreatedAt": "2026-12-07T11:38:07.461119275Z",
             "Spec": {"ContainerSpec": {"Image": "shop/customer:1.1",
                      "Labels": {"berth.service": "customer", "berth.revision": "\(revision)", "berth.commit": "c0ffee"}}},
             "ServiceID": "svc1", "Slot": \(slot), "NodeID": "\(node)",
             "Status": {"Timestamp": "2026-12-07T11:38:11.326587222Z", "State": "\(state)", "Message": "started"\(error),
                        "ContainerStatus": {"ContainerID": "c-\(id)", "PID": 0, "ExitCode": \(exit)}\(ports)},
             "DesiredState": "\(desired)",
             "NetworksAttachments": [{"Network": {"ID": "net1", "Spec": {"Name": "berth-shop"}}, "Addresses": ["10.0.1.2/24"]}]}
            """
    }

    static let tasks = "[" + [
        // Slot 1: running on n2; an older revision shut down by the update before it.
        task("t1", slot: 1, node: "n2", desired: "running", state: "running", revision: "r2", published: 32768),
        task("t0", slot: 1, node: "n2", desired: "shutdown", state: "shutdown", revision: "r1"),
        // Slot 2: killed twice (exit 137), now running again on n1.
        task("t2", slot: 2, node: "n1", desired: "running", state: "running", revision: "r2", published: 32769),
        task("t2a", slot: 2, node: "n1", desired: "shutdown", state: "failed", revision: "r2", exit: 137, err: "task: non-zero exit (137)"),
        task("t2b", slot: 2, node: "n1", desired: "shutdown", state: "failed", revision: "r2", exit: 137, err: "task: non-zero exit (137)"),
        // Slot 3: still starting, on the worker, which is down.
        task("t3", slot: 3, node: "n3", desired: "running", state: "starting", revision: "r2"),
    ].joined(separator: ",\n") + "]"

    static let nodes = """
        [
          {"ID": "n1", "Version": {"Index": 31}, "Spec": {"Role": "manager", "Availability": "active"},
           "Description": {"Hostname": "berthsw-n1"}, "Status": {"State": "ready", "Addr": "100.64.77.11"},
           "ManagerStatus": {"Leader": true, "Reachability": "reachable", "Addr": "100.64.77.11:2377"}},
          {"ID": "n2", "Version": {"Index": 32}, "Spec": {"Role": "manager", "Availability": "drain"},
           "Description": {"Hostname": "berthsw-n2"}, "Status": {"State": "ready", "Addr": "100.64.77.12"}},
          {"ID": "n3", "Version": {"Index": 33}, "Spec": {"Role": "worker", "Availability": "active"},
           "Description": {"Hostname": "berthsw-n3"}, "Status": {"State": "down", "Message": "heartbeat failure", "Addr": "100.64.77.13"}}
        ]
        """

    static func decode<T: Decodable>(_ text: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(text.utf8))
    }

    @Test func instancesComeFromTasksWithTheirStateRestartsAndRevision() throws {
        let observed = SwarmObservation.observedState(
            project: "shop", services: try Self.decode(Self.services), tasks: try Self.decode(Self.tasks),
            nodes: try Self.decode(Self.nodes))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        #expect(
            String(decoding: try encoder.encode(observed), as: UTF8.self) == """
                {
                  "formatVersion" : 1,
                  "project" : "shop",
                  "services" : [
                    {
                      "dependsOn" : [
                        "db"
                      ],
                      "instances" : [
                        {
                          "commit" : "c0ffee",
                          "created" : "2026-12-07T11:38:07Z",
                          "health" : "healthy",
                          "id" : "t1",
                          "image" : "shop/customer:1.1",
                          "node" : "berthsw-n2",
                          "restartCount" : 0,
                          "revision" : "r2",
                          "state" : "running"
                        },
                        {
                          "commit" : "c0ffee",
                          "created" : "2026-12-07T11:38:07Z",
                          "health" : "healthy",
                          "id" : "t2",
                          "image" : "shop/customer:1.1",
                          "node" : "berthsw-n1",
                          "restartCount" : 2,
                          "revision" : "r2",
                          "state" : "running"
                        },
                        {
                          "commit" : "c0ffee",
                          "created" : "2026-12-07T11:38:07Z",
                          "exitCode" : 0,
                          "health" : "exited",
                          "id" : "t3",
                          "image" : "shop/customer:1.1",
                          "node" : "berthsw-n3",
                          "restartCount" : 0,
                          "revision" : "r2",
                          "state" : "exited"
                        }
                      ],
                      "name" : "customer"
                    }
                  ]
                }
                """)
    }

    @Test func aFailedTaskSaysWhyInOneLine() throws {
        let tasks: [Engine.SwarmTask] = try Self.decode(Self.tasks)
        let byID = Dictionary(uniqueKeysWithValues: tasks.map { ($0.ID, $0) })
        #expect(SwarmObservation.reason(byID["t2a"]!) == "task: non-zero exit (137)")
        #expect(SwarmObservation.reason(byID["t1"]!) == "task running (started)")
        #expect(SwarmObservation.reason(byID["t0"]!) == "task shutdown with exit code 0 (started)")
    }

    @Test func theEngineShapesDecode() throws {
        let services: [Engine.SwarmService] = try Self.decode(Self.services)
        #expect(services[0].Version.Index == 27)
        #expect(services[0].UpdateStatus?.State == "completed")
        #expect(services[0].ServiceStatus?.RunningTasks == 2)
        #expect(services[0].ServiceStatus?.DesiredTasks == 3)
        #expect(services[0].Spec.replicas == 3)
        let tasks: [Engine.SwarmTask] = try Self.decode(Self.tasks)
        #expect(tasks[0].Status.PortStatus?.Ports?.first?.PublishedPort == 32768)
        let nodes: [Engine.SwarmNode] = try Self.decode(Self.nodes)
        #expect(nodes.map { "\($0.Description?.Hostname ?? "") \($0.Status.State) \($0.Spec.Availability ?? "")" } == [
            "berthsw-n1 ready active", "berthsw-n2 ready drain", "berthsw-n3 down active",
        ])
    }
}
