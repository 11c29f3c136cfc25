import Testing
@testable import BerthCore
import BerthTestSupport

/// Revisions are stored on running containers: a change in how they are computed would
/// re-roll every service. These pins catch it (the planner relies on them being stable).
@Suite struct PlanRevisionPinTests {
    static let full = ServiceSpec(
        name: "booking", labels: ["team": "travel", "tier": "web"], image: "shop/booking:1.4.2", replicas: 3,
        command: ["/bin/httpd", "-f", "-p", "8080", "say \"hi\"\\n"],
        env: ["CUSTOMER_URL": "http://customer:8080", "QUOTE": "a\"b\\c\nd", "ÜNI": "ç"],
        ports: [PortSpec(containerPort: 8080, publish: 8081), PortSpec(containerPort: 9090)],
        dependsOn: ["customer", "auth"],
        health: HealthCheck(probe: .http(path: "/healthz", port: 8080), interval: Millis(1500)),
        update: UpdatePolicy(strategy: .rolling, maxSurge: .percent(25)), stopGracePeriod: Millis(90_500),
        restart: .onFailure, resources: Resources(milliCPUs: 500, memory: 268_435_456))

    @Test func revisionsArePinned() {
        #expect(ServiceSpec(name: "customer", image: "shop/customer:1.0").revision.id == "9ed504e8af")
        #expect(Self.full.revision.id == "3d59b2e46a")
    }
}

@Suite struct PlanRevisionHasherTests {
    /// The streamed hash equals the hash of `canonicalTemplate` for odd and random specs.
    @Test func streamedHashMatchesTheCanonicalTemplate() {
        var specs = [PlanRevisionPinTests.full, ServiceSpec(name: "a", image: "b")]
        var odd = PlanRevisionPinTests.full
        odd.command = []
        odd.health = HealthCheck(probe: .exec(command: ["sh", "-c", "x\\y"]), interval: Millis(-1500),
                                 timeout: Millis(3_600_000 + 61_001), startPeriod: .zero, failureThreshold: -3)
        odd.update = UpdatePolicy(strategy: .recreate, maxSurge: .count(-2), maxUnavailable: .percent(0), onFailure: .pause)
        odd.resources = Resources(milliCPUs: nil, memory: 0)
        odd.ports = [PortSpec(containerPort: 0, publish: nil)]
        specs.append(odd)
        odd.health = HealthCheck(probe: .tcp(port: 5432))
        odd.resources = Resources(milliCPUs: 1, memory: nil)
        specs.append(odd)
        for seed in PropertyTests.seeds { specs += RandomWorld(seed: seed).desired.services.values }
        for spec in specs {
            #expect(Revision(of: spec) == Revision(hashingTemplateOf: spec), "\(spec.canonicalTemplate)")
        }
        #expect(specs.count > 1000)
    }
}
