import BerthCore
public import BerthNet
import Foundation

/// One HTTP request as the router sees it: Berth's one server's request
/// (`BerthNet.HTTPServer.Request`: method, uri, headers, body, `path`, `header(_:)`).
public typealias APIRequest = HTTPServer.Request

extension HTTPServer.Request {
    /// The query's parameters, percent-decoded (`+` is a space); the last of a name wins.
    public var query: [String: String] {
        guard let q = uri.split(separator: "?", maxSplits: 1).dropFirst().first else { return [:] }
        return FormEncoding.decode(String(q))
    }
}

public struct APIResponse: Sendable, Equatable {
    public var status: Int
    public var contentType: String
    public var body: String
    public var headers: [String: String]
    /// A body streamed instead of `body` (the web UI's server-sent events).
    public var stream: HTTPServer.BodyStream?

    public init(
        status: Int, contentType: String = "application/json", body: String, headers: [String: String] = [:],
        stream: HTTPServer.BodyStream? = nil
    ) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.headers = headers
        self.stream = stream
    }

    /// `{"error": message, "formatVersion": 1}`.
    public static func error(_ status: Int, _ message: String, headers: [String: String] = [:]) -> APIResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = String(decoding: try! encoder.encode(ErrorBody(error: message)), as: UTF8.self) + "\n"
        return APIResponse(status: status, body: body, headers: headers)
    }

    struct ErrorBody: Encodable {
        var formatVersion = 1
        var error: String
    }
}

/// The routes of `berth watch`'s HTTP API over a `ReconcileLoop`. Reads are open (the server
/// binds to loopback by default); writes need `Authorization: Bearer <token>` and are
/// disabled when no token is configured.
///
/// | route | answer |
/// |---|---|
/// | `GET /healthz` | `ok` while the loop runs |
/// | `GET /metrics` | Prometheus text |
/// | `GET /api/v1/status` | the status document plus `watch` (commits, errors, backoff) |
/// | `GET /api/v1/plan` | the plan the loop would apply now |
/// | `GET /api/v1/journal?service=&since=&limit=` | journal records, newest first |
/// | `GET /api/v1/events?after=&wait=&limit=` | sync events after `after`, oldest first; with `wait` (up to 60s) a long poll |
/// | `POST /api/v1/sync` | fetch and sync now (202) |
/// | `GET /`, `/services/NAME`, `/plan`, `/journal`, `/ui/…` | the web UI (`WebUI`), when given |
public struct APIRouter: Sendable {
    public let loop: ReconcileLoop
    public let journal: Journal?
    public let token: String?
    /// Reads (all but `/healthz`) need the token too: `berth watch` listening on an address
    /// other than loopback without `--public-read` (`APIExposure`). The web UI then needs a
    /// session for its pages as well.
    public let readsNeedToken: Bool
    /// The web UI, served beside the API on the same address.
    public let ui: WebUI?
    /// More Prometheus text for `/metrics` after the loop's own: `berth watch` passes its
    /// `berth proxy`'s (`berth_proxy_*`), so one scrape sees both; empty when it has none.
    public let moreMetrics: (@Sendable () async -> String)?

    public init(
        loop: ReconcileLoop, journal: Journal?, token: String?, readsNeedToken: Bool = false, ui: WebUI? = nil,
        moreMetrics: (@Sendable () async -> String)? = nil
    ) {
        self.moreMetrics = moreMetrics
        self.loop = loop
        self.journal = journal
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
        self.readsNeedToken = readsNeedToken
        self.ui = ui
    }

    static let writeDisabled =
        "write endpoints are disabled: no API token is configured; start berth watch with BERTH_API_TOKEN set, then send `Authorization: Bearer <token>`"

