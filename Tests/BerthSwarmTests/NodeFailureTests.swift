import BerthCore
import BerthDocker
import BerthTestSupport
import Foundation
import Testing

extension SwarmSuite {
    /// One node hard-killed (its dockerd, containerd, shims and containers, SIGKILL) under
    /// load through `berth proxy --runtime swarm`: no request that starts after the kill
    /// fails (only those already on the node when it died can), Swarm puts the task
    /// elsewhere, `berth status` says the node is down and then the service healthy again.
    /// Runs last in the suite (it restarts the node at the end, but a failure may leave the
    /// worker down).
    @Suite struct NodeFailureTests {
        @Test func aKilledNodeCostsNoRequestAndStatusReportsItDown() async throws {
            let cluster = try SwarmSuite.cluster
            let runtime = try await SwarmRuntime.connect(environment: ["DOCKER_HOST": cluster.managerHost])
            let project = "nf-\(String(UInt32.random(in: 0...UInt32.max) % 0xFFFFFF, radix: 16))"
            let scratch = try TemporaryDirectory(prefix: "berth-swarm-node")
            let repo = try GitRepoBuilder()
            let publish = Int.random(in: 21000..<29000)
            var proxy: ChildProcess?
            var killed = false
            defer {
                _ = proxy?.terminate()
                if killed { try? cluster.startNode(3) }
                SwarmRuntimeTests.cleanup(project)
                scratch.remove()
                repo.cleanup()
            }
            try repo.write(
                "manifests/customer.yaml",
                GitRepoBuilder.service(
                    "customer", image: "shop/customer:1.0", replicas: 3,
                    extra: """
                          ports:
                            - containerPort: 8080
                              publish: \(publish)
                          health:
                            http: {path: /healthz, port: 8080}
                            interval: 200ms
                            failureThreshold: 2

                        """))
            try repo.commit("customer")
            let spec = ServiceSpec(
                name: "customer", image: "shop/customer:1.0", replicas: 3,
                ports: [PortSpec(containerPort: 8080, publish: publish)],
                health: HealthCheck(probe: .http(path: "/healthz", port: 8080), interval: Millis(200), failureThreshold: 2))
            try await runtime.deploy(InstanceRequest(project: project, spec: spec, commit: nil))
            #expect(
                try await runtime.waitConverged(
                    project: project, service: "customer", revision: spec.revision, replicas: 3,
                    deadline: .now + .seconds(60)) == .converged)
            let before = try await runtime.observe(project: project).service("customer")?.instances ?? []
            try #require(before.contains { $0.node == "berthsw-n3" }, "no task on the worker: \(before.compactMap(\.node))")

            var environment = ProcessInfo.processInfo.environment
            environment["DOCKER_HOST"] = cluster.managerHost
            environment["NO_COLOR"] = "1"
            environment.removeValue(forKey: "BERTH_RUNTIME")
            let log = scratch.url.appendingPathComponent("proxy.log")
            proxy = try ChildProcess(
                try ProcessRunner.berthExecutable(),
                ["proxy", "--runtime", "swarm", "--project", project, "--state-dir", scratch.path, "--bind", "127.0.0.1"],
                environment: environment, stderr: .file(log.path))
            #expect(eventually(20) { (try? HTTP.get(port: publish)) == "customer 1.0\n" })

            // The worker dies under load.
            let load = HTTP.Load(port: publish, clients: 4)
            load.start()
            try await Task.sleep(for: .seconds(1))
            let killedAt = ContinuousClock.now
            try cluster.killNode(3)
            // The kill takes ~0.1 s (every process stopped, then killed): a request that
            // reached the node before it returned may be lost with it.
            let killedDate = Date()
            killed = true

            // `berth status` says the node is down (Swarm notices within a few heartbeats).
            let args = ["status", "--repo", repo.path, "--project", project, "--runtime", "swarm"]
            var status = ProcessResult(stdout: "", stderr: "", status: 0)
            let reportedDown = try eventually(30) {
                status = try ProcessRunner.berth(args, environment: environment)
                return status.stderr.contains("warning: node berthsw-n3 is down")
            }
            let downAfter = ContinuousClock.now - killedAt
            #expect(reportedDown, "status: \(status.stdout)\(status.stderr)")
            #expect(status.stderr == "warning: node berthsw-n3 is down: its tasks are being replaced on other nodes\n")

            // Swarm reschedules the task; the service is healthy again on the two others.
            let healthyAgain = try eventually(60) {
                status = try ProcessRunner.berth(args + ["--format", "json"], environment: environment)
                guard status.status == 0,
                    let document = try? JSONDecoder().decode(StatusCommandTests.Document.self, from: Data(status.stdout.utf8)),
                    let service = document.services.first
                else { return false }
                return service.health == "Healthy" && service.readyReplicas == 3
                    && service.instances.allSatisfy { $0.node != "berthsw-n3" }
            }
            let healthyAfter = ContinuousClock.now - killedAt
            #expect(healthyAgain, "status: \(status.stdout)\(status.stderr)")
            try await Task.sleep(for: .seconds(1))
            let result = load.finish()
            // A TCP balancer cannot save a request that was already on the node when it died
            // (its connection breaks with no answer): at most one per client. Every request
            // that started after the kill is answered: the dead node's connects fail at once
            // and are retried on another task, until probes and Swarm take it out.
            let inFlight = result.failedAt.filter { $0 < killedDate }.count
            let afterKill = result.failedAt.filter { $0 >= killedDate }.count
            print("node killed under load: status saw it down after \(downAfter), 3 healthy again after \(healthyAfter); through the proxy: \(result.line); \(inFlight) started before the node was dead, \(afterKill) after")
            #expect(afterKill == 0, "\(result.line); proxy log: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
            #expect(inFlight <= 4)
            #expect(result.ok > 100)

            // The worker comes back and rejoins.
            try cluster.startNode(3)
            killed = false
            let rejoined = try eventually(60) {
                try cluster.docker(["node", "ls", "--format", "{{.Hostname}} {{.Status}}"]).stdout.contains("berthsw-n3 Ready")
            }
            #expect(rejoined)
        }
    }
}
