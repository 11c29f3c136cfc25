import Testing
import BerthCore
import BerthTestSupport

@Suite struct PropertyTests {
    static let seeds: [UInt64] = Array(1...200)

    @Test(arguments: seeds) func applyingThePlanConverges(seed: UInt64) throws {
        let world = RandomWorld(seed: seed)
        let plan = try Planner.plan(desired: world.desired, observed: world.observed, options: world.options)
        var cluster = FakeCluster(state: world.observed, seed: 9000)
        let outcomes = cluster.apply(plan)
        #expect(outcomes.allSatisfy { $0 == .succeeded }, "seed \(seed)")
        let again = try Planner.plan(desired: world.desired, observed: cluster.state, options: world.options)
        #expect(again.steps.isEmpty, "seed \(seed): \(again.steps.map { "\($0.action) \($0.service): \($0.reason)" })")
        // Services no longer desired are gone with --prune, still noted without it.
        let orphans = world.observed.services.map(\.name).filter { world.desired.services[$0] == nil }
        #expect(again.notes.map(\.service) == (world.options.prune ? [] : orphans.sorted()), "seed \(seed)")
    }

    @Test(arguments: seeds) func sameInputInAnyOrderGivesByteIdenticalJSON(seed: UInt64) throws {
        let world = RandomWorld(seed: seed)
        let first = try Planner.plan(desired: world.desired, observed: world.observed, options: world.options).jsonText()
        let second = try Planner.plan(desired: world.desired, observed: world.observed, options: world.options).jsonText()
        let other = world.shuffled(seed: seed)
        let third = try Planner.plan(desired: other.desired, observed: other.observed, options: other.options).jsonText()
        #expect(first == second)
        #expect(first == third, "seed \(seed)")
        #expect(!first.contains("hunter"), "seed \(seed): a secret leaked")
    }

