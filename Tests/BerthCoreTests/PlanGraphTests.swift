import Testing
import BerthCore

/// The dependency graph and the planner's paths that the golden plans do not reach: waves
/// by Kahn's algorithm, cycles found in any input order, observed entries that repeat a
/// name, secret keys outside ASCII.
@Suite struct PlanGraphTests {
    @Test func wavesAreTheLongestChainBelowEachService() throws {
        // A diamond with a shortcut: d → b → a and d → c → a, and d → a directly; a repeated
        // and an unknown target change nothing.
        let graph = DependencyGraph([
            "a": [], "b": ["a", "a"], "c": ["a", "nowhere"], "d": ["c", "b", "a"], "e": ["d"], "lone": [],
        ])
        #expect(graph.nodes == ["a", "b", "c", "d", "e", "lone"])
        #expect(graph.dependencies == ["a": [], "b": ["a"], "c": ["a"], "d": ["a", "b", "c"], "e": ["d"], "lone": []])
        #expect(graph.waves() == ["a": 0, "b": 1, "c": 1, "d": 2, "e": 3, "lone": 0])
        #expect(graph.waveIndices() == [0, 1, 1, 2, 3, 0])
        #expect(graph.cycles().isEmpty)
    }

    /// Waves among the services with steps: a node without a step passes on the highest wave
    /// below it (-1 for none); reversed, the same over dependents (the order of deletes).
    @Test func stepWavesSkipServicesWithoutSteps() throws {
        // c → b → a, d → a, e alone.
        let graph = DependencyGraph(["a": [], "b": ["a"], "c": ["b"], "d": ["a"], "e": []])
        #expect(graph.stepWaveIndices(hasStep: [true, false, true, false, true]) == [0, 0, 1, 0, 0])
        #expect(graph.stepWaveIndices(hasStep: [false, false, true, false, true]) == [-1, -1, 0, -1, 0])
        #expect(graph.stepWaveIndices(hasStep: [true, true, true, true, true]) == graph.waveIndices())
        #expect(graph.stepWaveIndices(hasStep: [true, true, true, true, true], reversed: true) == [2, 1, 0, 0, 0])
        #expect(graph.stepWaveIndices(hasStep: [true, false, true, true, true], reversed: true) == [1, 0, 0, 0, 0])
        let cycle = DependencyGraph(["x": ["y"], "y": ["x"]])
        #expect(cycle.stepWaveIndices(hasStep: [false, false]) == nil)
    }

    @Test func aCycleHasNoWavesAndIsSpelledFromItsSmallestName() throws {
        let graph = DependencyGraph(["x": ["y"], "y": ["z"], "z": ["x"], "w": ["x"], "me": ["me"]])
        #expect(graph.waves() == nil)
        #expect(graph.waveIndices() == nil)
        #expect(graph.cycles() == [["me", "me"], ["x", "y", "z", "x"]])
    }

    @Test func waveNumbersOfALongChainHaveNoGaps() throws {
        // 3,000 services, each depending on the one before: no recursion to overflow.
        let names = (0..<3000).map { "s\(1000 + $0)" }
        var edges: [String: [String]] = [names[0]: []]
        for i in 1..<names.count { edges[names[i]] = [names[i - 1]] }
        let waves = try #require(DependencyGraph(edges).waves())
        #expect(names.allSatisfy { waves[$0] == Int($0.dropFirst())! - 1000 })
    }

    /// Dictionary order changes from one process to the next; the cycle named must not.
    @Test func aCycleAmongManyServicesIsTheSameWhateverTheInputOrder() throws {
        func name(_ i: Int) -> String { "svc-\(100 + i)" }  // svc-100 … svc-399: name order is number order
        var specs = (0..<300).map { Fx.spec(name($0), dependsOn: $0 == 0 ? [] : [name($0 - 1)]) }
        specs[17].dependsOn = [name(203)]  // svc-117 → svc-303 → svc-302 → … → svc-118 → svc-117
        let expected = PlanError.dependencyCycle([["svc-117", "svc-303"] + (118...302).reversed().map { "svc-\($0)" } + ["svc-117"]])
        #expect(throws: expected) { try Fx.plan(Fx.desired(specs), .none(project: "shop")) }
        #expect(throws: expected) { try Fx.plan(Fx.desired(specs.reversed()), .none(project: "shop")) }
    }

