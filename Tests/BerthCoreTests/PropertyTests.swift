import Testing
import BerthCore
import BerthTestSupport

/// SplitMix64: tiny, seeded, the same sequence on every platform.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }
}

/// A random world: desired services forming a DAG, observed instances in every state and
/// revision (current, old, stray), services no longer desired (some depending on others).
struct RandomWorld {
    var desired: DesiredState
    var observed: ObservedState
    var options: PlanOptions

    init(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        let count = rng.int(0...12)
        let names = (0..<count).map { "svc\($0)" }
        var specs: [ServiceSpec] = []
        for (i, name) in names.enumerated() {
            // Only earlier services as dependencies: a DAG.
            let deps = i == 0 ? [] : (0..<rng.int(0...min(2, i))).map { _ in names[rng.int(0...(i - 1))] }
            let restart: RestartPolicy = [.always, .always, .onFailure, .never][rng.int(0...3)]
            let strategy: UpdatePolicy.Strategy = rng.chance(30) ? .recreate : .rolling
            specs.append(ServiceSpec(
                name: name, image: "shop/\(name):\(rng.int(1...3))", replicas: rng.int(0...4),
                env: rng.chance(30) ? ["DB_PASSWORD": "hunter\(i)", "MODE": "m\(i)"] : [:],
                dependsOn: Array(Set(deps)).sorted(), update: UpdatePolicy(strategy: strategy),
                restart: restart))
        }
        desired = DesiredState(
            services: Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0) }),
            commit: "c0ffee\(seed)")

        var services: [ObservedService] = []
        var serial = 0
        func instance(_ name: String, revision: String) -> Instance {
            serial += 1
            let states = Instance.State.allCases
            let state = rng.chance(60) ? .running : states[rng.int(0...(states.count - 1))]
            return Instance(
                id: "\(name)-\(serial)", service: name, revision: Revision(revision), image: "shop/\(name):0",
                state: state, exitCode: state == .exited ? [0, 1, 137][rng.int(0...2)] : nil,
                restartCount: rng.int(0...5))
        }
        for spec in specs where rng.chance(75) {
            let n = rng.int(0...5)
            let instances = (0..<n).map { _ -> Instance in
                let roll = rng.int(0...9)
                let rev = roll < 6 ? spec.revision.id : roll < 9 ? "0ldrev0000" : "stray\(rng.int(0...99))"
                return instance(spec.name, revision: rev)
            }
            services.append(ObservedService(name: spec.name, instances: instances))
        }
        let orphans = (0..<rng.int(0...4)).map { "gone\($0)" }
        for (i, name) in orphans.enumerated() {
            let deps = i == 0 || !rng.chance(50) ? [] : [orphans[rng.int(0...(i - 1))]]
            services.append(ObservedService(
                name: name, instances: (0..<rng.int(1...3)).map { _ in instance(name, revision: "0ldrev0000") },
                dependsOn: deps))
        }
        observed = ObservedState(project: "shop", services: services)
        options = PlanOptions(prune: rng.chance(50), allowMassDelete: true)
    }

    /// The same world with every collection in another order.
    func shuffled(seed: UInt64) -> RandomWorld {
        var rng = SeededRandom(seed: seed ^ 0xDEAD_BEEF)
        var copy = self
        var services: [String: ServiceSpec] = [:]
        for (name, spec) in desired.services.shuffled(using: &rng) {
            var s = spec
            s.dependsOn.shuffle(using: &rng)
            services[name] = s
        }
        copy.desired.services = services
        copy.observed.services = observed.services.shuffled(using: &rng).map {
            var s = $0
            s.instances.shuffle(using: &rng)
            return s
        }
        return copy
    }
}

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

    @Test func theWorldsCoverEveryAction() throws {
        var seen: Set<PlanStep.Action> = []
        for seed in Self.seeds {
            let world = RandomWorld(seed: seed)
            let plan = try Planner.plan(desired: world.desired, observed: world.observed, options: world.options)
            seen.formUnion(plan.steps.map(\.action))
        }
        #expect(seen == Set(PlanStep.Action.allCases))
    }
}
