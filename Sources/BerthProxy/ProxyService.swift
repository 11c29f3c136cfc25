public import BerthCore
public import BerthDocker
import Foundation
public import Logging
import NIOConcurrencyHelpers

/// `berth proxy` in one object: the balancer (data plane), the control API, and, with a
/// Docker client, the discovery that keeps the endpoint table in step with the engine.
///
/// Control API (HTTP/1.1 on `controlHost:controlPort`, JSON with `"formatVersion": 1`):
/// - `POST /v1/drain {"instance": ID, "graceMs": N}` → retire the instance (no new
///   connections from now on) and answer once its last connection closed or `graceMs`
///   passed: `{"drained", "remaining", "known", "waitedMs", "instance"}`.
/// - `POST /v1/ready {"instance": ID}` → the instance takes connections now (learnt from
///   Docker first if this proxy has not seen it yet); 404 when it is unknown and not running.
/// - `GET /v1/endpoints` → listeners and endpoints, sorted.
/// - `GET /metrics` → Prometheus text, sorted.
/// - `GET /healthz` → `ok`.
/// IDs may be a unique prefix of at least 6 characters.
public final class ProxyService: Sendable {
    public let project: String
    public let balancer: Balancer
    public let discovery: DockerDiscovery?
    let server: ControlHTTPServer
    let logger: Logger
    private let discoveryTask: Task<Void, Never>?

    public var table: EndpointTable { balancer.table }
    /// The port the control API listens on.
    public var controlPort: Int { server.port }

    private init(
        project: String, balancer: Balancer, discovery: DockerDiscovery?, server: ControlHTTPServer,
        discoveryTask: Task<Void, Never>?, logger: Logger
    ) {
        self.project = project
        self.balancer = balancer
        self.discovery = discovery
        self.server = server
        self.discoveryTask = discoveryTask
        self.logger = logger
    }

    /// Starts serving. With `docker`, the initial resync runs before this returns, so the
    /// listeners of every running service are open.
    public static func start(
        project: String, balancer: Balancer, docker: DockerClient?, controlHost: String = "127.0.0.1",
        controlPort: Int = 0, logger: Logger = Logger(label: "berth.proxy")
    ) async throws -> ProxyService {
        let discovery = docker.map { DockerDiscovery(client: $0, project: project, balancer: balancer, logger: logger) }
        let box = HandlerBox()
        let server: ControlHTTPServer
        do {
            server = try await ControlHTTPServer.start(
                host: controlHost, port: controlPort, group: balancer.group
            ) { request in await box.handle(request) }
        } catch {
            throw ProxyError(
                "cannot listen for the control API on \(controlHost):\(controlPort): \(error); "
                    + "pick another port with --control")
        }
        if let discovery {
            do { try await discovery.resync() } catch {
                await server.close()
                throw error
            }
        }
        let task = discovery.map { discovery in Task { await discovery.run() } }
        let service = ProxyService(
            project: project, balancer: balancer, discovery: discovery, server: server, discoveryTask: task,
            logger: logger)
        box.set(service)
        logger.info("control API listening", metadata: ["proxy.control": "\(controlHost):\(server.port)"])
        return service
    }

    /// Stops discovery, the control API and every listener (open connections finish by
    /// themselves).
    public func shutdown() async {
        discoveryTask?.cancel()
        await discoveryTask?.value
        await server.close()
        await balancer.shutdown()
    }

    // MARK: - Control API

