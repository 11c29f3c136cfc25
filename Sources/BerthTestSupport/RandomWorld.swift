public import BerthCore

/// SplitMix64: tiny, seeded, the same sequence on every platform.
public struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    public mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    /// `next() % n`: the plain reduction the generators of tests and benchmarks use.
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    public mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }
}

/// A random world for the planner's property tests, the same for a seed on every platform:
/// desired services forming a DAG, observed instances in every state and revision (current,
/// old, stray), services no longer desired (some depending on others).
public struct RandomWorld: Sendable {
    public var desired: DesiredState
    public var observed: ObservedState
    public var options: PlanOptions

    public init(seed: UInt64) {
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
    public func shuffled(seed: UInt64) -> RandomWorld {
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
