import NIOCore
import NIOHTTP1
import NIOPosix

/// One HTTP/1.1 exchange per connection over a unix socket or TCP, on NIO. Content-Length,
/// chunked and read-until-close bodies are all decoded by NIOHTTP1. Also used for Berth's
/// own HTTP health probes against container addresses.
struct HTTPTransport: Sendable {
    struct Response: Sendable {
        var status: Int
        var body: [UInt8]
    }

    /// A streamed response: the status, then the body as it arrives.
    struct Streaming: Sendable {
        var status: Int
        var body: AsyncThrowingStream<[UInt8], any Error>
    }

    /// Raised when no connection could be made (the endpoint is described by the caller).
    struct ConnectFailure: Error, CustomStringConvertible {
        var underlying: any Error
        var description: String { Self.explain(underlying) }

        static func explain(_ error: any Error) -> String {
            if let io = error as? IOError {
                switch io.errnoCode {
                case 2: return "no such socket file"
                case 13: return "permission denied (run as root or join the docker group)"
                case 111: return "connection refused"
                default: return "\(io)"
                }
            }
            if let multi = error as? NIOConnectionError, let first = multi.connectionErrors.first {
                return explain(first.error)
            }
            if error is ChannelError, case .connectTimeout = error as! ChannelError { return "connect timed out" }
            return "\(error)"
        }
    }

    var endpoint: DockerEndpoint
    var connectTimeout: TimeAmount = .seconds(5)

    private typealias Connection = NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>

    private func connect() async throws -> Connection {
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(connectTimeout)
        let initializer: @Sendable (any Channel) -> EventLoopFuture<Connection> = { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHTTPClientHandlers()
                return try Connection(wrappingChannelSynchronously: channel)
            }
        }
        do {
            switch endpoint {
            case .unix(let path):
                return try await bootstrap.connect(unixDomainSocketPath: path, channelInitializer: initializer)
            case .tcp(let host, let port):
                return try await bootstrap.connect(host: host, port: port, channelInitializer: initializer)
            }
        } catch {
            throw ConnectFailure(underlying: error)
        }
    }

    private var hostHeader: String {
        switch endpoint {
        case .unix: "docker"
        case .tcp(let host, let port): "\(host):\(port)"
        }
    }

    private func writeRequest(
        _ outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>, method: HTTPMethod, uri: String,
        body: [UInt8]?
    ) async throws {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: uri)
        head.headers.add(name: "Host", value: hostHeader)
        head.headers.add(name: "User-Agent", value: "berth")
        head.headers.add(name: "Connection", value: "close")
        if let body {
            head.headers.add(name: "Content-Type", value: "application/json")
            head.headers.add(name: "Content-Length", value: "\(body.count)")
        } else if method == .POST || method == .PUT {
            head.headers.add(name: "Content-Length", value: "0")
        }
        var parts: [HTTPClientRequestPart] = [.head(head)]
        if let body, !body.isEmpty { parts.append(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
        parts.append(.end(nil))
        // One write, one flush: the engine may answer and close as soon as it has the head
        // of a body-less request, and a separate later write of `.end` would then fail.
        do {
            try await outbound.write(contentsOf: parts)
        } catch {
            // The answer may already be in; reading it tells.
        }
    }

    /// Sends one request and reads the whole response.
    func send(_ method: HTTPMethod, _ uri: String, body: [UInt8]? = nil) async throws -> Response {
        let connection = try await connect()
        return try await connection.executeThenClose { inbound, outbound in
            try await writeRequest(outbound, method: method, uri: uri, body: body)
            var status = 0
            var bytes: [UInt8] = []
            for try await part in inbound {
                switch part {
                case .head(let head): status = Int(head.status.code)
                case .body(let buffer): bytes.append(contentsOf: buffer.readableBytesView)
                case .end: return Response(status: status, body: bytes)
                }
            }
            throw HTTPTransportError.closedEarly
        }
    }

    /// Sends one request and streams the response body; cancelling the consumer closes the
    /// connection.
    func stream(_ method: HTTPMethod, _ uri: String, body: [UInt8]? = nil) async throws -> Streaming {
        let connection = try await connect()
        let (statusStream, statusContinuation) = AsyncThrowingStream<Int, any Error>.makeStream()
        let (bodyStream, bodyContinuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        let task = Task {
            do {
                try await connection.executeThenClose { inbound, outbound in
                    try await writeRequest(outbound, method: method, uri: uri, body: body)
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
                    throw HTTPTransportError.closedEarly
                }
            } catch {
                statusContinuation.finish(throwing: error)
                bodyContinuation.finish(throwing: error)
            }
        }
        bodyContinuation.onTermination = { _ in task.cancel() }
        var iterator = statusStream.makeAsyncIterator()
        guard let status = try await iterator.next() else { throw HTTPTransportError.closedEarly }
        return Streaming(status: status, body: bodyStream)
    }
}

enum HTTPTransportError: Error, CustomStringConvertible {
    case closedEarly
    var description: String { "the connection closed before the response was complete" }
}

/// Runs `body`, throwing `DockerError.timedOut` (with `what`) if it takes longer than `limit`.
func withTimeout<T: Sendable>(
    _ limit: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw DockerError(.timedOut, "\(what): no answer within \(limit.formattedMillis)")
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

extension Duration {
    var formattedMillis: String {
        let (s, atto) = components
        let ms = s * 1000 + atto / 1_000_000_000_000_000
        return ms % 1000 == 0 ? "\(ms / 1000)s" : "\(ms)ms"
    }
}
