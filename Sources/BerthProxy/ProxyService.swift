public import BerthCore
import BerthNet
import Foundation
public import Logging
import NIOConcurrencyHelpers

/// `berth proxy` in one object: the balancer (data plane), the control API, and, with an
/// endpoint source (Docker on one host), the discovery that keeps the endpoint table in
/// step with the runtime.
///
/// Control API (HTTP/1.1 on `controlHost:controlPort`, JSON with `"formatVersion": 1`):
/// - `POST /v1/drain {"instance": ID, "graceMs": N, "holdMs": H}` → retire the instance (no
///   new connections from now on) and answer once its last connection closed or `graceMs`
///   passed: `{"drained", "remaining", "known", "waitedMs", "instance"}`. With `holdMs`
///   (Berth's executor always sends it), the instance is back in rotation when it still
///   runs `holdMs` after the call — its executor died between drain and stop — said in one
///   warning and counted in `berth_proxy_drains_expired_total`. Without it, a drain by
///   hand: out of rotation until `POST /v1/ready` or a stop; `GET /v1/endpoints` says which
///   (`"drain": {"by": "berth"|"hand", "since", "until"}`).
/// - `POST /v1/ready {"instance": ID}` → the instance takes connections now (learnt from
///   the runtime first if this proxy has not seen it yet); 404 when it is unknown and not
///   running.
/// - `PUT /v1/services {"standby": [{"service", "publish": [PORT]}]}` → the services whose
///   ports stay open and whose connections are held while no replica is ready (`Standby`).
/// - `GET /v1/endpoints` → listeners and endpoints, sorted.
/// - `GET /v1/traffic` → per-service request and connection counters since the proxy
///   started, and one sample per second of the last minute (`TrafficReport`).
/// - `GET /metrics` → Prometheus text, sorted.
/// - `GET /healthz` → `ok`.
/// IDs may be a unique prefix of at least 6 characters, and at most 128 characters long.
///
/// With a `controlToken`, every call but a `GET` needs `Authorization: Bearer TOKEN`
/// (see `ControlToken`); others get 401 and change nothing.
public final class ProxyService: Sendable {
    public let project: String
    public let balancer: Balancer
    public let discovery: EndpointDiscovery?
    let server: HTTPServer
    let logger: Logger
    let controlToken: String?
    /// Calls refused for want of the token since the last log line about them, and when
    /// that line was written (at most one every 10 s, so a flood cannot flood the log).
    private let refusals = NIOLockedValueBox<(count: Int, logged: ContinuousClock.Instant?)>((0, nil))
    private let discoveryTask: Task<Void, Never>?
    private let samplerTask: Task<Void, Never>
    private let expiryTask: Task<Void, Never>
    private let history: NIOLockedValueBox<TrafficHistory>
    private let started: ContinuousClock.Instant

    public var table: EndpointTable { balancer.table }
    /// The port the control API listens on.
    public var controlPort: Int { server.port }

    private init(
        project: String, balancer: Balancer, discovery: EndpointDiscovery?, server: HTTPServer,
        discoveryTask: Task<Void, Never>?, controlToken: String?, logger: Logger
    ) {
        self.controlToken = controlToken
        self.project = project
        self.balancer = balancer
        self.discovery = discovery
        self.server = server
        self.discoveryTask = discoveryTask
        self.logger = logger
        let history = NIOLockedValueBox(TrafficHistory())
        let started = ContinuousClock.now
        let table = balancer.table
        self.history = history
        self.started = started
        expiryTask = Task { await Self.expireDrains(table: table, logger: logger) }
        samplerTask = Task {
            // One sample at the end of each whole second since the start (a late wake-up
            // catches up at once: the seconds it missed count their traffic in the first).
            var second: Int64 = 1
            while !Task.isCancelled {
                try? await ContinuousClock().sleep(until: started + .seconds(second))
                if Task.isCancelled { return }
                let counters = table.counters()
                history.withLockedValue { $0.record(second: second, counters: counters) }
                second += 1
            }
        }
    }

    static func seconds(since start: ContinuousClock.Instant) -> Int64 {
        (ContinuousClock.now - start).components.seconds
    }

    /// The traffic counted so far (see `TrafficHistory`).
    public func traffic() -> TrafficReport {
        let counters = table.counters()
        return history.withLockedValue { $0.report(uptimeSeconds: Self.seconds(since: started), counters: counters) }
    }

