public import NIOCore
import NIOHTTP1
public import NIOPosix

/// Berth's one HTTP/1.1 server, on NIO: whole request in, whole response out, one async
/// handler call per request. It serves `berth watch`'s API and `berth proxy`'s control API.
///
/// The requests of one connection are answered one at a time, in the order they arrived
/// (also when a client pipelines them); other connections are served meanwhile, so a slow
/// answer (a drain waits up to its grace period) holds up only its own connection. A
/// request body over `maxBodyBytes` is answered 413 and the connection closed. `limits`
/// caps the connections and the time a request may take to arrive (see `ConnectionLimits`).
public final class HTTPServer: Sendable {
    /// One request, fully read.
    public struct Request: Sendable {
        public var method: String
        /// Path and query, as sent: `/api/v1/journal?limit=5`.
        public var uri: String
        public var headers: [(String, String)]
        public var body: [UInt8]

        public init(method: String, uri: String, headers: [(String, String)] = [], body: [UInt8] = []) {
            self.method = method
            self.uri = uri
            self.headers = headers
            self.body = body
        }

        /// The path without the query.
        public var path: String {
            String(uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        }

        /// The first header of that name, case-insensitively.
        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    public struct Response: Sendable, Equatable {
        public var status: Int
        public var contentType: String
        public var body: [UInt8]
        /// Written in name order, after Content-Type and Content-Length.
        public var headers: [String: String]
        /// When set, `body` is ignored and the body is streamed instead (server-sent events):
        /// the head goes out without a Content-Length (chunked), then `stream` writes until
        /// it returns, and the connection is closed.
        public var stream: BodyStream?

        public init(
            status: Int, contentType: String = "application/json", body: [UInt8], headers: [String: String] = [:],
            stream: BodyStream? = nil
        ) {
            self.status = status
            self.contentType = contentType
            self.body = body
            self.headers = headers
            self.stream = stream
        }
    }

    /// A response body written piece by piece, for as long as the producer runs. The
    /// producer is cancelled when the client goes away; each `write` flushes.
    public struct BodyStream: Sendable, Equatable {
        public typealias Producer = @Sendable (BodyWriter) async -> Void
        private let id: ObjectIdentifier
        private let box: Box
        public var produce: Producer { box.produce }

        public init(_ produce: @escaping Producer) {
            box = Box(produce)
            id = ObjectIdentifier(box)
        }

        public static func == (a: BodyStream, b: BodyStream) -> Bool { a.id == b.id }

        private final class Box: Sendable {
            let produce: Producer
            init(_ produce: @escaping Producer) { self.produce = produce }
        }
    }

    /// Writes the pieces of a streamed body to one connection.
    public struct BodyWriter: Sendable {
        public struct Closed: Error, CustomStringConvertible {
            public var description: String { "the client closed the connection" }
        }
        let channel: any Channel

        /// Writes and flushes `bytes`; throws `Closed` once the client went away.
        public func write(_ bytes: [UInt8]) async throws {
            guard channel.isActive else { throw Closed() }
            var buffer = channel.allocator.buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            do {
                try await channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(buffer)))
            } catch {
                throw Closed()
            }
        }

        public func write(_ text: String) async throws { try await write(Array(text.utf8)) }
    }

    public typealias Handler = @Sendable (Request) async -> Response

    private let channel: any Channel
    /// The address bound.
    public let host: String
    /// The port bound (port 0 picks a free one).
    public let port: Int

    private init(channel: any Channel, host: String, port: Int) {
        self.channel = channel
        self.host = host
        self.port = port
    }

    /// Binds `host:port` and serves `handler` until `close()`.
    public static func start(
        host: String, port: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        maxBodyBytes: Int = 1 << 20, limits: ConnectionLimits = .standard, handler: @escaping Handler
    ) async throws -> HTTPServer {
        let book = ConnectionBook(limits: limits)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 64)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                // Full of connections with requests in flight: this one is closed at once.
                guard book.admit(channel) else { return channel.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel) }
                channel.closeFuture.whenComplete { _ in book.remove(channel) }
                // On the channel's event loop: the handler never leaves it.
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(ConnectionGuard(book: book))
                    try channel.pipeline.syncOperations.addHandler(
                        RequestHandler(handler: handler, maxBodyBytes: maxBodyBytes))
                }
            }
            .bind(host: host, port: port).get()
        return HTTPServer(channel: channel, host: host, port: channel.localAddress?.port ?? port)
    }

    /// Stops accepting connections (open ones finish their exchange).
    public func close() async {
        try? await channel.close()
    }
}

