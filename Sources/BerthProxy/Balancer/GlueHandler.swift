import NIOCore

/// Joins two channels on the same event loop: what one reads, the other writes.
///
/// - Back-pressure: a side reads (the `read` outbound event, which autoRead sends after
///   every read) only while its partner is writable; when the partner becomes writable
///   again, the pending read is issued. So a slow reader on one side stops reads on the other
///   instead of queueing bytes in memory.
/// - Flushes once per read burst (`channelReadComplete`), not once per write.
/// - Half-close: end of input on one side shuts the other side's output (TCP FIN passes
///   through); NIO closes a socket fully once both of its directions are shut.
/// - Close on one side finishes the other (queued bytes are still delivered, then FIN,
///   then close); an error on one side closes both at once.
/// - Accounting: the client side counts bytes and HTTP/1.x request lines, the replica side
///   bytes, reported to the `EndpointTable` once per read burst.
final class GlueHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false

    /// Accounting (nil: not counted).
    private let table: EndpointTable?
    private let service: String
    private let isClientSide: Bool
    private var bytes = 0
    private var counter: HTTPRequestCounter?
    private var reportedRequests = 0

    private init(table: EndpointTable?, service: String, isClientSide: Bool) {
        self.table = table
        self.service = service
        self.isClientSide = isClientSide
        self.counter = isClientSide ? HTTPRequestCounter() : nil
    }

    /// (client side, replica side).
    static func matchedPair(table: EndpointTable?, service: String) -> (GlueHandler, GlueHandler) {
        let client = GlueHandler(table: table, service: service, isClientSide: true)
        let replica = GlueHandler(table: table, service: service, isClientSide: false)
        client.partner = replica
        replica.partner = client
        return (client, replica)
    }

    private func partnerWrite(_ buffer: ByteBuffer) {
        context?.write(NIOAny(buffer), promise: nil)
    }

    private func partnerFlush() {
        context?.flush()
    }

    private func partnerWriteEOF() {
        context?.close(mode: .output, promise: nil)
    }

    private func partnerCloseFull() {
        context?.close(promise: nil)
    }

    /// The other side is gone: deliver what is already queued for this side (flush, then
    /// FIN), then close fully. A peer that never reads is cut off after `lingerLimit`.
    private func partnerFinish() {
        guard let context else { return }
        context.flush()
        let channel = context.channel
        let closedOutput = context.eventLoop.makePromise(of: Void.self)
        context.close(mode: .output, promise: closedOutput)
        closedOutput.futureResult.whenComplete { _ in channel.close(promise: nil) }
        if channel.isActive {
            let timer = context.eventLoop.scheduleTask(in: Self.lingerLimit) { channel.close(promise: nil) }
            channel.closeFuture.whenComplete { _ in timer.cancel() }
        }
    }

    static let lingerLimit: TimeAmount = .seconds(30)

    private func partnerBecameWritable() {
        if pendingRead {
            pendingRead = false
            context?.read()
        }
    }

    private var partnerWritable: Bool { partner?.context?.channel.isWritable ?? false }

    private func report() {
        let requests = (counter?.requests ?? 0) - reportedRequests
        guard let table, bytes > 0 || requests > 0 else { return }
        reportedRequests += requests
        if isClientSide {
            table.account(service: service, bytesReceived: bytes, bytesSent: 0, httpRequests: requests)
        } else {
            table.account(service: service, bytesReceived: 0, bytesSent: bytes, httpRequests: 0)
        }
        bytes = 0
    }
}

extension GlueHandler: ChannelDuplexHandler {
    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        report()
        self.context = nil
        self.partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if table != nil {
            bytes += buffer.readableBytes
            if counter != nil, counter!.isCounting { _ = counter!.feed(buffer) }
        }
        partner?.partnerWrite(buffer)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.partnerFlush()
        report()
    }

    func channelInactive(context: ChannelHandlerContext) {
        report()
        partner?.partnerFinish()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            // The peer sent FIN: pass it on once what it sent before is written.
            partner?.partnerFlush()
            partner?.partnerWriteEOF()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        partner?.partnerCloseFull()
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            partner?.partnerBecameWritable()
        }
    }

    func read(context: ChannelHandlerContext) {
        if partnerWritable {
            context.read()
        } else {
            pendingRead = true
        }
    }
}