    @Test func observedEntriesThatRepeatADesiredNameArePlannedAsOne() throws {
        let customer = Fx.spec("customer", replicas: 3)
        let split = ObservedState(project: "shop", services: [
            ObservedService(name: "customer", instances: Fx.instances(of: customer, 2)),
            ObservedService(name: "customer", instances: Fx.instances(of: customer, 1, state: .unhealthy, firstIndex: 3)),
        ])
        let plan = try Fx.plan(Fx.desired([customer]), split)
        #expect(lines(plan) == [
            "0 heal customer: customer-3 is unhealthy | from shop/customer:1.0 x3 | to shop/customer:1.0 x3 | [customer-3]",
        ])
        #expect(plan == (try Fx.plan(Fx.desired([customer]), split.normalized)))
    }

    @Test func observedEntriesThatRepeatAnOrphanNameArePlannedAsOne() throws {
        let customer = Fx.spec("customer"), legacy = Fx.spec("legacy")
        let split = ObservedState(project: "shop", services: [
            ObservedService(name: "legacy", instances: Fx.instances(of: legacy, 1)),
            ObservedService(name: "customer", instances: Fx.instances(of: customer, 1)),
            ObservedService(name: "legacy", instances: Fx.instances(of: legacy, 1, firstIndex: 2)),
        ])
        let plan = try Fx.plan(Fx.desired([customer]), split, prune: true)
        #expect(lines(plan) == ["0 delete legacy: not in the desired state | from shop/legacy:1.0 x2 | [legacy-1, legacy-2]"])
        #expect(plan == (try Fx.plan(Fx.desired([customer]), split.normalized, prune: true)))

        // Without --prune the note counts both entries' instances.
        let kept = try Fx.plan(Fx.desired([customer]), split)
        #expect(kept.notes.map(\.message) == ["not in the desired state (2 instances); kept by --no-prune (leave it out to delete it)"])
        #expect(kept.notes.map(\.instances) == [["legacy-1", "legacy-2"]])
    }

    @Test func aServiceWithZeroReplicasAndNothingRunningHasNoStep() throws {
        let idle = Fx.spec("idle", replicas: 0)
        let plan = try Fx.plan(Fx.desired([idle, Fx.spec("busy")]), .none(project: "shop"))
        #expect(lines(plan) == ["0 create busy: new service: nothing runs yet | to shop/busy:1.0 x1"])
    }

    @Test func stepActionsOrderAsDeclared() throws {
        #expect(PlanStep.Action.allCases == [.create, .update, .scale, .heal, .delete])
        #expect(PlanStep.Action.allCases.reversed().sorted() == PlanStep.Action.allCases)
    }

    @Test func secretKeysAreFoundCaseInsensitivelyAlsoOutsideASCII() throws {
        let secret = ["DB_PASSWORD", "db_password", "Api-Key", "monkey", "x_passwd", "token", "GH_TOKEN_2", "client_secret", "KEY"]
        let plain = ["MODE", "PORT", "", "PASS", "KE", "TOKE_N", "pässword", "ΚΕΥ"]
        #expect(secret.filter { !Secrets.isSecret(envKey: $0) } == [])
        #expect(plain.filter { Secrets.isSecret(envKey: $0) } == [])
        // Unicode uppercasing makes ASCII letters of some other letters: `ſ` (long s) → `S`.
        #expect(Secrets.isSecret(envKey: "paſſword"))
        #expect(Secrets.isSecret(envKey: "ñ_api_key"))
        #expect(Secrets.display(envKey: "paſſword", value: "hunter2") == "(sensitive)")
        #expect(Secrets.display(envKey: "MODE", value: "live") == "live")
    }
}
