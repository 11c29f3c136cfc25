import Foundation
import Testing
import BerthCore
import BerthTestSupport

/// Desired states built directly (as a test, a future source or a validator gap would hand
/// them over), with every number at its extremes: the planner ends in a plan or a
/// `PlanError` that names the service and field, never a trap. Issue 18, finding 2: a
/// validated `replicas: 100000000000000000` with `maxSurge: "100%"` overflowed `replicas * p`
/// and took `berth watch` down at every start.
@Suite struct PlannerHostileInputTests {
    static func oldInstance(_ name: String) -> ObservedService {
        ObservedService(name: name, instances: [
            Instance(id: "\(name)-1", service: name, revision: Revision("0ldrev0000"), image: "shop/\(name):0", state: .running)
        ])
    }

    @Test func theFindingsManifestIsAPlanErrorNamingTheField() throws {
        let spec = ServiceSpec(
            name: "booking", image: "shop/booking:1.1", replicas: 100_000_000_000_000_000,
            update: UpdatePolicy(maxSurge: .percent(100)))
        let desired = DesiredState(services: ["booking": spec], commit: "c1")
        let observed = ObservedState(project: "shop", services: [Self.oldInstance("booking")])
        #expect(throws: PlanError.unplannable([
            PlanError.Unplannable(service: "booking", path: "spec.replicas", message: "expected at most 10000 replicas, found 100000000000000000")
        ])) {
            try Planner.plan(desired: desired, observed: observed)
        }
        do {
            _ = try Planner.plan(desired: desired, observed: observed)
        } catch {
            #expect(error.description == """
                cannot plan 1 service: booking: spec.replicas: expected at most 10000 replicas, found 100000000000000000; \
                fix the value in the manifest (berth validate names its place)
                """)
        }
    }

    @Test func countsOutsideTheManifestLimitsAreRefusedForEveryServiceAtOnce() throws {
        let a = ServiceSpec(name: "a", image: "shop/a:1", replicas: -1)
        let b = ServiceSpec(
            name: "b", image: "shop/b:1", replicas: 2,
            update: UpdatePolicy(maxSurge: .count(-3), maxUnavailable: .percent(Int.min)))
        let desired = DesiredState(services: ["b": b, "a": a])
        let observed = ObservedState(project: "shop", services: [])
        #expect(throws: PlanError.unplannable([
            .init(service: "a", path: "spec.replicas", message: "expected at least 0 replicas, found -1"),
            .init(service: "b", path: "spec.update.maxSurge", message: "expected at least 0 replicas, found -3"),
            .init(service: "b", path: "spec.update.maxUnavailable", message: "expected at least 0 percent, found -9223372036854775808"),
        ])) {
            try Planner.plan(desired: desired, observed: observed)
        }
    }

    static let counts = [
        Int.min, Int.min + 1, -100, -1, 0, 1, 2, 3, 99, 100, 101, 10_000, 10_001, 100_000_000_000_000_000,
        Int.max / 200, Int.max / 100, Int.max / 100 + 1, Int.max / 2, Int.max - 98, Int.max - 1, Int.max,
    ]
    static let durations: [Int64] = [.min, .min + 1, -1, 0, 1, 999, 1000, 31_536_000_000, 31_536_000_001, .max - 1, .max]

    /// Every number of a spec drawn from its extremes, over the random worlds of the
    /// planner's property tests: a plan whose every count is non-negative and whose JSON
    /// encodes, or a PlanError; the revision, the field diff and the canonical spelling of
    /// every duration never trap either. `BERTH_FUZZ_ITERATIONS` runs longer by hand.
    @Test func hostileNumbersNeverTrapThePlanner() throws {
        let iterations = Int(ProcessInfo.processInfo.environment["BERTH_FUZZ_ITERATIONS"] ?? "") ?? 2_000
        var r = SeededRandom(seed: 0x0018_F1A2)
        var planned = 0, refused = 0
        for n in 0..<iterations {
            var world = RandomWorld(seed: UInt64(n))
            let base = world.desired
            for name in world.desired.services.keys.sorted() where r.chance(60) {
                world.desired.services[name] = Self.hostile(world.desired.services[name]!, &r)
            }
            do {
                let plan = try Planner.plan(desired: world.desired, observed: world.observed, options: world.options)
                planned += 1
                for step in plan.steps {
                    #expect((0...ManifestLimits.replicas).contains(step.to?.replicas ?? 0), "world \(n): \(step)")
                    #expect((step.from?.replicas ?? 0) >= 0, "world \(n): \(step)")
                    #expect((0...ManifestLimits.replicas).contains(step.strategy?.maxSurge ?? 0), "world \(n): \(step)")
                    #expect((0...ManifestLimits.replicas).contains(step.strategy?.maxUnavailable ?? 0), "world \(n): \(step)")
                }
                // Whatever planned is within every limit the manifest checks enforce.
                for spec in world.desired.services.values {
                    #expect(spec.stopGracePeriod <= ManifestLimits.duration && spec.update.progressDeadline <= ManifestLimits.duration)
                }
                #expect(!plan.jsonText().isEmpty)
            } catch {
                refused += 1
                guard case .unplannable(let problems) = error else {
                    Issue.record("world \(n): \(error)")
                    continue
                }
                #expect(!problems.isEmpty && error.description.hasPrefix("cannot plan "), "world \(n)")
            }
            let diff = DesiredStateDiff(from: base, to: world.desired)
            #expect(diff.changes.allSatisfy { !$0.fields.isEmpty || $0.kind != .changed })
            for spec in world.desired.services.values { _ = spec.revision }
        }
        #expect(planned + refused == iterations)
        if iterations >= 1000 { #expect(planned > iterations / 10 && refused > iterations / 10, "planned \(planned), refused \(refused)") }
    }

    static func hostile(_ spec: ServiceSpec, _ r: inout SeededRandom) -> ServiceSpec {
        var s = spec
        func count() -> Int { counts[r.below(counts.count)] }
        func millis() -> Millis { Millis(durations[r.below(durations.count)]) }
        func amount() -> IntOrPercent { r.chance(50) ? .count(count()) : .percent(count()) }
        if r.chance(50) { s.replicas = count() }
        if r.chance(60) {
            s.update = UpdatePolicy(
                strategy: r.chance(80) ? .rolling : .recreate, maxSurge: amount(), maxUnavailable: amount(),
                progressDeadline: millis(), onFailure: .rollback)
        }
        if r.chance(30) { s.stopGracePeriod = millis() }
        if r.chance(30) {
            s.health = HealthCheck(
                probe: .tcp(port: count()), interval: millis(), timeout: millis(), startPeriod: millis(),
                failureThreshold: count())
        }
        if r.chance(20) { s.ports = [PortSpec(containerPort: count(), publish: r.chance(50) ? count() : nil)] }
        if r.chance(20) { s.resources = Resources(milliCPUs: count(), memory: Int64(count())) }
        if r.chance(20) { s.autoscale = Autoscale(min: count(), max: count(), targetRequestsPerSecond: count(), scaleDownDelay: millis()) }
        return s
    }

    @Test func everyDurationHasACanonicalSpelling() {
        #expect(Millis(.min).description == "-2562047788015h12m55s808ms")
        #expect(Millis(.max).description == "2562047788015h12m55s807ms")
        #expect(Millis(-1500).description == "-1s500ms")
    }
}