    /// Starts serving. With `endpoints`, the initial resync runs before this returns, so the
    /// listeners of every running service are open.
    public static func start(
        project: String, balancer: Balancer, endpoints: (any EndpointSource)?, controlHost: String = "127.0.0.1",
        controlPort: Int = 0, controlToken: String? = nil, logger: Logger = Logger(label: "berth.proxy")
    ) async throws -> ProxyService {
        let discovery = endpoints.map { EndpointDiscovery(source: $0, project: project, balancer: balancer, logger: logger) }
        let box = HandlerBox()
        let server: HTTPServer
        do {
            server = try await HTTPServer.start(
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
            controlToken: controlToken, logger: logger)
        box.set(service)
        logger.info("control API listening", metadata: ["proxy.control": "\(controlHost):\(server.port)"])
        return service
    }

    /// Stops discovery, the control API and every listener (open connections finish by
    /// themselves).
    public func shutdown() async {
        samplerTask.cancel()
        expiryTask.cancel()
        discoveryTask?.cancel()
        await discoveryTask?.value
        await server.close()
        await balancer.shutdown()
    }

    // MARK: - Control API

    /// The longest instance id taken (Docker's are 64 characters, Swarm task ids 25).
    static let maxInstanceID = 128

    func handle(_ request: HTTPServer.Request) async -> HTTPServer.Response {
        let path = request.path
        if let controlToken, request.method != "GET",
            !ControlToken.accepts(request.header("Authorization"), token: controlToken)
        {
            noteRefusal(request)
            return Self.error(
                401,
                "\(request.method) \(path) needs this balancer's control token (header Authorization: Bearer TOKEN); "
                    + "berth watch and berth apply read it from the proxy's state file proxy-\(project).json, "
                    + "which only its owner can read")
        }
        switch (request.method, path) {
        case ("POST", "/v1/drain"):
            guard let body = try? JSONDecoder().decode(ControlAPI.DrainRequest.self, from: Data(request.body)) else {
                return Self.error(400, "expected a JSON body {\"instance\": ID, \"graceMs\": N}")
            }
            if let refusal = Self.checkID(body.instance) { return refusal }
            if let hold = body.holdMs, !(0...ControlAPI.DrainRequest.maxHoldMs).contains(hold) {
                return Self.error(
                    400, "holdMs: expected 0 to \(ControlAPI.DrainRequest.maxHoldMs) (a year), found \(hold); leave it out to drain by hand")
            }
            let result = await drain(
                instance: body.instance, grace: .milliseconds(max(0, body.graceMs)), hold: body.holdMs.map { .milliseconds($0) })
            return HTTPServer.Response(
                status: 200,
                body: ControlAPI.encode(
                    ControlAPI.DrainResponse(
                        instance: result.instance, drained: result.drained, remaining: result.remaining,
                        known: result.known, waitedMs: result.waitedMs)))
        case ("POST", "/v1/ready"):
            guard let body = try? JSONDecoder().decode(ControlAPI.ReadyRequest.self, from: Data(request.body)) else {
                return Self.error(400, "expected a JSON body {\"instance\": ID}")
            }
            if let refusal = Self.checkID(body.instance) { return refusal }
            guard let id = await ready(instance: body.instance) else {
                return Self.error(
                    404,
                    "instance \(body.instance) is unknown to the balancer of project \(project) and not running in it")
            }
            return HTTPServer.Response(
                status: 200, body: ControlAPI.encode(ControlAPI.ReadyResponse(instance: id, state: .ready)))
        case ("PUT", "/v1/services"):
            guard let body = try? JSONDecoder().decode(ControlAPI.ServicesDocument.self, from: Data(request.body)) else {
                return Self.error(400, "expected a JSON body {\"standby\": [{\"service\": NAME, \"publish\": [PORT]}]}")
            }
            await balancer.declare(body.standby)
            return HTTPServer.Response(status: 200, body: ControlAPI.encode(ControlAPI.ServicesDocument(standby: table.standby)))
        case ("GET", "/v1/endpoints"):
            return HTTPServer.Response(status: 200, body: ControlAPI.encode(endpointsDocument()))
        case ("GET", "/v1/traffic"):
            return HTTPServer.Response(
                status: 200, body: ControlAPI.encode(ControlAPI.TrafficDocument(project: project, report: traffic())))
        case ("GET", "/metrics"):
            return HTTPServer.Response(
                status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: Array(metrics().utf8))
        case ("GET", "/healthz"):
            return HTTPServer.Response(status: 200, contentType: "text/plain", body: Array("ok\n".utf8))
        case (_, "/v1/drain"), (_, "/v1/ready"), (_, "/v1/services"), (_, "/v1/endpoints"), (_, "/v1/traffic"), (_, "/metrics"), (_, "/healthz"):
            return Self.error(405, "\(request.method) is not allowed on \(path)")
        default:
            return Self.error(
                404,
                "no such endpoint \(path); try POST /v1/drain, POST /v1/ready, GET /v1/endpoints, GET /v1/traffic, GET /metrics")
        }
    }

    static func checkID(_ id: String) -> HTTPServer.Response? {
        guard id.utf8.count > maxInstanceID else { return nil }
        return error(400, "instance: expected an id of at most \(maxInstanceID) characters, found \(id.utf8.count)")
    }

    /// Logs refused calls: the first at once, then at most one line every 10 s with the count.
    private func noteRefusal(_ request: HTTPServer.Request) {
        let now = ContinuousClock.now
        let count: Int? = refusals.withLockedValue { state in
            state.count += 1
            if let logged = state.logged, now - logged < .seconds(10) { return nil }
            defer { state = (0, now) }
            return state.count
        }
        guard let count else { return }
        logger.warning(
            "control call refused: no valid control token",
            metadata: ["http.method": "\(request.method)", "http.path": "\(request.path)", "refused.count": "\(count)"])
    }

    /// Retires `instance` and waits for it to drain (see `EndpointTable.drain`). An id the
    /// table does not know is looked up in the runtime first (a replica this proxy has not
    /// seen yet is retired for good); one that is not running either answers at once with
    /// `known: false` and is not remembered — ids sent to drain used to be kept for ever
    /// (50 drains of 1 MB ids: +66 MB).
    public func drain(instance: String, grace: Duration, hold: Duration? = nil) async -> DrainResult {
        if let id = table.resolve(instance) { return await table.drain(id, grace: grace, hold: hold) }
        if let discovery, (try? await discovery.learn(instance)) == true, let id = table.resolve(instance) {
            return await table.drain(id, grace: grace, hold: hold)
        }
        return DrainResult(instance: instance, drained: true, remaining: 0, known: false, waitedMs: 0)
    }

    /// Puts `instance` into rotation; returns its full id, or nil when it is unknown and
    /// cannot be learnt from the runtime.
    public func ready(instance: String) async -> String? {
        if let id = table.resolve(instance) {
            table.markReady(id)
            balancer.wakeHeld()
            return id
        }
        guard let discovery, (try? await discovery.learn(instance)) == true else { return nil }
        guard let id = table.resolve(instance) else { return nil }
        table.markReady(id)
        balancer.wakeHeld()
        return id
    }

    public func endpointsDocument() -> ControlAPI.EndpointsDocument {
        let listeners = balancer.listening.map { port, service in
            ControlAPI.Listener(publish: port, service: service, boundPort: balancer.boundPort(publish: port) ?? port)
        }.sorted { $0.publish < $1.publish }
        return ControlAPI.EndpointsDocument(project: project, listeners: listeners, endpoints: table.snapshot())
    }

    public func metrics() -> String {
        let budget = ClientBudget.shared
        return MetricsRenderer.render(
            project: project, counters: table.counters(), endpoints: table.snapshot(),
            connections: MetricsRenderer.ConnectionLimits(
                maxClients: budget.maxClients, descriptorLimit: ClientBudget.softDescriptorLimit(),
                refused: Dictionary(uniqueKeysWithValues: ClientBudget.Reason.allCases.map { ($0.rawValue, budget.refused($0)) }),
                portLimit: balancer.ports.limit, refusedByPort: balancer.ports.refused),
            drainsExpired: table.drainsExpired)
    }

    /// Ends the drains whose hold passed (`EndpointTable.expireDrains`), checked every
    /// `tick` (so at most that late), with one warning each, until cancelled.
    static func expireDrains(table: EndpointTable, logger: Logger, tick: Duration = .milliseconds(250)) async {
        let clock = ContinuousClock()
        while !Task.isCancelled {
            for drain in table.expireDrains(now: clock.now) {
                let held = seconds(drain.hold)
                logger.warning(
                    "drain of \(drain.instance.prefix(12)) (\(drain.service)) ended after \(held): the berth process that drained it did not stop it within \(held) (gone?); back in rotation",
                    metadata: [
                        "service.name": "\(drain.service)", "proxy.instance": "\(drain.instance)",
                        "drain.hold": "\(held)", "proxy.state": "\(drain.state.rawValue)",
                    ])
            }
            try? await clock.sleep(for: tick)
        }
    }

    /// `30s`, `1.5s`: a hold in seconds for people.
    static func seconds(_ duration: Duration) -> String {
        let ms = EndpointTable.millis(duration)
        return ms % 1000 == 0 ? "\(ms / 1000)s" : "\(Double(ms) / 1000)s"
    }

    static func error(_ status: Int, _ message: String) -> HTTPServer.Response {
        HTTPServer.Response(status: status, body: ControlAPI.encode(ControlAPI.ErrorDocument(error: message)))
    }
}

/// Lets the server's handler reach the service, which exists only after the server does.
private final class HandlerBox: Sendable {
    private let service = NIOLockedValueBox<ProxyService?>(nil)

    func set(_ service: ProxyService) {
        self.service.withLockedValue { $0 = service }
    }

    func handle(_ request: HTTPServer.Request) async -> HTTPServer.Response {
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
    public func drain(_ instance: Instance, grace: Millis, stopTimeout: Millis) async -> DrainOutcome {
        let hold = ProxyControlClient.hold(grace: grace, stopTimeout: stopTimeout)
        let result = await drain(
            instance: instance.id, grace: .milliseconds(grace.milliseconds), hold: .milliseconds(hold.milliseconds))
        return result.drained ? .drained : .gracePassed(remaining: result.remaining)
    }
}
