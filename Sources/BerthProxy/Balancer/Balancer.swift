public import Logging
import NIOConcurrencyHelpers
public import NIOCore
public import NIOPosix

/// Berth's TCP load balancer: one listening socket per published port, each client
/// connection forwarded to one ready replica of the port's service (see `EndpointTable`
/// for the choice). Connects that fail (refused, unreachable, timed out) are retried on
/// the next replica before the client has seen a single byte; only when no ready replica
/// is left is the client's connection closed.
public final class Balancer: Sendable {
    public let table: EndpointTable
    public let group: any EventLoopGroup
    public let bindHost: String
    public let connectTimeout: TimeAmount
    let logger: Logger

    private struct Listener {
        var service: String
        var channel: any Channel
    }

    private let listeners = NIOLockedValueBox<[Int: Listener]>([:])

    public init(
        table: EndpointTable = EndpointTable(), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        bindHost: String = "0.0.0.0", connectTimeout: TimeAmount = .seconds(2),
        logger: Logger = Logger(label: "berth.proxy")
    ) {
        self.table = table
        self.group = group
        self.bindHost = bindHost
        self.connectTimeout = connectTimeout
        self.logger = logger
    }

    /// Starts serving published port `publish` for `service`, listening on `bindPort`
    /// (default: the published port itself; 0 picks a free port, for tests). Returns the
    /// port the listener is bound to. Serving a port that already listens is a no-op.
    @discardableResult
    public func listen(publish: Int, service: String, bindPort: Int? = nil) async throws -> Int {
        if let existing = listeners.withLockedValue({ $0[publish] }) {
            return existing.channel.localAddress?.port ?? publish
        }
        guard table.publish(publish, service: service) else {
            throw ProxyError(
                "port \(publish) is already published by service \(table.service(publishedOn: publish) ?? "?"); "
                    + "service \(service) cannot publish it too: give one of them another `publish` port")
        }
        let channel: any Channel
        do {
            channel = try await serverBootstrap(publish: publish).bind(host: bindHost, port: bindPort ?? publish).get()
        } catch {
            table.unpublish(publish)
            throw ProxyError(
                "cannot listen on \(bindHost):\(bindPort ?? publish) for service \(service): \(error); "
                    + "is another process using the port?")
        }
        let raced: (any Channel)? = listeners.withLockedValue { listeners in
            if listeners[publish] != nil { return channel }
            listeners[publish] = Listener(service: service, channel: channel)
            return nil
        }
        if let raced { try? await raced.close() }
        logger.info(
            "listening", metadata: ["proxy.publish": "\(publish)", "service.name": "\(service)", "proxy.bind": "\(bindHost)"])
        return channel.localAddress?.port ?? publish
    }

    /// Stops listening on `publish`. Open connections are not touched.
    public func stopListening(publish: Int) async {
        let listener = listeners.withLockedValue { $0.removeValue(forKey: publish) }
        table.unpublish(publish)
        if let listener {
            try? await listener.channel.close()
            logger.info("stopped listening", metadata: ["proxy.publish": "\(publish)"])
        }
    }

    /// Published port → service, for the ports that listen now.
    public var listening: [Int: String] { listeners.withLockedValue { $0.mapValues(\.service) } }

    /// The port a published port's listener is bound to.
    public func boundPort(publish: Int) -> Int? {
        listeners.withLockedValue { $0[publish]?.channel.localAddress?.port }
    }

    /// Opens and closes listeners so that every port a known endpoint maps is served.
    public func syncListeners() async {
        let wanted = table.wantedListeners()
        let current = listening
        for (port, service) in wanted.sorted(by: { $0.key < $1.key }) where current[port] == nil {
            do {
                try await listen(publish: port, service: service)
            } catch {
                logger.error("\(error)")
            }
        }
        for port in current.keys.sorted() where wanted[port] == nil {
            await stopListening(publish: port)
        }
    }

    public func shutdown() async {
        for port in listening.keys.sorted() { await stopListening(publish: port) }
    }

    // MARK: - Connections

    private func serverBootstrap(publish: Int) -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            // Accept up to 16 connections per wake-up instead of NIO's default 4.
            .serverChannelOption(.maxMessagesPerRead, value: 16)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptHandler(balancer: self, publish: publish))
                }
            }
    }

    /// Connects `client` to a replica, retrying on others while connects fail.
    fileprivate func connect(client: any Channel, publish: Int, excluded: Set<String>) {
        guard client.isActive else { return }
        guard let lease = table.pick(port: publish, excluding: excluded) else {
            table.reject(port: publish)
            if !excluded.isEmpty {
                logger.warning(
                    "no replica accepted the connection",
                    metadata: ["proxy.publish": "\(publish)", "proxy.tried": "\(excluded.sorted())"])
            }
            client.close(promise: nil)
            return
        }
        let table = self.table
        let bootstrap = ClientBootstrap(group: client.eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelOption(.autoRead, value: false)
        // An IP literal connects straight to its address: no resolver (and no thread hop) on
        // the path of every connection.
        let connected = lease.address.map { bootstrap.connect(to: $0) } ?? bootstrap.connect(host: lease.host, port: lease.port)
        connected
            .whenComplete { [self] result in
                switch result {
                case .failure(let error):
                    table.release(lease, connectFailed: true)
                    logger.debug(
                        "connect failed, trying another replica",
                        metadata: ["proxy.instance": "\(lease.instance)", "error": "\(error)"])
                    connect(client: client, publish: publish, excluded: excluded.union([lease.instance]))
                case .success(let replica):
                    guard client.isActive else {
                        replica.close(promise: nil)
                        table.release(lease)
                        return
                    }
                    let (front, back) = GlueHandler.matchedPair(table: table, service: lease.service)
                    do {
                        try client.pipeline.syncOperations.addHandler(front)
                        try replica.pipeline.syncOperations.addHandler(back)
                    } catch {
                        client.close(promise: nil)
                        replica.close(promise: nil)
                    }
                    client.closeFuture.and(replica.closeFuture).whenComplete { _ in table.release(lease) }
                    try? client.pipeline.syncOperations.handler(type: AcceptHandler.self).joined()
                    client.setOption(.autoRead, value: true).whenComplete { _ in }
                    replica.setOption(.autoRead, value: true).whenComplete { _ in }
                }
            }
    }
}

/// Starts the connect to a replica as soon as a client connection is active, and holds
/// whatever arrives before the replica is joined (the kernel may report data and the
/// client's FIN while autoRead is still off), to replay it into the glue.
private final class AcceptHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    let balancer: Balancer
    let publish: Int
    private var context: ChannelHandlerContext?
    private var held: [ByteBuffer] = []
    private var heldInputClosed = false

    init(balancer: Balancer, publish: Int) {
        self.balancer = balancer
        self.publish = publish
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func channelActive(context: ChannelHandlerContext) {
        balancer.connect(client: context.channel, publish: publish, excluded: [])
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        held.append(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {}

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            heldInputClosed = true
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// The glue follows this handler now: replay what was held, then step aside.
    func joined() {
        guard let context else { return }
        let held = self.held
        let inputClosed = heldInputClosed
        self.held = []
        for buffer in held { context.fireChannelRead(NIOAny(buffer)) }
        if !held.isEmpty { context.fireChannelReadComplete() }
        if inputClosed { context.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}

/// A proxy error, worded for the operator.
public struct ProxyError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
