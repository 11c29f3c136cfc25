import BerthCore
import BerthDocker
import BerthTestSupport
import Foundation
import Testing

extension SwarmSuite {
    /// SwarmRuntime on the real cluster: a service deployed and waited for, observed with its
    /// nodes; a broken image rolled back by Swarm is a failure with the reason, and the service
    /// is back on the previous image; a scale; a task killed on its node is replaced and the
    /// restart is observed.
    @Suite struct SwarmRuntimeTests {
        static func runtime() async throws -> SwarmRuntime {
            let cluster = try SwarmSuite.cluster
            return try await SwarmRuntime.connect(environment: ["DOCKER_HOST": cluster.managerHost])
        }

        static func booking(_ image: String, replicas: Int = 3) -> ServiceSpec {
            ServiceSpec(
                name: "booking", image: image, replicas: replicas, ports: [PortSpec(containerPort: 8080, publish: 8080)],
                health: HealthCheck(
                    probe: .http(path: "/healthz", port: 8080), interval: Millis(250), timeout: .seconds(1),
                    failureThreshold: 2),
                update: UpdatePolicy(progressDeadline: .seconds(60)), stopGracePeriod: .seconds(2))
        }

        /// Removes the project's services and network, whatever the test left.
        static func cleanup(_ project: String) {
            guard let cluster = try? SwarmSuite.cluster else { return }
            let ids = (try? cluster.docker(["service", "ls", "-q", "--filter", "label=berth.project=\(project)"]).stdout) ?? ""
            let list = ids.split(separator: "\n").map(String.init)
            if !list.isEmpty { _ = try? cluster.docker(["service", "rm"] + list) }
            _ = eventually(30) {
                (try? cluster.docker(["network", "rm", SwarmNaming.network(project: project)]))?.status == 0
                    || (try? cluster.docker(["network", "inspect", SwarmNaming.network(project: project)]))?.status != 0
            }
        }

        @Test func aServiceConvergesAndABrokenUpdateIsAFailureWithTheReasonAndRolledBack() async throws {
            let runtime = try await Self.runtime()
            let project = "rt-\(String(UInt32.random(in: 0...UInt32.max) % 0xFFFFFF, radix: 16))"
            defer { Self.cleanup(project) }

            let good = Self.booking("shop/booking:1.0")
            try await runtime.deploy(InstanceRequest(project: project, spec: good, commit: "c1"))
            let first = try await runtime.waitConverged(
                project: project, service: "booking", revision: good.revision, replicas: 3, deadline: .now + .seconds(60))
            #expect(first == .converged)
            let observed = try await runtime.observe(project: project)
            let instances = try #require(observed.service("booking")?.instances)
            #expect(instances.map(\.state) == [.running, .running, .running])
            #expect(Set(instances.map(\.revision)) == [good.revision])
            #expect(Set(instances.compactMap(\.commit)) == ["c1"])
            #expect(Set(instances.compactMap(\.node)).count >= 2, "tasks on \(instances.compactMap(\.node))")

            // A broken image never passes its health check: Swarm rolls the update back, and
            // applyService waits for the rollback to finish.
            let broken = Self.booking("shop/booking:broken")
            let started = ContinuousClock.now
            let outcome = try await runtime.applyService(
                ServiceRequest(
                    project: project, spec: broken, replicas: 3, commit: "c2", action: .update,
                    deadline: .now + .seconds(90)))
            guard case .rolledBack(let reason) = outcome else {
                Issue.record("expected a rollback, got \(outcome)")
                return
            }
            #expect(reason.hasPrefix("Swarm rolled back the update of booking"), "\(reason)")
            #expect(reason.contains("; last failed task: "), "\(reason)")
            print("broken update: rolled back after \(ContinuousClock.now - started): \(reason)")

            // Back on the previous image: every task of the old revision runs again.
            let back = try await runtime.waitConverged(
                project: project, service: "booking", revision: good.revision, replicas: 3, deadline: .now + .seconds(60))
            #expect(back == .converged)
            let after = try await runtime.observe(project: project)
            #expect(Set(after.service("booking")?.instances.compactMap(\.image) ?? []) == ["shop/booking:1.0"])
        }

        @Test func aScaleAndAKilledTaskAreSeenFromTasksAlone() async throws {
            let runtime = try await Self.runtime()
            let cluster = try SwarmSuite.cluster
            let project = "rs-\(String(UInt32.random(in: 0...UInt32.max) % 0xFFFFFF, radix: 16))"
            defer { Self.cleanup(project) }

            let two = Self.booking("shop/booking:1.0", replicas: 2)
            try await runtime.deploy(InstanceRequest(project: project, spec: two, commit: nil))
            #expect(
                try await runtime.waitConverged(
                    project: project, service: "booking", revision: two.revision, replicas: 2,
                    deadline: .now + .seconds(60)) == .converged)
            // Only the replicas change: the same revision, one more task.
            var three = two
            three.replicas = 3
            #expect(three.revision == two.revision)
            try await runtime.deploy(InstanceRequest(project: project, spec: three, commit: nil))
            #expect(
                try await runtime.waitConverged(
                    project: project, service: "booking", revision: three.revision, replicas: 3,
                    deadline: .now + .seconds(60)) == .converged)

            // `docker kill` of one task's container on its node: Swarm starts a replacement,
            // and observe counts the restart in that slot.
            let observed = try await runtime.observe(project: project)
            let victim = try #require(observed.service("booking")?.instances.first)
            let node = try #require(cluster.node(hostname: victim.node ?? ""))
            let tasks = try await runtime.client.listTasks(service: SwarmNaming.service(project: project, service: "booking"))
            let container = try #require(tasks.first { $0.ID == victim.id }?.Status.ContainerStatus?.ContainerID)
            #expect(try cluster.docker(["kill", container], node: node.number).status == 0)
            let replaced = try await eventuallyAsync(30) {
                let now = try await runtime.observe(project: project).service("booking")?.instances ?? []
                return now.count == 3 && now.allSatisfy { $0.state == .running } && !now.contains { $0.id == victim.id }
                    && now.map(\.restartCount).reduce(0, +) == 1
            }
            #expect(replaced)
            let killed = try await runtime.client.listTasks(service: SwarmNaming.service(project: project, service: "booking"))
                .first { $0.ID == victim.id }
            #expect(killed.map(SwarmObservation.reason) == "task: non-zero exit (137)")
        }

        @Test func aWorkerIsRefusedWithAdvice() async throws {
            let cluster = try SwarmSuite.cluster
            do {
                _ = try await SwarmRuntime.connect(environment: ["DOCKER_HOST": cluster.node(3).dockerHost])
                Issue.record("a worker was accepted")
            } catch let error as DockerError {
                #expect(
                    error.message
                        == "the Docker Engine at \(cluster.node(3).dockerHost) is a Swarm worker; --runtime swarm needs a manager: set DOCKER_HOST to a manager's address (`docker node ls` on a manager lists them)")
            }
        }
    }
}
