public import BerthCore
import CEpoll
import Foundation
public import Logging
import NIOConcurrencyHelpers
public import NIOCore
public import NIOPosix

/// Berth's TCP load balancer: listens on every published port, each client connection
/// forwarded to one ready replica of the port's service (see `EndpointTable` for the
/// choice). Connects that fail (refused, unreachable, timed out) are retried on the next
/// replica before the client has seen a single byte; only when no ready replica is left is
/// the client's connection closed.
///
/// The data plane runs on `RelayLoop`s (one thread per core, epoll, each listening socket
/// watched by all of them); `group` serves the control plane.
public final class Balancer: Sendable {
    public let table: EndpointTable
    public let group: any EventLoopGroup
    public let bindHost: String
    public let connectTimeout: TimeAmount
    /// Keep HTTP/1.1 clients connected when a replica closes after each response (see
    /// `ClosingResponse`).
    public let httpKeepAlive: Bool
    /// How long a connection of a standby service is held for want of a ready replica (`Standby`).
    public let holdLimit: TimeAmount
    /// The most client connections on each published port (`--max-connections`; `PortBudget`).
    let ports: PortBudget
    let logger: Logger

    private struct Listener {
        var service: String
        var port: Int
        /// The listening socket, watched by every relay loop.
        var fd: Int32
    }

    private let listeners = NIOLockedValueBox<[Int: Listener]>([:])

    public init(
        table: EndpointTable = EndpointTable(), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        bindHost: String = "0.0.0.0", connectTimeout: TimeAmount = .seconds(2), httpKeepAlive: Bool = true,
        holdLimit: TimeAmount = Standby.holdLimit, maxConnectionsPerPort: Int? = nil,
        logger: Logger = Logger(label: "berth.proxy")
    ) {
        self.holdLimit = holdLimit
        self.ports = PortBudget(limit: maxConnectionsPerPort)
        self.table = table
        self.group = group
        self.bindHost = bindHost
        self.connectTimeout = connectTimeout
        self.httpKeepAlive = httpKeepAlive
        self.logger = logger
    }

    /// Starts serving published port `publish` for `service`, listening on `bindPort`
    /// (default: the published port itself; 0 picks a free port, for tests). Returns the
    /// port the listener is bound to. Serving a port that already listens is a no-op.
    @discardableResult
    public func listen(publish: Int, service: String, bindPort: Int? = nil) async throws -> Int {
        // Checked, bound and taken under the lock: `syncListeners` runs from several tasks,
        // and a second listen of the port would fail to bind it (address in use) and
        // unpublish it from the table under the first one's open listener.
        let (port, fd): (Int, Int32?) = try listeners.withLockedValue { listeners in
            if let existing = listeners[publish] { return (existing.port, nil) }
            guard table.publish(publish, service: service) else {
                throw ProxyError(
                    "port \(publish) is already published by service \(table.service(publishedOn: publish) ?? "?"); "
                        + "service \(service) cannot publish it too: give one of them another `publish` port")
            }
            let fd: Int32
            do {
                fd = try Self.listeningSocket(host: bindHost, port: bindPort ?? publish)
            } catch {
                table.unpublish(publish)
                throw ProxyError(
                    "cannot listen on \(bindHost):\(bindPort ?? publish) for service \(service): \(error); "
                        + "is another process using the port?")
            }
            let port = Int(cepoll_local_port(fd))
            listeners[publish] = Listener(service: service, port: port, fd: fd)
            return (port, fd)
        }
        guard let fd else { return port }
        let listener = RelayListener(fd: fd, publish: publish, balancer: self)
        for loop in RelayLoop.shared {
            await loop.submit { $0.addListener(listener) }
        }
        logger.info(
            "listening", metadata: ["proxy.publish": "\(publish)", "service.name": "\(service)", "proxy.bind": "\(bindHost)"])
        return port
    }

    /// A non-blocking listening socket.
    static func listeningSocket(host: String, port: Int) throws -> Int32 {
        let address: SocketAddress
        do {
            address = try SocketAddress(ipAddress: host, port: port)
        } catch {
            address = try SocketAddress.makeAddressResolvingHost(host, port: port)
        }
        let fd = cepoll_tcp_socket(address.protocol == .inet6 ? AF_INET6 : AF_INET)
        guard fd >= 0 else { throw ProxyError("socket(): \(String(cString: strerror(cepoll_errno())))") }
        func fail(_ call: String) -> ProxyError {
            let error = ProxyError("\(call): \(String(cString: strerror(cepoll_errno())))")
            close(fd)
            return error
        }
        guard cepoll_set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) == 0 else { throw fail("setsockopt(SO_REUSEADDR)") }
        // Accepted sockets inherit TCP_NODELAY from the listening one.
        guard cepoll_nodelay(fd) == 0 else { throw fail("setsockopt(TCP_NODELAY)") }
        guard address.withSockAddr({ bind(fd, $0, socklen_t($1)) }) == 0 else { throw fail("bind()") }
        guard Glibc.listen(fd, 4096) == 0 else { throw fail("listen()") }
        return fd
    }

    /// Stops listening on `publish`. Open connections are not touched.
    public func stopListening(publish: Int) async {
        let listener = listeners.withLockedValue { $0.removeValue(forKey: publish) }
        table.unpublish(publish)
        if let listener {
            let fd = listener.fd
            for loop in RelayLoop.shared {
                await loop.submit { $0.removeListener(fd: fd) }
            }
            close(fd)
            logger.info("stopped listening", metadata: ["proxy.publish": "\(publish)"])
        }
    }

    /// Published port → service, for the ports that listen now.
    public var listening: [Int: String] { listeners.withLockedValue { $0.mapValues(\.service) } }

    /// The port a published port's listener is bound to.
    public func boundPort(publish: Int) -> Int? {
        listeners.withLockedValue { $0[publish]?.port }
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

    var holdLimitMs: UInt64 { UInt64(max(0, holdLimit.nanoseconds / 1_000_000)) }

    /// Declares the standby services (see `Standby`) and opens their listeners.
    public func declare(_ services: [StandbyService]) async {
        table.declare(services)
        await syncListeners()
    }

    /// A replica became ready: held connections look for it now.
    public func wakeHeld() {
        for loop in RelayLoop.shared { loop.execute { $0.retryHeld() } }
    }

    public func shutdown() async {
        for port in listening.keys.sorted() { await stopListening(publish: port) }
    }
}

/// A proxy error, worded for the operator.
public struct ProxyError: Error, CustomStringConvertible, Sendable {
    public var message: String
    /// True when nothing answered at the control API's address (as opposed to a proxy
    /// that answered with an error).
    public var unreachable: Bool
    public init(_ message: String, unreachable: Bool = false) {
        self.message = message
        self.unreachable = unreachable
    }
    public var description: String { message }
}
