import BerthCore
import BerthDocker
import Foundation
import Testing

/// The verdict on one Swarm service against a revision and a replica count, from engine JSON.
@Suite struct SwarmConvergenceTests {
    static func service(revision: String, update: String? = nil, message: String? = nil) throws -> Engine.SwarmService {
        let status = update.map { #", "UpdateStatus": {"State": "\#($0)"\#(message.map { #", "Message": "\#($0)""# } ?? "")}"# } ?? ""
        return try JSONDecoder().decode(
            Engine.SwarmService.self,
            from: Data(
                #"""
                {"ID": "svc", "Version": {"Index": 9},
                 "Spec": {"Name": "shop_booking", "Labels": {"berth.project": "shop", "berth.service": "booking", "berth.revision": "\#(revision)"},
                          "TaskTemplate": {"ContainerSpec": {"Image": "shop/booking:1.1"}}, "Mode": {"Replicated": {"Replicas": 2}}}\#(status)}
                """#.utf8))
    }

    static func task(
        _ id: String, revision: String, desired: String = "running", state: String = "running", node: String = "n1",
        at time: String = "2026-12-07T11:00:00Z", err: String? = nil, exit: Int = 0
    ) throws -> Engine.SwarmTask {
        try JSONDecoder().decode(
            Engine.SwarmTask.self,
            from: Data(
                #"""
                {"ID": "\#(id)", "ServiceID": "svc", "Slot": 1, "NodeID": "\#(node)", "DesiredState": "\#(desired)",
                 "Spec": {"ContainerSpec": {"Image": "shop/booking", "Labels": {"berth.revision": "\#(revision)"}}},
                 "Status": {"State": "\#(state)", "Timestamp": "\#(time)"\#(err.map { #", "Err": "\#($0)""# } ?? ""),
                            "ContainerStatus": {"ExitCode": \#(exit)}}}
                """#.utf8))
    }

    static let nodes: [Engine.SwarmNode] = try! JSONDecoder().decode(
        [Engine.SwarmNode].self,
        from: Data(
            #"""
            [{"ID": "n1", "Version": {"Index": 1}, "Spec": {}, "Status": {"State": "ready"}},
             {"ID": "n2", "Version": {"Index": 1}, "Spec": {}, "Status": {"State": "down"}}]
            """#.utf8))

    static func judge(
        _ service: Engine.SwarmService, _ tasks: [Engine.SwarmTask], replicas: Int = 2, ignoring: Set<String> = []
    ) -> String {
        "\(SwarmConvergence.judge(service: service, tasks: tasks, nodes: nodes, revision: Revision("r2"), replicas: replicas, ignoring: ignoring))"
    }

    @Test func allNewTasksRunningAndNoOldOneIsConverged() throws {
        let tasks = [try Self.task("a", revision: "r2"), try Self.task("b", revision: "r2")]
        #expect(Self.judge(try Self.service(revision: "r2"), tasks) == "converged")
        #expect(Self.judge(try Self.service(revision: "r2", update: "completed"), tasks) == "converged")
        // Swarm still watches the last task (its Monitor): not yet.
        #expect(
            Self.judge(try Self.service(revision: "r2", update: "updating"), tasks)
                == "progressing: 2 of 2 tasks of revision r2 running, Swarm is still watching the update")
    }

    @Test func oldTasksStartingTasksAndTasksOnADownNodeAreProgress() throws {
        let tasks = [
            try Self.task("a", revision: "r2"), try Self.task("b", revision: "r1"),
            try Self.task("c", revision: "r2", state: "starting"),
        ]
        #expect(
            Self.judge(try Self.service(revision: "r2", update: "updating"), tasks)
                == "progressing: 1 of 2 tasks of revision r2 running, 1 of an older revision still running, 1 more being stopped")
        let onDownNode = [try Self.task("a", revision: "r2"), try Self.task("b", revision: "r2", node: "n2")]
        #expect(Self.judge(try Self.service(revision: "r2"), onDownNode) == "progressing: 1 of 2 tasks of revision r2 running")
    }

    @Test func aSwarmRollbackOrPauseIsItsOwnVerdictWithTheLastTaskError() throws {
        let failed = try Self.task(
            "x", revision: "r2", desired: "shutdown", state: "failed", at: "2026-12-07T11:00:05Z",
            err: "task: non-zero exit (1)", exit: 1)
        let earlier = try Self.task(
            "w", revision: "r2", desired: "shutdown", state: "failed", at: "2026-12-07T11:00:01Z", err: "older", exit: 2)
        let tasks = [try Self.task("a", revision: "r1"), failed, earlier]
        // Rolling back is not over yet: the old revision is still coming back.
        let rollingBack = SwarmConvergence.judge(
            service: try Self.service(revision: "r1", update: "rollback_started", message: "update rolled back due to failure"),
            tasks: tasks, nodes: Self.nodes, revision: Revision("r2"), replicas: 2)
        #expect(
            rollingBack
                == .rollingBack("Swarm is rolling back the update of booking: update rolled back due to failure; last failed task: task: non-zero exit (1)"))
        #expect(!rollingBack.isFinal)
        #expect(
            Self.judge(
                try Self.service(revision: "r1", update: "rollback_completed", message: "rollback completed"), tasks)
                == "rolled back: Swarm rolled back the update of booking: rollback completed; last failed task: task: non-zero exit (1)")
        // Judged against the revision rolled back *to*, a rollback is progress, then done.
        let back = [try Self.task("a", revision: "r2"), try Self.task("b", revision: "r2")]
        #expect(
            Self.judge(try Self.service(revision: "r2", update: "rollback_started"), back)
                == "progressing: 2 of 2 tasks of revision r2 running, Swarm is still watching the update")
        #expect(Self.judge(try Self.service(revision: "r2", update: "rollback_completed"), back) == "converged")
        #expect(
            Self.judge(try Self.service(revision: "r2", update: "rollback_paused", message: "rollback paused"), back)
                == "paused: Swarm paused the rollback of booking: rollback paused")
        #expect(
            Self.judge(try Self.service(revision: "r2", update: "paused", message: "update paused due to failure"), tasks)
                == "paused: Swarm paused the update of booking: update paused due to failure; last failed task: task: non-zero exit (1)")
        // After a rollback the service's spec is the old one again, whatever the status says.
        #expect(Self.judge(try Self.service(revision: "r1"), [try Self.task("a", revision: "r1")]) == "failed: booking runs revision r1, not r2")
    }

    @Test func tasksThatKeepFailingAreAFailureSwarmNeverGivesUpOn() throws {
        var tasks = [try Self.task("a", revision: "r2", state: "starting")]
        for i in 0..<2 {
            tasks.append(
                try Self.task("f\(i)", revision: "r2", desired: "shutdown", state: "complete", at: "2026-12-07T11:00:0\(i)Z"))
        }
        #expect(
            Self.judge(try Self.service(revision: "r2"), tasks, replicas: 1)
                == "progressing: 0 of 1 tasks of revision r2 running; last failed task: task complete with exit code 0")
        tasks.append(
            try Self.task(
                "f9", revision: "r2", desired: "shutdown", state: "failed", at: "2026-12-07T11:00:09Z",
                err: "task: non-zero exit (137)", exit: 137))
        #expect(
            Self.judge(try Self.service(revision: "r2"), tasks, replicas: 1)
                == "failed: booking: 3 tasks of revision r2 failed; last failed task: task: non-zero exit (137)")
        // Tasks that had ended before this change was asked for say nothing about it.
        #expect(
            Self.judge(try Self.service(revision: "r2"), tasks, replicas: 1, ignoring: ["f0", "f1"])
                == "progressing: 0 of 1 tasks of revision r2 running; last failed task: task: non-zero exit (137)")
    }
}