    func handle(_ request: ControlRequest) async -> ControlResponse {
        let path = request.path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.path
        switch (request.method, path) {
        case ("POST", "/v1/drain"):
            guard let body = try? JSONDecoder().decode(ControlAPI.DrainRequest.self, from: Data(request.body)) else {
                return Self.error(400, "expected a JSON body {\"instance\": ID, \"graceMs\": N}")
            }
            let result = await drain(instance: body.instance, grace: .milliseconds(max(0, body.graceMs)))
            return ControlResponse(
                status: 200,
                body: ControlAPI.encode(
                    ControlAPI.DrainResponse(
                        instance: result.instance, drained: result.drained, remaining: result.remaining,
                        known: result.known, waitedMs: result.waitedMs)))
        case ("POST", "/v1/ready"):
            guard let body = try? JSONDecoder().decode(ControlAPI.ReadyRequest.self, from: Data(request.body)) else {
                return Self.error(400, "expected a JSON body {\"instance\": ID}")
            }
            guard let id = await ready(instance: body.instance) else {
                return Self.error(
                    404,
                    "instance \(body.instance) is unknown to the balancer of project \(project) and not running in it")
            }
            return ControlResponse(
                status: 200, body: ControlAPI.encode(ControlAPI.ReadyResponse(instance: id, state: .ready)))
        case ("GET", "/v1/endpoints"):
            return ControlResponse(status: 200, body: ControlAPI.encode(endpointsDocument()))
        case ("GET", "/metrics"):
            return ControlResponse(
                status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: Array(metrics().utf8))
        case ("GET", "/healthz"):
            return ControlResponse(status: 200, contentType: "text/plain", body: Array("ok\n".utf8))
        case (_, "/v1/drain"), (_, "/v1/ready"), (_, "/v1/endpoints"), (_, "/metrics"), (_, "/healthz"):
            return Self.error(405, "\(request.method) is not allowed on \(path)")
        default:
            return Self.error(
                404, "no such endpoint \(path); try POST /v1/drain, POST /v1/ready, GET /v1/endpoints, GET /metrics")
        }
    }

    /// Retires `instance` and waits for it to drain (see `EndpointTable.drain`).
    public func drain(instance: String, grace: Duration) async -> DrainResult {
        let id = table.resolve(instance) ?? instance
        return await table.drain(id, grace: grace)
    }

    /// Puts `instance` into rotation; returns its full id, or nil when it is unknown and
    /// cannot be learnt from Docker.
    public func ready(instance: String) async -> String? {
        if let id = table.resolve(instance) {
            table.markReady(id)
            return id
        }
        guard let discovery, (try? await discovery.learn(instance)) == true else { return nil }
        guard let id = table.resolve(instance) else { return nil }
        table.markReady(id)
        return id
    }

    public func endpointsDocument() -> ControlAPI.EndpointsDocument {
        let listeners = balancer.listening.map { port, service in
            ControlAPI.Listener(publish: port, service: service, boundPort: balancer.boundPort(publish: port) ?? port)
        }.sorted { $0.publish < $1.publish }
        return ControlAPI.EndpointsDocument(project: project, listeners: listeners, endpoints: table.snapshot())
    }

    public func metrics() -> String {
        MetricsRenderer.render(project: project, counters: table.counters(), endpoints: table.snapshot())
    }

    static func error(_ status: Int, _ message: String) -> ControlResponse {
        ControlResponse(status: status, body: ControlAPI.encode(ControlAPI.ErrorDocument(error: message)))
    }
}

/// Lets the server's handler reach the service, which exists only after the server does.
private final class HandlerBox: Sendable {
    private let service = NIOLockedValueBox<ProxyService?>(nil)

    func set(_ service: ProxyService) {
        self.service.withLockedValue { $0 = service }
    }

    func handle(_ request: ControlRequest) async -> ControlResponse {
        let service = self.service.withLockedValue { $0 }
        guard let service else { return ProxyService.error(503, "the balancer is still starting; try again") }
        return await service.handle(request)
    }
}

/// In-process use (the balancer inside the same process as the executor).
extension ProxyService: TrafficRouter {
    public func instanceReady(_ instance: Instance) async {
        if await ready(instance: instance.id) == nil {
            logger.error(
                "instance \(instance.id) of \(instance.service) is unknown to the balancer and not running",
                metadata: ["service.name": "\(instance.service)"])
        }
    }

    @discardableResult
    public func drain(_ instance: Instance, grace: Millis) async -> DrainOutcome {
        let result = await drain(instance: instance.id, grace: .milliseconds(grace.milliseconds))
        return result.drained ? .drained : .gracePassed(remaining: result.remaining)
    }
}
