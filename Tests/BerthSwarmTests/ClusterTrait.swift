import BerthTestSupport
import Foundation
import Testing

/// Brings the 3-node Swarm up once around the suite it is applied to, and always tears it
/// down afterwards, also when a test fails or throws. Tests read it from `SwarmSuite.cluster`.
/// No skipping: a machine where the cluster cannot start fails every Swarm test, loudly.
struct SwarmClusterTrait: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let started = ContinuousClock.now
        let cluster: SwarmCluster
        do {
            cluster = try SwarmCluster.up()
        } catch {
            // Every test of the suite then fails with the reason, instead of being skipped.
            try await SwarmSuite.$startFailure.withValue("\(error)") { try await function() }
            return
        }
        defer { SwarmCluster.down() }
        print("swarm cluster up in \(ContinuousClock.now - started)")
        try await SwarmSuite.$current.withValue(cluster) { try await function() }
    }
}

extension Trait where Self == SwarmClusterTrait {
    static var swarmCluster: Self { Self() }
}

/// Every test that needs the 3-node Swarm lives in this suite (nested types in extensions,
/// one file each), so the cluster comes up once per test run.
@Suite(.serialized, .swarmCluster)
enum SwarmSuite {
    @TaskLocal static var current: SwarmCluster?
    @TaskLocal static var startFailure: String?

    /// The cluster, or a thrown error that says why it did not come up.
    static var cluster: SwarmCluster {
        get throws {
            if let current { return current }
            throw SwarmClusterUnavailable(reason: startFailure ?? "SwarmSuite.cluster read outside SwarmSuite")
        }
    }
}

struct SwarmClusterUnavailable: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` every 200 ms until it holds or `seconds` pass; whether it held.
func eventually(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.2)
    }
    return try condition()
}
