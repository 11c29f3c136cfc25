public import BerthCore
public import Logging
import BerthNet
import Foundation
import NIOHTTP1

/// The control API of a running `berth proxy`, over HTTP on loopback. The executor uses it
/// as its `TrafficRouter`, an autoscaler as its `TrafficStatistics`; `berth watch` finds
/// the proxy of a project through the state file it writes (`ProxyStateFile`).
///
/// As the executor's `TrafficRouter` (whose calls cannot fail), an unreachable proxy is
/// logged and the call returns: the executor goes on (a drain then ends at once with
/// `.notDrained`, so the old replica is stopped without draining and the apply says so).
public struct ProxyControlClient: TrafficRouter, TrafficStatistics, HandDrainSource, Sendable {
    public var host: String
    public var port: Int
    /// The project and state folder this proxy was found through (for advice in messages).
    public var project: String?
    public var stateDirectory: String?
    /// The proxy's control token (see `ControlToken`), sent with every call.
    public var token: String?
    /// Added to a drain's grace period for the answer to arrive.
    public var slack: Duration = .seconds(5)
    public var logger = Logger(label: "berth.proxy.client")

    var client: HTTPClient {
        var client = HTTPClient(.tcp(host: host, port: port), connectTimeout: .seconds(10))
        if let token { client.extraHeaders = [("Authorization", "Bearer \(token)")] }
        return client
    }

    public init(host: String = "127.0.0.1", port: Int, token: String? = nil) {
        self.host = host
        self.port = port
        self.token = token
    }

    /// The client for the proxy recorded in `stateDirectory` for `project`.
    public init(stateDirectory: String, project: String) throws {
        let state = try ProxyStateFile.read(directory: stateDirectory, project: project)
        self.init(host: state.controlHost, port: state.controlPort, token: state.controlToken)
        self.project = project
        self.stateDirectory = stateDirectory
    }

    /// Why nothing was drained when no proxy answers for `project` (`detail`: what was
    /// found instead), and how to get one.
    public static func noProxyReason(project: String, stateDirectory: String?, detail: String) -> String {
        let folder = stateDirectory.map { " --state-dir \($0)" } ?? ""
        return "no berth proxy answers for project \(project) (\(detail)); "
            + "start one with `berth proxy --project \(project)\(folder)`, or run `berth watch`, which starts it"
    }

    /// Why a drain did not happen, for the executor's report: plain words when no proxy
    /// answers (the log line has the connect error), the proxy's own error otherwise.
    func notDrainedReason(_ error: any Error) -> String {
        guard let error = error as? ProxyError, error.unreachable, let project else { return "\(error)" }
        return Self.noProxyReason(
            project: project, stateDirectory: stateDirectory,
            detail: "nothing answers at \(host):\(port), where its state file says it listens")
    }

    public func instanceReady(_ instance: Instance) async {
        do {
            try await ready(instance: instance.id)
        } catch {
            logger.error("\(error)", metadata: ["service.name": "\(instance.service)", "proxy.instance": "\(instance.id)"])
        }
    }

    /// How long the executor's drain keeps an instance out of rotation should the executor
    /// die before it stops it: the drain's grace, the stop's timeout, and 30 s.
    public static func hold(grace: Millis, stopTimeout: Millis) -> Millis {
        let total = [grace.milliseconds, stopTimeout.milliseconds, 30_000].reduce(Int64(0)) { sum, part in
            let (value, overflow) = sum.addingReportingOverflow(max(0, part))
            return overflow ? .max : value
        }
        return Millis(min(total, ControlAPI.DrainRequest.maxHoldMs))
    }

    @discardableResult
    public func drain(_ instance: Instance, grace: Millis, stopTimeout: Millis) async -> DrainOutcome {
        do {
            let result = try await drain(
                instance: instance.id, grace: grace, hold: Self.hold(grace: grace, stopTimeout: stopTimeout))
            if !result.drained {
                logger.warning(
                    "grace period over with \(result.remaining) connection(s) still open",
                    metadata: ["service.name": "\(instance.service)", "proxy.instance": "\(instance.id)"])
                return .gracePassed(remaining: result.remaining)
            }
            return .drained
        } catch {
            logger.error("\(error)", metadata: ["service.name": "\(instance.service)", "proxy.instance": "\(instance.id)"])
            return .notDrained(reason: notDrainedReason(error))
        }
    }

