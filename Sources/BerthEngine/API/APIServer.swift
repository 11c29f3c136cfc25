import BerthNet

/// `berth watch`'s HTTP API: Berth's one HTTP/1.1 server (`BerthNet.HTTPServer`) in front
/// of an `APIRouter`.
public final class APIServer: Sendable {
    private let server: HTTPServer
    /// The address actually bound.
    public var host: String { server.host }
    /// The port actually bound (port 0 picks a free one).
    public var port: Int { server.port }

    private init(server: HTTPServer) { self.server = server }

    /// Binds `host:port` and serves `router` until `close()`.
    public static func start(host: String, port: Int, router: APIRouter) async throws -> APIServer {
        let server = try await HTTPServer.start(host: host, port: port) { request in
            let response = await router.handle(request)
            return HTTPServer.Response(
                status: response.status, contentType: response.contentType, body: Array(response.body.utf8),
                headers: response.headers)
        }
        return APIServer(server: server)
    }

    public func close() async {
        await server.close()
    }
}
