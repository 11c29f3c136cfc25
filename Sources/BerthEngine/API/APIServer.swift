import BerthNet

/// `berth watch`'s HTTP API: Berth's one HTTP/1.1 server (`BerthNet.HTTPServer`) in front
/// of an `APIRouter`.
public final class APIServer: Sendable {
    private let server: HTTPServer
    private let ui: WebUI?
    /// The address actually bound.
    public var host: String { server.host }
    /// The port actually bound (port 0 picks a free one).
    public var port: Int { server.port }

    private init(server: HTTPServer, ui: WebUI?) {
        self.server = server
        self.ui = ui
    }

    /// Binds `host:port` and serves `router` until `close()`, with at most `maxConnections`
    /// connections open at once (see `ConnectionLimits`).
    public static func start(
        host: String, port: Int, maxConnections: Int = 512, router: APIRouter
    ) async throws -> APIServer {
        var limits = ConnectionLimits.standard
        limits.maxConnections = maxConnections
        let server = try await HTTPServer.start(host: host, port: port, limits: limits) { request in
            let response = await router.handle(request)
            if router.ui != nil, WebUI.owns(request.path) { return WebUI.encoded(response, for: request) }
            return HTTPServer.Response(
                status: response.status, contentType: response.contentType, body: Array(response.body.utf8),
                headers: response.headers, stream: response.stream)
        }
        return APIServer(server: server, ui: router.ui)
    }

    /// Stops accepting connections and ends the web UI's live streams.
    public func close() async {
        ui?.shutdown()
        await server.close()
    }
}
