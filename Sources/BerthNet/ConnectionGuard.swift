public import NIOCore
import NIOConcurrencyHelpers
import NIOHTTP1

/// How many connections an `HTTPServer` keeps and for how long (issue 18, finding 6: 1,067
/// idle connections to `berth watch`'s API under a 1,024 descriptor limit made `/healthz`
/// time out and git and the Docker socket fail with "Too many open files", so a killed
/// container was not replaced for ~50 s; a malformed request got its 400 and the socket
/// stayed open; responses to pipelined requests that were never read piled up in memory).
public struct ConnectionLimits: Sendable, Hashable {
    /// Most connections open at once. A connection beyond it closes the one that has been
    /// idle (no request in flight) the longest; with none idle, the new one is closed.
    public var maxConnections: Int
    /// How long a connection may take to send a whole request (head and body), counted from
    /// its start or from its last answer; an idle keep-alive connection is closed after it
    /// too. A request being answered (a long poll) is never cut.
    public var requestTimeout: TimeAmount

    public init(maxConnections: Int, requestTimeout: TimeAmount) {
        self.maxConnections = maxConnections
        self.requestTimeout = requestTimeout
    }

    /// 512 connections, 30 s to send a request.
    public static let standard = ConnectionLimits(maxConnections: 512, requestTimeout: .seconds(30))
}

/// The open connections of one server, with when each became idle (nil: a request in flight).
final class ConnectionBook: Sendable {
    private struct Entry {
        let channel: any Channel
        var idleSince: NIODeadline?
    }

    let limits: ConnectionLimits
    private let entries = NIOLockedValueBox<[ObjectIdentifier: Entry]>([:])

    init(limits: ConnectionLimits) { self.limits = limits }

    var count: Int { entries.withLockedValue { $0.count } }

    /// Takes `channel` in: true, after closing the longest-idle connection if the book was
    /// full; false when it is full of connections with requests in flight.
    func admit(_ channel: any Channel) -> Bool {
        let (admitted, evicted): (Bool, (any Channel)?) = entries.withLockedValue { entries in
            var evicted: (any Channel)?
            if entries.count >= limits.maxConnections {
                var oldest: (key: ObjectIdentifier, since: NIODeadline)?
                for (key, entry) in entries {
                    guard let since = entry.idleSince else { continue }
                    if oldest == nil || since < oldest!.since { oldest = (key, since) }
                }
                guard let oldest else { return (false, nil) }
                evicted = entries.removeValue(forKey: oldest.key)?.channel
            }
            entries[ObjectIdentifier(channel)] = Entry(channel: channel, idleSince: .now())
            return (true, evicted)
        }
        evicted?.close(promise: nil)
        return admitted
    }

    func setIdle(_ channel: any Channel, _ idle: Bool) {
        entries.withLockedValue { entries in
            entries[ObjectIdentifier(channel)]?.idleSince = idle ? .now() : nil
        }
    }

    func remove(_ channel: any Channel) {
        _ = entries.withLockedValue { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }
}

/// Sits after NIO's HTTP handlers: marks the connection busy from a request's end to its
/// response's end, closes it when a request takes longer than `requestTimeout` to arrive,
/// stops reading while the client does not read its answers (so pipelined requests cannot
/// pile answers up in memory), and closes it after a malformed request (NIO has answered 400).
final class ConnectionGuard: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let book: ConnectionBook
    private var inFlight = 0
    private var timer: Scheduled<Void>?
    private var readPending = false

    init(book: ConnectionBook) { self.book = book }

    func handlerAdded(context: ChannelHandlerContext) {
        arm(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) {
            inFlight += 1
            timer?.cancel()
            timer = nil
            book.setIdle(context.channel, false)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), inFlight > 0 {
            inFlight -= 1
            if inFlight == 0 {
                book.setIdle(context.channel, true)
                arm(context: context)
            }
        }
        context.write(data, promise: promise)
    }

    func read(context: ChannelHandlerContext) {
        guard context.channel.isWritable else {
            readPending = true
            return
        }
        context.read()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, readPending {
            readPending = false
            context.read()
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError {
            // NIO's HTTPServerProtocolErrorHandler has written the 400 (Connection: close).
            context.close(promise: nil)
            return
        }
        context.fireErrorCaught(error)
    }

    /// Closes the connection unless a whole request arrives within the timeout.
    private func arm(context: ChannelHandlerContext) {
        timer?.cancel()
        let channel = context.channel
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: book.limits.requestTimeout) {
            guard bound.value.inFlight == 0 else { return }
            channel.close(promise: nil)
        }
    }
}
