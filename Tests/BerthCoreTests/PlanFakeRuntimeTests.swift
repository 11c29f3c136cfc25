import Testing
import BerthCore
import BerthTestSupport

/// The in-memory engine that executes plans in tests: deterministic, with scripted failures.
@Suite struct PlanFakeRuntimeTests {
    let customer = Fx.spec("customer", replicas: 2)
    let booking = Fx.spec("booking", image: "shop/booking:1.4.2", replicas: 1, dependsOn: ["customer"])

    @Test func createsWithDeterministicIdsAndConverges() throws {
        let desired = Fx.desired([customer, booking])
        let plan = try Fx.plan(desired, .none(project: "shop"))
        var cluster = FakeCluster(state: .none(project: "shop"), seed: 7)
        #expect(cluster.apply(plan) == [.succeeded, .succeeded])
        #expect(cluster.state.services.map { $0.instances.map(\.id) } == [["booking-0009"], ["customer-0007", "customer-0008"]])
        #expect(cluster.state.services.flatMap(\.instances).allSatisfy { $0.state == .running && $0.commit == Fx.commit })
        #expect(try Fx.plan(desired, cluster.state).steps.isEmpty)
        // Same seed, same steps: the same state.
        var again = FakeCluster(state: .none(project: "shop"), seed: 7)
        again.apply(plan)
        #expect(again == cluster)
    }

    @Test func aCrashIsHealedWithANewInstance() throws {
        let desired = Fx.desired([customer])
        var cluster = FakeCluster(state: .none(project: "shop"), seed: 1)
        cluster.apply(try Fx.plan(desired, cluster.state))
        cluster.crash("customer-0001", exitCode: 137)
        let heal = try Fx.plan(desired, cluster.state)
        #expect(lines(heal) == [
            "0 heal customer: customer-0001 exited with code 137, restarted 1 time | from shop/customer:1.0 x2 | to shop/customer:1.0 x2 | [customer-0001]",
        ])
        cluster.apply(heal)
        #expect(cluster.state.services[0].instances.map(\.id) == ["customer-0002", "customer-0003"])
        #expect(try Fx.plan(desired, cluster.state).steps.isEmpty)
    }

    @Test func scriptedCreateFailureLeavesTheServiceMissing() throws {
        let desired = Fx.desired([customer, booking])
        var cluster = FakeCluster(state: .none(project: "shop"), failures: [.createFails(service: "booking")])
        let outcomes = cluster.apply(try Fx.plan(desired, cluster.state))
        #expect(outcomes == [.succeeded, .failed("creating booking failed (scripted)")])
        #expect(cluster.state.services.map(\.name) == ["customer"])
        #expect(lines(try Fx.plan(desired, cluster.state)) == [
            "0 create booking: new service: nothing runs yet | to shop/booking:1.4.2 x1",
        ])
    }

    @Test func anUpdateThatNeverBecomesHealthyRollsBack() throws {
        var old = customer
        old.image = "shop/customer:0.9"
        var cluster = FakeCluster(state: .none(project: "shop"))
        cluster.apply(try Fx.plan(Fx.desired([old]), cluster.state))
        let before = cluster.state
        cluster.failures = [.neverHealthy(service: "customer")]
        let update = try Fx.plan(Fx.desired([customer]), cluster.state)
        #expect(update.steps.map(\.action) == [.update])
        #expect(cluster.apply(update) == [.failed("customer revision \(customer.revision.id) never became healthy (scripted)")])
        #expect(cluster.state == before)
    }

    @Test func conformsToContainerRuntime() async throws {
        let runtime = FakeRuntime(state: .none(project: "shop"), seed: 40)
        let started = try await runtime.startInstance(InstanceRequest(project: "shop", spec: customer, commit: "abc"))
        #expect(started.id == "customer-0040")
        #expect(started.revision == customer.revision)
        let seen = try await runtime.observe(project: "shop")
        #expect(seen.services.map { $0.instances.map(\.id) } == [["customer-0040"]])
        #expect(try await runtime.observe(project: "other") == .none(project: "other"))
        try await runtime.removeInstance(id: "customer-0040", grace: .seconds(1))
        await #expect(throws: FakeRuntimeError(message: "no such instance: customer-0040")) {
            try await runtime.removeInstance(id: "customer-0040", grace: .seconds(1))
        }
        #expect(try await runtime.observe(project: "shop").services.isEmpty)
        #expect(await runtime.calls == [
            "start customer", "observe shop", "observe other", "remove customer-0040", "remove customer-0040", "observe shop",
        ])
        let sick = FakeRuntime(state: .none(project: "shop"), failures: [.neverHealthy(service: "customer")])
        let unhealthy = try await sick.startInstance(InstanceRequest(project: "shop", spec: customer, commit: nil))
        #expect(try await sick.waitHealthy(unhealthy, check: nil, deadline: .now) == .unhealthy(lastFailure: "never becomes healthy (scripted)"))
        #expect(try await runtime.waitHealthy(started, check: nil, deadline: .now) == .exited(code: nil))
        let failing = FakeRuntime(state: .none(project: "shop"), failures: [.createFails(service: "customer")])
        await #expect(throws: FakeRuntimeError(message: "creating customer failed (scripted)")) {
            try await failing.startInstance(InstanceRequest(project: "shop", spec: customer, commit: nil))
        }
    }
}
