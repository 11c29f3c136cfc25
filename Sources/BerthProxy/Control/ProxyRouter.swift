public import BerthCore

/// The executor's `TrafficRouter` (and an autoscaler's `TrafficStatistics`) for a project: the `berth proxy` recorded in the state
/// folder, looked up on every call, so a proxy started (or restarted) after `berth watch`
/// is found. With no proxy running, nothing is added or drained — as with no balancer —
/// and a drain answers `.notDrained` with how to start one.
public struct ProxyRouter: TrafficRouter, TrafficStatistics, HandDrainSource, Sendable {
    public var stateDirectory: String
    public var project: String

    public init(stateDirectory: String, project: String) {
        self.stateDirectory = stateDirectory
        self.project = project
    }

    private var client: ProxyControlClient? {
        try? ProxyControlClient(stateDirectory: stateDirectory, project: project)
    }

    public func instanceReady(_ instance: Instance) async {
        await client?.instanceReady(instance)
    }

    @discardableResult
    public func drain(_ instance: Instance, grace: Millis, stopTimeout: Millis) async -> DrainOutcome {
        guard let client else {
            let file = ProxyStateFile.path(directory: stateDirectory, project: project)
            return .notDrained(
                reason: ProxyControlClient.noProxyReason(project: project, stateDirectory: stateDirectory, detail: "no \(file)"))
        }
        return await client.drain(instance, grace: grace, stopTimeout: stopTimeout)
    }

    /// The drains by hand in the project's proxy; none when no proxy runs or answers.
    public func handDrains() async -> [HandDrain] {
        await client?.handDrains() ?? []
    }

    /// Declares the standby services to the project's proxy; throws when none answers.
    public func declare(_ services: [StandbyService]) async throws {
        guard let client else {
            throw ProxyError(ProxyControlClient.noProxyReason(
                project: project, stateDirectory: stateDirectory, detail: "no \(ProxyStateFile.path(directory: stateDirectory, project: project))"))
        }
        try await client.declare(services)
    }

    /// The counters of the project's proxy; throws when none answers.
    public func traffic() async throws -> TrafficReport {
        guard let client else {
            let file = ProxyStateFile.path(directory: stateDirectory, project: project)
            throw ProxyError(
                ProxyControlClient.noProxyReason(project: project, stateDirectory: stateDirectory, detail: "no \(file)"))
        }
        return try await client.traffic()
    }
}
