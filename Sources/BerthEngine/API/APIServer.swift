import NIOCore
import NIOHTTP1
import NIOPosix

/// A small HTTP/1.1 server (NIOHTTP1) in front of an `APIRouter`.
public final class APIServer: Sendable {
    private let channel: any Channel
    /// The address actually bound (port 0 picks a free one).
    public let host: String
    public let port: Int

    private init(channel: any Channel, host: String, port: Int) {
        self.channel = channel
        self.host = host
        self.port = port
    }

    /// Binds `host:port` and serves `router` until `close()`.
    public static func start(host: String, port: Int, router: APIRouter) async throws -> APIServer {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.backlog, value: 64)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline(withErrorHandling: true).flatMap {
                    channel.pipeline.addHandler(HTTPHandler(router: router))
                }
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        let bound = channel.localAddress?.port ?? port
        return APIServer(channel: channel, host: host, port: bound)
    }

    public func close() async {
        try? await channel.close()
    }
}

/// Collects one request (head, body, end), runs the router, writes the answer.
private final class HTTPHandler: ChannelInboundHandler, @unchecked Sendable {
    // Touched only on the channel's event loop.
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let router: APIRouter
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(router: APIRouter) { self.router = router }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = []
        case .body(var buffer):
            if body.count < 1 << 20, let bytes = buffer.readBytes(length: buffer.readableBytes) { body += bytes }
        case .end:
            guard let head else { return }
            self.head = nil
            let request = APIRequest(
                method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) }, body: body)
            let keepAlive = head.isKeepAlive
            let version = head.version
            let isHead = head.method == .HEAD
            let router = self.router
            let loop = context.eventLoop
            let promise = loop.makePromise(of: APIResponse.self)
            promise.completeWithTask { await router.handle(request) }
            let ctx = NIOLoopBound(context, eventLoop: loop)
            promise.futureResult.whenSuccess { [self] response in
                self.write(response, context: ctx.value, version: version, keepAlive: keepAlive, isHead: isHead)
            }
        }
    }

    private func write(_ response: APIResponse, context: ChannelHandlerContext, version: HTTPVersion, keepAlive: Bool, isHead: Bool) {
        var headers = HTTPHeaders()
        let bytes = Array(response.body.utf8)
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: "\(bytes.count)")
        for (name, value) in response.headers.sorted(by: { $0.key < $1.key }) { headers.add(name: name, value: value) }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if !isHead {
            var buffer = context.channel.allocator.buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
