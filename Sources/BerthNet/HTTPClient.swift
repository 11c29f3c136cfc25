import NIOCore
public import NIOHTTP1
import NIOPosix

/// Berth's one HTTP/1.1 client, on NIO: one exchange per connection (`Connection: close`),
/// over TCP or a unix socket. Content-Length, chunked and read-until-close bodies are all
/// decoded by NIOHTTP1. Used by the Docker Engine client (unix socket, streamed events),
/// the health prober (GET against an instance) and the balancer's control client.
///
/// No connection pool: every caller talks to a different peer each time (a fresh replica,
/// the local engine socket, a loopback control API), and a request a second at most per
/// peer does not pay for one.
public struct HTTPClient: Sendable {
    public enum Target: Sendable, Hashable, CustomStringConvertible {
        case tcp(host: String, port: Int)
        case unix(path: String)

        public var description: String {
            switch self {
            case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            case .unix(let path): "unix://\(path)"
            }
        }
    }

    public struct Response: Sendable {
        public var status: Int
        public var body: [UInt8]
        public init(status: Int, body: [UInt8]) {
            self.status = status
            self.body = body
        }
    }

    /// A streamed response: the status, then the body as it arrives.
    public struct Streaming: Sendable {
        public var status: Int
        public var body: AsyncThrowingStream<[UInt8], any Error>
    }

    /// No connection could be made; `description` says why in a few plain words.
    public struct ConnectFailure: Error, CustomStringConvertible {
        public var underlying: any Error
        public var description: String { Self.explain(underlying) }
        /// The socket's errno, when the failure was one.
        public var errnoCode: Int32? { Self.errno(of: underlying) }

        static func errno(of error: any Error) -> Int32? {
            if let io = error as? IOError { return io.errnoCode }
            if let multi = error as? NIOConnectionError, let first = multi.connectionErrors.first {
                return errno(of: first.error)
            }
            return nil
        }

        public static func explain(_ error: any Error) -> String {
            if let io = error as? IOError {
                switch io.errnoCode {
                case 2: return "no such socket file"
                case 13: return "permission denied"
                case 111: return "connection refused"
                default: return "\(io)"
                }
            }
            if let multi = error as? NIOConnectionError, let first = multi.connectionErrors.first {
                return explain(first.error)
            }
            if let channel = error as? ChannelError, case .connectTimeout = channel { return "connect timed out" }
            return "\(error)"
        }
    }

    /// The whole exchange took longer than the caller allowed.
    public struct TimedOut: Error, CustomStringConvertible {
        public var what: String
        public var limit: Duration
        public var description: String { "\(what): no answer within \(limit.formattedMillis)" }
    }

    public struct ClosedEarly: Error, CustomStringConvertible {
        public var description: String { "the connection closed before the response was complete" }
    }

    public var target: Target
    public var connectTimeout: Duration
    /// The `Host` header (default: `host:port` over TCP, `localhost` over a unix socket).
    public var hostHeader: String
    /// Sent with every request after the standard ones, e.g. `("Authorization", "Bearer …")`.
    public var extraHeaders: [(name: String, value: String)] = []

    public init(_ target: Target, connectTimeout: Duration = .seconds(5), hostHeader: String? = nil) {
        self.target = target
        self.connectTimeout = connectTimeout
        switch target {
        case .tcp: self.hostHeader = hostHeader ?? target.description
        case .unix: self.hostHeader = hostHeader ?? "localhost"
        }
    }

    private typealias Connection = NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>