/// Collects each request (head, body, end), runs the handler, writes the answer. Bound to
/// its channel's event loop (not Sendable): every property is touched only there, and the
/// handler's answers come back to the loop through `NIOLoopBound`.
private final class RequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private struct Pending {
        var request: HTTPServer.Request
        var version: HTTPVersion
        var keepAlive: Bool
        var isHead: Bool
    }

    let handler: HTTPServer.Handler
    let maxBodyBytes: Int
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false
    /// Complete requests not answered yet, oldest first; the first is being handled when `busy`.
    private var queue: [Pending] = []
    private var busy = false
    private var closed = false
    /// The producer of a streamed body in flight (cancelled when the client goes away).
    private var streaming: Task<Void, Never>?

    init(handler: @escaping HTTPServer.Handler, maxBodyBytes: Int) {
        self.handler = handler
        self.maxBodyBytes = maxBodyBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = []
            tooLarge = false
        case .body(var buffer):
            if tooLarge { return }
            if body.count + buffer.readableBytes > maxBodyBytes {
                tooLarge = true
                body = []
                return
            }
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head else { return }
            self.head = nil
            if tooLarge {
                let response = HTTPServer.Response(
                    status: 413, contentType: "text/plain; charset=utf-8",
                    body: Array("request body over \(maxBodyBytes) bytes\n".utf8))
                if !busy && queue.isEmpty {
                    closed = true
                    write(response, context: context, version: head.version, keepAlive: false, isHead: false)
                } else {
                    context.close(promise: nil)
                }
                return
            }
            let request = HTTPServer.Request(
                method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) },
                body: body)
            body = []
            queue.append(
                Pending(request: request, version: head.version, keepAlive: head.isKeepAlive, isHead: head.method == .HEAD))
            next(context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        queue = []
        streaming?.cancel()
        streaming = nil
        context.fireChannelInactive()
    }

    /// The client reads its answers again: go on with the requests it sent.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { next(context: context) }
        context.fireChannelWritabilityChanged()
    }

    /// Starts the oldest unanswered request unless one is in flight, or the answers already
    /// written wait for the client to read them (see `ConnectionGuard`).
    private func next(context: ChannelHandlerContext) {
        guard !busy, !closed, context.channel.isWritable, let pending = queue.first else { return }
        busy = true
        let handler = self.handler
        let request = pending.request
        let loop = context.eventLoop
        let promise = loop.makePromise(of: HTTPServer.Response.self)
        promise.completeWithTask { await handler(request) }
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: loop)
        promise.futureResult.whenSuccess { response in
            let (handler, context) = bound.value
            handler.finish(response, context: context)
        }
    }

    private func finish(_ response: HTTPServer.Response, context: ChannelHandlerContext) {
        busy = false
        guard !closed, !queue.isEmpty else { return }
        let pending = queue.removeFirst()
        if let stream = response.stream, !pending.isHead {
            queue = []
            closed = true
            startStream(response, stream: stream, context: context, version: pending.version)
            return
        }
        write(response, context: context, version: pending.version, keepAlive: pending.keepAlive, isHead: pending.isHead)
        if pending.keepAlive {
            next(context: context)
        } else {
            queue = []
        }
    }

    /// The head without a length (NIO frames the body chunked), then the producer's pieces,
    /// then the end and a close. Later requests on the connection are not read.
    private func startStream(
        _ response: HTTPServer.Response, stream: HTTPServer.BodyStream, context: ChannelHandlerContext,
        version: HTTPVersion
    ) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        for (name, value) in response.headers.sorted(by: { $0.key < $1.key }) { headers.add(name: name, value: value) }
        headers.add(name: "Connection", value: "close")
        let head = HTTPResponseHead(
            version: version, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        context.writeAndFlush(wrapOutboundOut(.head(head)), promise: nil)
        let channel = context.channel
        let writer = HTTPServer.BodyWriter(channel: channel)
        streaming = Task {
            await stream.produce(writer)
            if channel.isActive {
                try? await channel.writeAndFlush(HTTPServerResponsePart.end(nil))
            }
            try? await channel.close()
        }
    }

    private func write(
        _ response: HTTPServer.Response, context: ChannelHandlerContext, version: HTTPVersion, keepAlive: Bool,
        isHead: Bool
    ) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: "\(response.body.count)")
        for (name, value) in response.headers.sorted(by: { $0.key < $1.key }) { headers.add(name: name, value: value) }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(
            version: version, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if !isHead {
            var buffer = context.channel.allocator.buffer(capacity: response.body.count)
            buffer.writeBytes(response.body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
