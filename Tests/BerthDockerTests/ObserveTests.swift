import BerthCore
import BerthDocker
import Foundation
import Testing

/// What `observe` rebuilds from labels beyond the instances: dependencies, first-sight
/// health, strays.
@Suite(.serialized) struct ObserveTests {
    /// `berth.depends-on` is read back, so a prune deletes a dependent before what it
    /// depends on, wave by wave, without the manifests.
    @Test func observeReadsDependsOnAndPruneDeletesInReverseOrder() async throws {
        try await withProject("deps") { runtime, project in
            let customer = spec("customer", image: "shop/customer:1.0")
            var booking = spec("booking", image: "shop/booking:1.0")
            booking.dependsOn = ["customer"]
            var booking2 = booking
            booking2.dependsOn = ["audit", "customer"]
            booking2.env = ["X": "1"]  // another revision, another dependency list
            _ = try await runtime.startInstance(.init(project: project, spec: customer, commit: "c1"))
            _ = try await runtime.startInstance(.init(project: project, spec: booking, commit: "c1"))
            _ = try await runtime.startInstance(.init(project: project, spec: booking2, commit: "c2"))

            let observed = try await runtime.observe(project: project)
            #expect(observed.service("booking")?.dependsOn == ["audit", "customer"])
            #expect(observed.service("customer")?.dependsOn == [])

            let plan = try Planner.plan(
                desired: DesiredState(services: [:], commit: "c3"), observed: observed,
                options: PlanOptions(prune: true, allowMassDelete: true))
            #expect(plan.steps.map { "\($0.wave) \($0.action.rawValue) \($0.service)" } == [
                "0 delete booking", "1 delete customer",
            ])
        }
    }

    /// A container this process has no verdict for is `unhealthy` only after
    /// `failureThreshold` consecutive failed probes: one failed (slow) answer is not enough.
    @Test func firstSightHealthNeedsFailureThresholdFailures() async throws {
        try await withProject("firstsight") { runtime, project in
            // Counts its probes in /tmp/n; fails the first one only.
            let flaky = HealthCheck(
                probe: .exec(command: ["sh", "-c", "n=$(cat /tmp/n 2>/dev/null || echo 0); echo $((n+1)) > /tmp/n; [ $n -ge 1 ]"]),
                interval: Millis(100), timeout: Millis(5000), failureThreshold: 3)
            let dead = HealthCheck(
                probe: .exec(command: ["sh", "-c", "n=$(cat /tmp/n 2>/dev/null || echo 0); echo $((n+1)) > /tmp/n; false"]),
                interval: Millis(100), timeout: Millis(5000), failureThreshold: 3)
            let a = try await runtime.startInstance(
                .init(project: project, spec: spec("customer", image: "shop/customer:1.0", health: flaky), commit: nil))
            let b = try await runtime.startInstance(
                .init(project: project, spec: spec("booking", image: "shop/booking:1.0", health: dead), commit: nil))

            // A new runtime (as in `berth plan` or a restarted watch) has no verdicts.
            let observed = try await DockerRuntime.connect().observe(project: project)
            #expect(observed.service("customer")?.instances.map(\.state) == [.running])
            #expect(observed.service("booking")?.instances.map(\.state) == [.unhealthy])
            #expect(try await runtime.client.exec(a.id, ["cat", "/tmp/n"]).stdout == "2\n")
            #expect(try await runtime.client.exec(b.id, ["cat", "/tmp/n"]).stdout == "3\n")
        }
    }

    /// A container with only the project's label is observed as a stray, which a prune
    /// deletes (and which is no running service for the mass-delete rule).
    @Test func aStrayWithOnlyTheProjectLabelIsObservedAndPruned() async throws {
        try await withProject("stray") { runtime, project in
            let customer = spec("customer", image: "shop/customer:1.0")
            let kept = try await runtime.startInstance(.init(project: project, spec: customer, commit: "c1"))
            let stray = try await runtime.client.createContainer(
                name: "\(project)-by-hand", .init(Image: "shop/customer:1.0", Labels: [BerthLabel.project: project]))
            try await runtime.client.startContainer(stray)

            let observed = try await runtime.observe(project: project)
            #expect(observed.services.map(\.name) == ["(strays)", "customer"])
            #expect(observed.service("(strays)")?.instances.map(\.id) == [stray])
            #expect(observed.service("(strays)")?.instances.first?.state == .running)

            let desired = DesiredState(services: ["customer": customer], commit: "c1")
            let keep = try Planner.plan(desired: desired, observed: observed, options: PlanOptions())
            #expect(keep.steps.isEmpty)
            #expect(keep.notes.map(\.message) == ["not in the desired state (1 instance); kept by --no-prune (leave it out to delete it)"])
            let prune = try Planner.plan(desired: desired, observed: observed, options: PlanOptions(prune: true))
            #expect(prune.steps.map { "\($0.action.rawValue) \($0.service) \($0.instances ?? [])" } == ["delete (strays) [\"\(stray)\"]"])
            _ = kept
        }
    }

    /// No env value travels in a label (labels are in every `docker events` payload); the
    /// recorded spec a rollback starts again reads the values back from the container.
    @Test func labelsCarryNoEnvValuesAndTheRecordedSpecKeepsThem() async throws {
        try await withProject("secrets") { runtime, project in
            var s = spec("customer", image: "shop/customer:1.0")
            s.env = ["DB_PASSWORD": "hunter2-s3cr3t", "GREETING": "hello=world", "EMPTY": ""]
            let instance = try await runtime.startInstance(.init(project: project, spec: s, commit: "c1"))
            let labels = try await runtime.client.inspectContainer(instance.id).Config.Labels ?? [:]
            #expect(!labels.values.contains { $0.contains("hunter2-s3cr3t") || $0.contains("hello=world") })
            let inLabel = try #require(BerthLabel.recordedSpec(labels))
            #expect(inLabel.env == ["DB_PASSWORD": "", "GREETING": "", "EMPTY": ""])

            let recorded = try await runtime.recordedSpec(instanceID: instance.id)
            #expect(recorded == s)
            #expect(recorded?.revision == s.revision)
            // What a rollback does with it: the restored instance has the very same env.
            let restored = try await runtime.startInstance(.init(project: project, spec: try #require(recorded), commit: "c1"))
            let env = try await runtime.client.exec(restored.id, ["sh", "-c", "echo \"$DB_PASSWORD $GREETING\""])
            #expect(env.stdout == "hunter2-s3cr3t hello=world\n")
        }
    }
}
