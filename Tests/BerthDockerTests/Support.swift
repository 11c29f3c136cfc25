import BerthCore
import BerthDocker
import Foundation
import Testing

/// A fresh project name per test, so tests never see each other's containers.
func uniqueProject(_ hint: String) -> String {
    "bt-\(hint)-\(UInt32.random(in: 0...UInt32.max) % 0xFFFFFF)"
}

/// Runs `body` against the real engine with a unique project; removes the project's
/// containers and network afterwards, also when `body` throws. No Docker is a failure.
func withProject(
    _ hint: String, _ body: (DockerRuntime, String) async throws -> Void
) async throws {
    let runtime = try await DockerRuntime.connect()
    let project = uniqueProject(hint)
    do {
        try await body(runtime, project)
    } catch {
        try? await runtime.destroyProject(project)
        throw error
    }
    try await runtime.destroyProject(project)
    let left = try await runtime.client.listContainers(labels: [BerthLabel.project: project])
    #expect(left.isEmpty, "containers left behind: \(left.map(\.Id))")
}

func spec(
    _ name: String, image: String, health: HealthCheck? = nil, grace: Millis = .seconds(10)
) -> ServiceSpec {
    ServiceSpec(name: name, image: image, health: health, stopGracePeriod: grace)
}

/// Probes often, but each may take 2 s: on a loaded 2-core machine a healthy container can
/// take far longer than 500 ms to answer.
let fastHTTP = HealthCheck(
    probe: .http(path: "/healthz", port: 8080), interval: Millis(100), timeout: .seconds(2), failureThreshold: 3)

/// A deadline generous enough for a loaded machine (tests that are about time set their own).
func soon(_ seconds: Int64 = 30) -> ContinuousClock.Instant { .now + .seconds(seconds) }