    @Test(arguments: seeds) func aDependencyNeverComesAfterItsDependent(seed: UInt64) throws {
        let world = RandomWorld(seed: seed)
        let plan = try Planner.plan(desired: world.desired, observed: world.observed, options: world.options)
        var applyWave: [String: Int] = [:]
        var deleteWave: [String: Int] = [:]
        for s in plan.steps {
            if s.action == .delete { deleteWave[s.service] = s.wave } else { applyWave[s.service] = s.wave }
        }
        let lastApply = applyWave.values.max() ?? -1
        for (name, wave) in applyWave {
            for dep in world.desired.services[name]!.dependsOn {
                if let w = applyWave[dep] { #expect(w < wave, "seed \(seed): \(dep) after \(name)") }
            }
        }
        for (name, wave) in deleteWave {
            #expect(wave > lastApply, "seed \(seed): delete of \(name) before an apply step")
            for dep in world.observed.service(name)!.dependsOn {
                if let w = deleteWave[dep] { #expect(w > wave, "seed \(seed): \(dep) deleted before its dependent \(name)") }
            }
        }
        // Steps are in the documented total order, and waves are dense.
        #expect(plan.steps == plan.steps.sorted(by: PlanStep.precedes))
        #expect(Set(plan.steps.map(\.wave)) == Set(0..<plan.waveCount))
    }

    /// The wave rule, checked against a plain recursive reading of it: a step's wave is 0
    /// when nothing its service depends on, directly or transitively, has a step, else one
    /// more than the highest wave among those steps; deletes, after every other step, the
    /// same over the services that depend on them.
    @Test(arguments: seeds) func wavesCountOnlyServicesWithSteps(seed: UInt64) throws {
        let world = RandomWorld(seed: seed)
        let plan = try Planner.plan(desired: world.desired, observed: world.observed, options: world.options)
        let applying = Set(plan.steps.filter { $0.action != .delete }.map(\.service))
        let deleting = Set(plan.steps.filter { $0.action == .delete }.map(\.service))
        /// Everything reachable from `name` along `next`, by a depth-first walk.
        func reachable(from name: String, _ next: (String) -> [String]) -> Set<String> {
            var seen: Set<String> = []
            var stack = next(name)
            while let n = stack.popLast() { if seen.insert(n).inserted { stack += next(n) } }
            return seen
        }
        func dependencies(_ name: String) -> [String] { world.desired.services[name]?.dependsOn ?? [] }
        func dependents(_ name: String) -> [String] {
            world.observed.services.filter { world.desired.services[$0.name] == nil && $0.dependsOn.contains(name) }.map(\.name)
        }
        func applyWave(_ name: String) -> Int {
            reachable(from: name, dependencies).filter(applying.contains).map(applyWave).max().map { $0 + 1 } ?? 0
        }
        func deleteWave(_ name: String) -> Int {
            reachable(from: name, dependents).filter(deleting.contains).map(deleteWave).max().map { $0 + 1 } ?? 0
        }
        let firstDelete = (plan.steps.filter { $0.action != .delete }.map(\.wave).max() ?? -1) + 1
        for step in plan.steps {
            let expected = step.action == .delete ? firstDelete + deleteWave(step.service) : applyWave(step.service)
            #expect(step.wave == expected, "seed \(seed): \(step.action) \(step.service)")
        }
    }

    /// Without --allow-mass-delete, a prune of more than half of the running services (strays
    /// are none) is refused, naming them; otherwise the flag changes nothing.
    @Test(arguments: seeds) func massDeletionIsRefusedExactlyWhenMoreThanHalfWouldGo(seed: UInt64) throws {
        let world = RandomWorld(seed: seed)
        let allowed = try Planner.plan(
            desired: world.desired, observed: world.observed, options: PlanOptions(prune: true, allowMassDelete: true))
        let running = world.observed.services.filter { !$0.instances.isEmpty && !$0.isStrays }.map(\.name)
        let deleting = running.filter { world.desired.services[$0] == nil }.sorted()
        let refused = PlanOptions(prune: true, allowMassDelete: false)
        if deleting.count * 2 > running.count {
            #expect(throws: PlanError.massDelete(deleting: deleting, running: running.count), "seed \(seed)") {
                try Planner.plan(desired: world.desired, observed: world.observed, options: refused)
            }
        } else {
            #expect(try Planner.plan(desired: world.desired, observed: world.observed, options: refused) == allowed, "seed \(seed)")
        }
    }

    /// Scripted failures in the fake engine: the failing services' steps that start
    /// instances fail (and only theirs), the next plan still has work for every service
    /// whose step failed, and once the failures stop that plan converges.
    @Test(arguments: seeds) func afterScriptedFailuresTheNextPlanStillConverges(seed: UInt64) throws {
        let world = RandomWorld(seed: seed)
        var rng = SeededRandom(seed: seed &* 0x9E37)
        let plan = try Planner.plan(desired: world.desired, observed: world.observed, options: world.options)
        let starting = Set(plan.steps.filter(\.startsInstances).map(\.service)).sorted()
        var scripted: Set<String> = []
        var failures: [FakeFailure] = []
        for name in starting where rng.chance(50) {
            scripted.insert(name)
            failures.append(rng.chance(50) ? .createFails(service: name) : .neverHealthy(service: name))
        }
        var cluster = FakeCluster(state: world.observed, seed: 9000, failures: failures)
        let outcomes = cluster.apply(plan)
        var failed: Set<String> = []
        for (step, outcome) in zip(plan.steps, outcomes) {
            let failing = scripted.contains(step.service)
            if outcome != .succeeded { failed.insert(step.service) }
            #expect(outcome == .succeeded || failing, "seed \(seed): \(step.action) \(step.service) failed unscripted")
            if failing && step.startsInstances {
                #expect(outcome != .succeeded, "seed \(seed): \(step.action) \(step.service) did not fail")
            }
        }
        let retry = try Planner.plan(desired: world.desired, observed: cluster.state, options: world.options)
        #expect(failed.isSubset(of: Set(retry.steps.map(\.service))), "seed \(seed): a failed service has no step")
        cluster.failures = []
        #expect(cluster.apply(retry).allSatisfy { $0 == .succeeded }, "seed \(seed)")
        let again = try Planner.plan(desired: world.desired, observed: cluster.state, options: world.options)
        #expect(again.steps.isEmpty, "seed \(seed): \(again.steps.map { "\($0.action) \($0.service): \($0.reason)" })")
    }

    @Test func theWorldsCoverEveryAction() throws {
        var seen: Set<PlanStep.Action> = []
        for seed in Self.seeds {
            let world = RandomWorld(seed: seed)
            let plan = try Planner.plan(desired: world.desired, observed: world.observed, options: world.options)
            seen.formUnion(plan.steps.map(\.action))
        }
        #expect(seen == Set(PlanStep.Action.allCases))
    }

    /// The seeds reach both sides of the properties above: refused and allowed mass
    /// deletions, and scripted failures of every kind of step that starts instances.
    @Test func theWorldsCoverRefusalsAndScriptedFailures() throws {
        var refusals = 0, prunes = 0
        var failingActions: Set<PlanStep.Action> = []
        for seed in Self.seeds {
            let world = RandomWorld(seed: seed)
            do {
                let plan = try Planner.plan(
                    desired: world.desired, observed: world.observed, options: PlanOptions(prune: true))
                if plan.summary.delete > 0 { prunes += 1 }
            } catch PlanError.massDelete {
                refusals += 1
            }
            let plan = try Planner.plan(desired: world.desired, observed: world.observed, options: world.options)
            for step in plan.steps where step.startsInstances {
                var cluster = FakeCluster(state: world.observed, failures: [.createFails(service: step.service)])
                if cluster.apply(step, commit: nil) != .succeeded { failingActions.insert(step.action) }
            }
        }
        #expect(refusals >= 10)
        #expect(prunes >= 10)
        #expect(failingActions == [.create, .scale, .heal])
    }
}
