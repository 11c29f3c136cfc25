import Testing
import BerthCore

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
