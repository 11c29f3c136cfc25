import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// One HTTP request to the control API, fully read.
public struct ControlRequest: Sendable {
    public var method: String
    public var path: String
    public var body: [UInt8]
}

public struct ControlResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]

    public init(status: Int, contentType: String = "application/json", body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }
}

/// A small HTTP/1.1 server on NIO for the control API: whole request in, whole response
/// out, one async handler call per request (a drain may take as long as its grace period;
/// other requests on other connections are served meanwhile).
final class ControlHTTPServer: Sendable {
    typealias Handler = @Sendable (ControlRequest) async -> ControlResponse
    let channel: any Channel

    private init(channel: any Channel) { self.channel = channel }

    static func start(host: String, port: Int, group: any EventLoopGroup, handler: @escaping Handler) async throws
        -> ControlHTTPServer
    {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(RequestHandler(handler: handler))
                }
            }
            .bind(host: host, port: port).get()
        return ControlHTTPServer(channel: channel)
    }

    var port: Int { channel.localAddress?.port ?? 0 }

    func close() async { try? await channel.close() }
}

private final class RequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let handler: ControlHTTPServer.Handler
    var head: HTTPRequestHead?
    var body: [UInt8] = []

    init(handler: @escaping ControlHTTPServer.Handler) { self.handler = handler }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(var buffer):
            if body.count + buffer.readableBytes > 1 << 20 {
                context.close(promise: nil)
                return
            }
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head else { return }
            self.head = nil
            let request = ControlRequest(
                method: head.method.rawValue, path: head.uri, body: body)
            let keepAlive = head.isKeepAlive
            let handler = self.handler
            let channel = context.channel
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            Task {
                let response = await handler(request)
                channel.eventLoop.execute {
                    let context = loopBound.value
                    var headers = HTTPHeaders()
                    headers.add(name: "Content-Type", value: response.contentType)
                    headers.add(name: "Content-Length", value: "\(response.body.count)")
                    if !keepAlive { headers.add(name: "Connection", value: "close") }
                    let status = HTTPResponseStatus(statusCode: response.status)
                    context.write(
                        NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
                        promise: nil)
                    var buffer = context.channel.allocator.buffer(capacity: response.body.count)
                    buffer.writeBytes(response.body)
                    context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(buffer))), promise: nil)
                    let done = context.eventLoop.makePromise(of: Void.self)
                    context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: done)
                    if !keepAlive {
                        done.futureResult.whenComplete { _ in channel.close(promise: nil) }
                    }
                }
            }
        }
    }
}