    public func handle(_ request: APIRequest) async -> APIResponse {
        if let ui, WebUI.owns(request.path) { return await ui.handle(request) }
        let routes: [String: Set<String>] = [
            "/healthz": ["GET"], "/metrics": ["GET"], "/api/v1/status": ["GET"], "/api/v1/plan": ["GET"],
            "/api/v1/journal": ["GET"], "/api/v1/events": ["GET"], "/api/v1/sync": ["POST"],
        ]
        let path = request.path.count > 1 && request.path.hasSuffix("/") ? String(request.path.dropLast()) : request.path
        guard let methods = routes[path] else {
            return .error(404, "no such endpoint: \(path); see GET /healthz, /metrics, /api/v1/status, /api/v1/plan, /api/v1/journal, /api/v1/events, POST /api/v1/sync")
        }
        let method = request.method == "HEAD" ? "GET" : request.method
        guard methods.contains(method) else {
            return .error(405, "\(request.method) is not allowed on \(path); use \(methods.sorted().joined(separator: ", "))",
                          headers: ["Allow": methods.sorted().joined(separator: ", ")])
        }
        if method != "GET" || (readsNeedToken && path != "/healthz"), let refusal = authorize(request) { return refusal }
        switch path {
        case "/healthz":
            return APIResponse(status: 200, contentType: "text/plain; charset=utf-8", body: "ok\n")
        case "/metrics":
            return APIResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: await loop.metricsText() + (await moreMetrics?() ?? ""))
        case "/api/v1/status":
            return APIResponse(status: 200, body: await loop.status().jsonText())
        case "/api/v1/plan":
            do {
                return APIResponse(status: 200, body: try await loop.currentPlan().jsonText())
            } catch {
                return .error(503, "cannot plan now: \(error)")
            }
        case "/api/v1/journal":
            return await journalResponse(request.query)
        case "/api/v1/events":
            return await eventsResponse(request.query)
        case "/api/v1/sync":
            await loop.request(.manual, fetch: true)
            return APIResponse(status: 202, body: "{\"accepted\":true,\"formatVersion\":1,\"trigger\":\"manual\"}\n")
        default:
            return .error(404, "no such endpoint: \(path)")
        }
    }

    /// Nil when the request may write.
    func authorize(_ request: APIRequest) -> APIResponse? {
        guard let token else { return .error(403, Self.writeDisabled) }
        let challenge = ["WWW-Authenticate": "Bearer realm=\"berth\""]
        guard let header = request.header("Authorization") else {
            return .error(401, "this endpoint needs `Authorization: Bearer <token>` (the value of BERTH_API_TOKEN)", headers: challenge)
        }
        let prefix = "Bearer "
        guard header.hasPrefix(prefix), ConstantTime.equal(header.dropFirst(prefix.count).utf8, token.utf8) else {
            return .error(401, "the bearer token does not match BERTH_API_TOKEN", headers: challenge)
        }
        return nil
    }

    /// `?after=SEQ` (default 0: every kept event), `?wait=DURATION` (default 0, at most
    /// 60s: answer as soon as there is an event after `after`, else empty when it passed),
    /// `?limit=N` (default 500).
    private func eventsResponse(_ query: [String: String]) async -> APIResponse {
        func count(_ name: String, _ fallback: Int) -> Int? {
            guard let text = query[name] else { return fallback }
            guard let n = Int(text), n >= 0 else { return nil }
            return n
        }
        guard let after = count("after", 0) else {
            return .error(400, "after: expected the non-negative seq of the last event seen, found \"\(query["after"] ?? "")\"")
        }
        guard let limit = count("limit", 500) else {
            return .error(400, "limit: expected a non-negative integer, found \"\(query["limit"] ?? "")\"")
        }
        var wait = Duration.zero
        if let text = query["wait"] {
            guard let ms = Millis(parsing: text), ms.milliseconds >= 0, ms.milliseconds <= 60_000 else {
                return .error(400, "wait: expected a duration of at most 60s like 25s or 500ms, found \"\(text)\"")
            }
            wait = .milliseconds(ms.milliseconds)
        }
        let bus = loop.events
        let events = await bus.next(after: after, limit: limit, timeout: wait)
        let next = events.last?.seq ?? (after > bus.lastSeq ? bus.lastSeq : after)
        return APIResponse(status: 200, body: EventsDocument(epoch: bus.epoch, events: events, next: next).jsonText())
    }

    private func journalResponse(_ query: [String: String]) async -> APIResponse {
        guard let journal else { return .error(503, "this berth watch runs without a journal") }
        let parameters: JournalQuery.Parameters
        switch JournalQuery.parameters(query, now: Date()) {
        case .success(let p): parameters = p
        case .failure(let refusal): return .error(400, refusal.message)
        }
        do {
            let records = try await journal.records(service: parameters.service, since: parameters.since, limit: parameters.limit)
            return APIResponse(status: 200, body: JournalDocument(project: loop.project, records: records).jsonText())
        } catch {
            return .error(500, "\(error)")
        }
    }
}