    @discardableResult
    public func ready(instance: String) async throws -> EndpointState {
        let response: ControlAPI.ReadyResponse = try await call(
            .POST, "/v1/ready", ControlAPI.ReadyRequest(instance: instance), timeout: .seconds(10))
        return response.state
    }

    /// `hold` nil: a drain by hand (out of rotation until `ready` or a stop).
    @discardableResult
    public func drain(instance: String, grace: Millis, hold: Millis? = nil) async throws -> DrainResult {
        let response: ControlAPI.DrainResponse = try await call(
            .POST, "/v1/drain",
            ControlAPI.DrainRequest(instance: instance, graceMs: grace.milliseconds, holdMs: hold?.milliseconds),
            timeout: .milliseconds(grace.milliseconds) + slack)
        return DrainResult(
            instance: response.instance, drained: response.drained, remaining: response.remaining,
            known: response.known, waitedMs: response.waitedMs)
    }

    public func endpoints() async throws -> ControlAPI.EndpointsDocument {
        try await call(.GET, "/v1/endpoints", Optional<ControlAPI.ReadyRequest>.none, timeout: .seconds(10))
    }

    /// The drains by hand in force (the `HandDrainSource` port); none when the proxy does
    /// not answer within 2 s (status must not wait on it).
    public func handDrains() async -> [HandDrain] {
        guard
            let document: ControlAPI.EndpointsDocument = try? await call(
                .GET, "/v1/endpoints", Optional<ControlAPI.ReadyRequest>.none, timeout: .seconds(2))
        else { return [] }
        return document.endpoints.compactMap { endpoint in
            guard let drain = endpoint.drain, drain.by == .hand else { return nil }
            return HandDrain(instance: endpoint.instance, service: endpoint.service, since: drain.since)
        }.sorted { $0.instance < $1.instance }
    }

    /// The balancer's per-service counters (the `TrafficStatistics` port).
    public func traffic() async throws -> TrafficReport {
        let document: ControlAPI.TrafficDocument = try await call(
            .GET, "/v1/traffic", Optional<ControlAPI.ReadyRequest>.none, timeout: .seconds(10))
        return document.report
    }

    /// Declares the standby services (`PUT /v1/services`).
    public func declare(_ services: [StandbyService]) async throws {
        let _: ControlAPI.ServicesDocument = try await call(
            .PUT, "/v1/services", ControlAPI.ServicesDocument(standby: services), timeout: .seconds(10))
    }

    public func metrics(timeout: Duration = .seconds(10)) async throws -> String {
        let response = try await client.send(.GET, "/metrics", timeout: timeout)
        guard response.status == 200 else { throw failure(response, "GET /metrics") }
        return String(decoding: response.body, as: UTF8.self)
    }

    private func call<Body: Encodable, Answer: Decodable>(
        _ method: HTTPMethod, _ path: String, _ body: Body?, timeout: Duration
    ) async throws -> Answer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let bytes = try body.map { Array(try encoder.encode($0)) }
        let response: HTTPClient.Response
        do {
            response = try await client.send(method, path, body: bytes, timeout: timeout)
        } catch {
            throw ProxyError(
                "cannot reach berth proxy's control API at \(host):\(port) (\(method) \(path)): \(error); "
                    + "is `berth proxy` running for this project?", unreachable: true)
        }
        guard response.status == 200 else { throw failure(response, "\(method) \(path)") }
        do {
            return try JSONDecoder().decode(Answer.self, from: Data(response.body))
        } catch {
            throw ProxyError("berth proxy answered \(method) \(path) with a document this client cannot read: \(error)")
        }
    }

    private func failure(_ response: HTTPClient.Response, _ what: String) -> ProxyError {
        let message = (try? JSONDecoder().decode(ControlAPI.ErrorDocument.self, from: Data(response.body)))?.error
            ?? String(decoding: response.body, as: UTF8.self)
        return ProxyError("berth proxy refused \(what) (HTTP \(response.status)): \(message)")
    }
}