    private func connect() async throws -> Connection {
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.nanoseconds(max(1, connectTimeout.nanoseconds)))
        let initializer: @Sendable (any Channel) -> EventLoopFuture<Connection> = { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHTTPClientHandlers()
                return try Connection(wrappingChannelSynchronously: channel)
            }
        }
        do {
            switch target {
            case .unix(let path):
                return try await bootstrap.connect(unixDomainSocketPath: path, channelInitializer: initializer)
            case .tcp(let host, let port):
                return try await bootstrap.connect(host: host, port: port, channelInitializer: initializer)
            }
        } catch {
            throw ConnectFailure(underlying: error)
        }
    }

    private func writeRequest(
        _ outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>, method: HTTPMethod, uri: String,
        body: [UInt8]?, contentType: String, headers: [(String, String)] = []
    ) async throws {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: uri)
        head.headers.add(name: "Host", value: hostHeader)
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        head.headers.add(name: "User-Agent", value: "berth")
        head.headers.add(name: "Connection", value: "close")
        for header in extraHeaders { head.headers.add(name: header.name, value: header.value) }
        if let body {
            head.headers.add(name: "Content-Type", value: contentType)
            head.headers.add(name: "Content-Length", value: "\(body.count)")
        } else if method == .POST || method == .PUT {
            head.headers.add(name: "Content-Length", value: "0")
        }
        var parts: [HTTPClientRequestPart] = [.head(head)]
        if let body, !body.isEmpty { parts.append(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
        parts.append(.end(nil))
        // One write, one flush: a server may answer and close as soon as it has the head of
        // a body-less request, and a separate later write of `.end` would then fail.
        do {
            try await outbound.write(contentsOf: parts)
        } catch {
            // The answer may already be in; reading it tells.
        }
    }

    /// Sends one request and reads the whole response. With `timeout`, the whole exchange
    /// (connect included) throws `TimedOut` once it has taken that long.
    public func send(
        _ method: HTTPMethod, _ uri: String, body: [UInt8]? = nil, contentType: String = "application/json",
        headers: [(String, String)] = [], timeout: Duration? = nil
    ) async throws -> Response {
        guard let timeout else { return try await exchange(method, uri, body: body, contentType: contentType, headers: headers) }
        let what = "\(method) \(url(uri))"
        return try await withTimeout(timeout, TimedOut(what: what, limit: timeout)) {
            try await exchange(method, uri, body: body, contentType: contentType, headers: headers)
        }
    }

    /// `http://host:port/path` (or `unix:///socket/path` + path), for messages.
    public func url(_ uri: String) -> String {
        switch target {
        case .tcp: "http://\(target)\(uri)"
        case .unix: "\(target)\(uri)"
        }
    }

    private func exchange(
        _ method: HTTPMethod, _ uri: String, body: [UInt8]?, contentType: String, headers: [(String, String)]
    ) async throws -> Response {
        let connection = try await connect()
        return try await connection.executeThenClose { inbound, outbound in
            try await writeRequest(outbound, method: method, uri: uri, body: body, contentType: contentType, headers: headers)
            var status = 0
            var bytes: [UInt8] = []
            for try await part in inbound {
                switch part {
                case .head(let head): status = Int(head.status.code)
                case .body(let buffer): bytes.append(contentsOf: buffer.readableBytesView)
                case .end: return Response(status: status, body: bytes)
                }
            }
            throw ClosedEarly()
        }
    }

    /// Sends one request and streams the response body; cancelling the consumer closes the
    /// connection. `headers` are sent as given (never logged: one may carry credentials).
    public func stream(
        _ method: HTTPMethod, _ uri: String, body: [UInt8]? = nil, headers: [(String, String)] = []
    ) async throws -> Streaming {
        let connection = try await connect()
        let (statusStream, statusContinuation) = AsyncThrowingStream<Int, any Error>.makeStream()
        let (bodyStream, bodyContinuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        let task = Task {
            do {
                try await connection.executeThenClose { inbound, outbound in
                    try await writeRequest(
                        outbound, method: method, uri: uri, body: body, contentType: "application/json", headers: headers)
                    for try await part in inbound {
                        switch part {
                        case .head(let head):
                            statusContinuation.yield(Int(head.status.code))
                            statusContinuation.finish()
                        case .body(let buffer): bodyContinuation.yield(Array(buffer.readableBytesView))
                        case .end:
                            bodyContinuation.finish()
                            return
                        }
                    }
                    throw ClosedEarly()
                }
            } catch {
                statusContinuation.finish(throwing: error)
                bodyContinuation.finish(throwing: error)
            }
        }
        bodyContinuation.onTermination = { _ in task.cancel() }
        var iterator = statusStream.makeAsyncIterator()
        guard let status = try await iterator.next() else { throw ClosedEarly() }
        return Streaming(status: status, body: bodyStream)
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, atto) = components
        return seconds * 1_000_000_000 + atto / 1_000_000_000
    }
}
