@testable import BerthProxy
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// A local TCP backend on 127.0.0.1 for the balancer tests.
final class TestBackend: Sendable {
    enum Mode: Sendable {
        /// Sends "<name>\n" on accept, then echoes.
        case tagEcho
        /// Answers each request head (up to CRLFCRLF) with a 200 whose body is the name; keep-alive.
        case http
        /// Answers the first request head with a 200 `Connection: close` whose body is the
        /// name, then closes (as busybox httpd does).
        case httpClose
        /// Collects everything until the client's FIN, then answers "<name> got: <text>" and closes.
        case replyAfterEOF
        /// Sends "hello from <name>", shuts its output (FIN), and records what it receives after.
        case halfCloseFirst
        /// Writes `total` bytes as fast as the connection takes them, then closes.
        case flood(total: Int)
    }

    let name: String
    let channel: any Channel
    let stats: NIOLockedValueBox<Stats>

    struct Stats: Sendable {
        var accepted = 0
        var open = 0
        var received: [String] = []
        var written = 0
    }

    var port: Int { channel.localAddress!.port! }

    private init(name: String, channel: any Channel, stats: NIOLockedValueBox<Stats>) {
        self.name = name
        self.channel = channel
        self.stats = stats
    }

    static func start(_ name: String, _ mode: Mode) async throws -> TestBackend {
        let stats = NIOLockedValueBox(Stats())
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        BackendHandler(name: name, mode: mode, stats: stats))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return TestBackend(name: name, channel: channel, stats: stats)
    }

    func close() async { try? await channel.close() }

    /// What `.httpClose` answers.
    static func closingResponse(_ name: String) -> String {
        "HTTP/1.1 200 OK\r\nDate: today\r\nConnection: close\r\nContent-Length: \(name.utf8.count)\r\n\r\n\(name)"
    }

    var endpoint: Endpoint { Endpoint(instance: name, service: "web", host: "127.0.0.1", ports: [8081: port]) }
}

private final class BackendHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let name: String
    let mode: TestBackend.Mode
    let stats: NIOLockedValueBox<TestBackend.Stats>
    var collected: [UInt8] = []
    var remaining = 0

    init(name: String, mode: TestBackend.Mode, stats: NIOLockedValueBox<TestBackend.Stats>) {
        self.name = name
        self.mode = mode
        self.stats = stats
    }

    func channelActive(context: ChannelHandlerContext) {
        stats.withLockedValue {
            $0.accepted += 1
            $0.open += 1
        }
        switch mode {
        case .tagEcho:
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "\(name)\n")), promise: nil)
        case .halfCloseFirst:
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "hello from \(name)")), promise: nil)
            context.close(mode: .output, promise: nil)
        case .flood(let total):
            remaining = total
            flood(context: context)
        case .http, .httpClose, .replyAfterEOF:
            break
        }
    }

    func flood(context: ChannelHandlerContext) {
        let chunk = ByteBuffer(repeating: UInt8(ascii: "x"), count: 65536)
        while remaining > 0 && context.channel.isWritable {
            let size = min(remaining, chunk.readableBytes)
            remaining -= size
            stats.withLockedValue { $0.written += size }
            context.write(wrapOutboundOut(chunk.getSlice(at: 0, length: size)!), promise: nil)
        }
        if remaining == 0 {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(ByteBuffer())).whenComplete { _ in channel.close(promise: nil) }
        } else {
            context.flush()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if case .flood = mode, context.channel.isWritable, remaining > 0 { flood(context: context) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // With its output shut first, the end of input closes the socket fully (no
        // inputClosed event): record what arrived here.
        if case .halfCloseFirst = mode { stats.withLockedValue { $0.received.append(String(decoding: collected, as: UTF8.self)) } }
        stats.withLockedValue { $0.open -= 1 }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        switch mode {
        case .tagEcho:
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        case .http:
            collected += buffer.readBytes(length: buffer.readableBytes)!
            while let end = collected.firstRange(of: Array("\r\n\r\n".utf8)) {
                collected.removeSubrange(..<end.upperBound)
                let response = "HTTP/1.1 200 OK\r\nContent-Length: \(name.utf8.count)\r\n\r\n\(name)"
                context.write(wrapOutboundOut(ByteBuffer(string: response)), promise: nil)
            }
            context.flush()
        case .httpClose:
            collected += buffer.readBytes(length: buffer.readableBytes)!
            guard let end = collected.firstRange(of: Array("\r\n\r\n".utf8)) else { return }
            let head = String(decoding: collected[..<end.upperBound], as: UTF8.self)
            stats.withLockedValue { $0.received.append(head) }
            collected = []
            let response = TestBackend.closingResponse(name)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: response))).whenComplete { _ in
                channel.close(promise: nil)
            }
        case .replyAfterEOF, .halfCloseFirst:
            collected += buffer.readBytes(length: buffer.readableBytes)!
        case .flood:
            break
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let event = event as? ChannelEvent, case .inputClosed = event else { return }
        let text = String(decoding: collected, as: UTF8.self)
        switch mode {
        case .halfCloseFirst, .httpClose: break  // recorded elsewhere
        default: stats.withLockedValue { $0.received.append(text) }
        }
        switch mode {
        case .replyAfterEOF:
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "\(name) got: \(text)")))
                .whenComplete { _ in context.close(promise: nil) }
        default:
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// A client connection for the tests (async, half-close capable).
struct TestClient {
    let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>

    static func connect(port: Int) async throws -> TestClient {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(isOutboundHalfClosureEnabled: true))
                }
            }
        return TestClient(channel: channel)
    }

    /// Connects, optionally sends `text` (then FIN when `halfClose`), and reads until the
    /// server closes or `until` says enough.
    static func exchange(
        port: Int, send text: String? = nil, halfClose: Bool = false, until: @Sendable (String) -> Bool = { _ in false }
    ) async throws -> String {
        let client = try await connect(port: port)
        return try await client.channel.executeThenClose { inbound, outbound in
            if let text { try await outbound.write(ByteBuffer(string: text)) }
            if halfClose { outbound.finish() }
            var received = ""
            for try await chunk in inbound {
                received += String(buffer: chunk)
                if until(received) { break }
            }
            return received
        }
    }
}

/// Polls `condition` every 10 ms until it holds or `timeout` passes.
func eventually(
    _ timeout: Duration = .seconds(5), _ what: String = "condition", _ condition: @Sendable () -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        if ContinuousClock.now >= deadline { Issue.record("timed out waiting for \(what)"); return }
        try await Task.sleep(for: .milliseconds(10))
    }
}

/// A port on 127.0.0.1 where nothing listens (bound, then closed).
func refusedPort() async throws -> Int {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .bind(host: "127.0.0.1", port: 0).get()
    let port = channel.localAddress!.port!
    try await channel.close()
    return port
}

/// A balancer on 127.0.0.1 serving published port 8081 for service "web" on a free port.
func makeBalancer(httpKeepAlive: Bool = true) async throws -> (Balancer, Int) {
    let balancer = Balancer(bindHost: "127.0.0.1", httpKeepAlive: httpKeepAlive)
    let port = try await balancer.listen(publish: 8081, service: "web", bindPort: 0)
    return (balancer, port)
}
