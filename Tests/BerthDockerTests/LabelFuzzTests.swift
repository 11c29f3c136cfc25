import BerthCore
import BerthDocker
import BerthTestSupport
import Foundation
import Testing

/// Issue 18: no input crashes a Berth process — labels included. Any local user who can
/// reach the Docker socket can create a container with `berth.*` labels of their choosing,
/// and every `observe` of `watch`, `plan` and `status` reads them back. Seeded mutations of
/// the labels Berth itself writes (the recorded spec and health check as JSON, the grace
/// period, `dependsOn`): every read ends in a value or nil, never a trap; and what is read
/// back, when something is, goes through the planner without a trap either.
/// `BERTH_FUZZ_ITERATIONS` runs longer by hand.
@Suite struct LabelFuzzTests {
    static let booking = ServiceSpec(
        name: "booking", labels: ["team": "travel"], image: "shop/booking:1.0", replicas: 3,
        command: ["/entry.sh"], env: ["B": "2", "DB_PASSWORD": "x"],
        ports: [PortSpec(containerPort: 8080, publish: 8081)], dependsOn: ["customer"],
        health: HealthCheck(
            probe: .http(path: "/healthz", port: 8080), interval: Millis(200), timeout: .seconds(1),
            startPeriod: .seconds(2), failureThreshold: 2),
        update: UpdatePolicy(maxSurge: .count(1), maxUnavailable: .count(0), progressDeadline: .seconds(60)),
        stopGracePeriod: .seconds(2), restart: .always, resources: Resources(milliCPUs: 500, memory: 64 << 20))

    static let hostile = [
        "1e308", "-1e308", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
        "18446744073709551616", "NaN", "Infinity", "-0", "0.5", "1e-400", "\"\"", "null", "true", "[]", "{}",
        "\"\\u0000\"", "\"\\ud800\"", String(repeating: "9", count: 400), "[[[[[[[[[[]]]]]]]]]]",
    ]

    @Test func mutatedLabelsAreReadOrRefusedNeverATrap() throws {
        let iterations = Int(ProcessInfo.processInfo.environment["BERTH_FUZZ_ITERATIONS"] ?? "") ?? 3_000
        let labels = BerthLabel.labels(for: InstanceRequest(project: "shop", spec: Self.booking, commit: "c0ffee"))
        let spec = try #require(labels[BerthLabel.spec])
        let health = try #require(labels[BerthLabel.health])
        var r = SeededRandom(seed: 0x1ABE_1018)
        var read = 0
        for n in 0..<iterations {
            var mutated = labels
            mutated[BerthLabel.spec] = Self.mutate(spec, &r)
            mutated[BerthLabel.health] = Self.mutate(health, &r)
            if r.chance(30) { mutated[BerthLabel.dependsOn] = Self.mutate("customer,db", &r) }
            if r.chance(30) { mutated[BerthLabel.stopGrace] = Self.hostile[r.below(Self.hostile.count)] }
            let environment = r.chance(50) ? ["B=\(Self.hostile[r.below(Self.hostile.count)])", "=", "NOEQUALS", "DB_PASSWORD=y=z"] : []
            _ = BerthLabel.dependencies(mutated)
            _ = BerthLabel.healthCheck(mutated)
            guard let recorded = BerthLabel.recordedSpec(mutated, environment: environment) else { continue }
            read += 1
            // What observe would then hand the planner: a desired state of the original spec
            // against an instance recorded with the mutated one.
            _ = recorded.revision
            let observed = ObservedState(project: "shop", services: [
                ObservedService(name: recorded.name, instances: [
                    Instance(id: "i\(n)", service: recorded.name, revision: recorded.revision, image: recorded.image, state: .running),
                ], dependsOn: recorded.dependsOn),
            ])
            _ = try? Planner.plan(desired: DesiredState(services: ["booking": Self.booking]), observed: observed)
        }
        #expect(read > 0, "some mutations still decode: the planner saw them")
    }

    /// A value with one of: a number swapped for a hostile one, bytes cut, a byte flipped,
    /// a slice repeated.
    static func mutate(_ text: String, _ r: inout SeededRandom) -> String {
        var bytes = Array(text.utf8)
        switch r.below(5) {
        case 0:
            // Replace a run of digits with a hostile number.
            let digits = bytes.indices.filter { (48...57).contains(bytes[$0]) }
            guard let at = digits.isEmpty ? nil : digits[r.below(digits.count)] else { break }
            var end = at
            while end < bytes.count, (48...57).contains(bytes[end]) || bytes[end] == 46 { end += 1 }
            bytes.replaceSubrange(at..<end, with: Array(hostile[r.below(hostile.count)].utf8))
        case 1:
            bytes = Array(bytes.prefix(r.below(bytes.count + 1)))
        case 2:
            if !bytes.isEmpty { bytes[r.below(bytes.count)] = UInt8(truncatingIfNeeded: r.next()) }
        case 3:
            if !bytes.isEmpty {
                let a = r.below(bytes.count), b = min(bytes.count, a + r.int(1...40))
                bytes.insert(contentsOf: bytes[a..<b], at: a)
            }
        default:
            // Replace a value after a colon with a hostile one.
            let colons = bytes.indices.filter { bytes[$0] == 58 }
            guard let at = colons.isEmpty ? nil : colons[r.below(colons.count)] else { break }
            var end = at + 1
            while end < bytes.count, bytes[end] != 44, bytes[end] != 125 { end += 1 }
            bytes.replaceSubrange((at + 1)..<end, with: Array(hostile[r.below(hostile.count)].utf8))
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
