import BerthCore
import CEpoll
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The balancer's data plane: one thread per core, each with its own epoll instance in which
/// every listening socket is registered with `EPOLLEXCLUSIVE` (one loop wakes per incoming
/// connection, whichever is free: on a busy machine a loop that is not scheduled does not
/// hold back the connections the kernel would have hashed to it with `SO_REUSEPORT`), and
/// the outbound connects of the connections it accepted: a connection lives on one thread
/// from accept to close, with no hop and no lock but the `EndpointTable`'s at pick and at
/// close.
///
/// Why not SwiftNIO's channels here: a proxied connection is two sockets that carry a few
/// hundred bytes each. NIO spends 13 `epoll_ctl`, 7 `getsockname`/`getpeername` and a dozen
/// futures on such a pair; this loop registers each socket once, edge-triggered, for
/// everything (as nginx does), which halves the CPU per connection. The control plane (HTTP
/// API, endpoint discovery) stays on NIO.
final class RelayLoop: @unchecked Sendable {
    /// The process-wide loops, one per core (started on first use).
    static let shared: [RelayLoop] = (0..<max(1, System.coreCount)).map { RelayLoop(index: $0) }

    static let bufferSize = 16 << 10
    static let sweepIntervalMs: UInt64 = 250
    static let acceptsPerWake = 1

    let index: Int
    let epoll: Int32
    private let wake: Int32
    /// Work posted from other threads, run on the loop thread.
    private let inbox = NIOLockedValueBox<[@Sendable (RelayLoop) -> Void]>([])

    // Loop-thread state.
    var slots: [Slot] = []
    var shortage = AcceptShortage()
    private var generation: UInt32 = 0
    private var buffers: [UnsafeMutableRawPointer] = []
    private var lastSweep: UInt64 = 0
    private var lastReport: UInt64 = 0
    /// Connections held for want of a ready replica of a standby service (`Standby`).
    private var held: [RelayConnection] = []
    private let scratch = UnsafeMutableRawPointer.allocate(byteCount: scratchSize, alignment: 16)
    static let scratchSize = 4096
    /// How long a replica may take to close after its complete response.
    static let closingLimitMs: UInt64 = 10_000

    enum Kind {
        case wake
        case listener(RelayListener)
        case client(RelayConnection)
        case replica(RelayConnection)
        /// A replica's socket whose response is complete and delivered, waiting for the
        /// replica's FIN (so the replica, not the balancer, keeps the TIME_WAIT), since `ms`.
        case closing(since: UInt64)
    }

    struct Slot {
        var generation: UInt32 = 0
        var kind: Kind?
    }

    private init(index: Int) {
        self.index = index
        epoll = cepoll_create()
        wake = cepoll_eventfd()
        precondition(epoll >= 0 && wake >= 0, "cannot create the balancer's epoll instance (errno \(cepoll_errno()))")
        _ = register(wake, .wake, events: CEPOLL_IN)
        let thread = Thread { [self] in run() }
        thread.name = "berth-relay-\(index)"
        thread.start()
    }

    // MARK: - From other threads

    /// Runs `work` on the loop thread.
    func execute(_ work: @escaping @Sendable (RelayLoop) -> Void) {
        inbox.withLockedValue { $0.append(work) }
        var one: UInt64 = 1
        _ = write(wake, &one, 8)
    }

    /// Runs `work` on the loop thread and waits for it.
    func submit<T: Sendable>(_ work: @escaping @Sendable (RelayLoop) -> T) async -> T {
        await withCheckedContinuation { continuation in
            execute { loop in continuation.resume(returning: work(loop)) }
        }
    }

    // MARK: - Listeners (loop thread)

    func addListener(_ listener: RelayListener) {
        if !register(listener.fd, .listener(listener), events: CEPOLL_IN | CEPOLL_EXCLUSIVE) {
            listener.balancer.logger.error(
                "cannot watch the listening socket of port \(listener.publish): errno \(cepoll_errno())")
        }
    }

    /// Stops accepting on `fd` (the caller closes it once every loop has let go of it).
    /// Connections already accepted go on.
    func removeListener(fd: Int32) {
        forgetPaused(fd: fd)
        guard Int(fd) < slots.count, case .listener = slots[Int(fd)].kind else { return }
        _ = cepoll_del(epoll, fd)
        slots[Int(fd)].kind = nil
    }

    // MARK: - The loop

    private func run() {
        let capacity: Int32 = 256
        let events = UnsafeMutableRawPointer.allocate(byteCount: cepoll_event_size() * Int(capacity), alignment: 16)
        while true {
            let count = cepoll_wait(epoll, events, capacity, Int32(Self.sweepIntervalMs))
            if count < 0 {
                if cepoll_errno() == EINTR { continue }
                fatalError("epoll_wait failed: errno \(cepoll_errno())")
            }
            for i in 0..<Int(count) {
                let data = cepoll_event_data(events, Int32(i))
                let fd = Int(data & 0xFFFF_FFFF)
                let mask = cepoll_event_mask(events, Int32(i))
                // A stale event for a descriptor closed (and maybe reused) earlier in this batch.
                guard fd < slots.count, slots[fd].generation == UInt32(truncatingIfNeeded: data >> 32),
                    let kind = slots[fd].kind
                else { continue }
                switch kind {
                case .client(let connection): clientEvent(connection, mask)
                case .replica(let connection): replicaEvent(connection, mask)
                case .listener(let listener): accept(listener)
                case .closing: closingEvent(Int32(fd))
                case .wake: drainInbox()
                }
            }
            let now = Self.nowMs()
            if now &- lastSweep >= Self.sweepIntervalMs {
                lastSweep = now
                sweep(now: now)
            }
        }
    }

    private func drainInbox() {
        var counter: UInt64 = 0
        _ = read(wake, &counter, 8)
        let work = inbox.withLockedValue { inbox in
            let work = inbox
            inbox = []
            return work
        }
        for item in work { item(self) }
    }

    @discardableResult
    func register(_ fd: Int32, _ kind: Kind, events: UInt32) -> Bool {
        let index = Int(fd)
        if index >= slots.count { slots.append(contentsOf: repeatElement(Slot(), count: max(index + 1 - slots.count, 256))) }
        generation &+= 1
        slots[index] = Slot(generation: generation, kind: kind)
        if cepoll_add(epoll, fd, events, UInt64(generation) << 32 | UInt64(UInt32(bitPattern: fd))) != 0 {
            slots[index].kind = nil
            return false
        }
        return true
    }

    /// Closes `fd` (which also takes it out of epoll) and forgets it.
    func forget(_ fd: Int32) {
        guard fd >= 0 else { return }
        slots[Int(fd)].kind = nil
        close(fd)
    }

    static func nowMs() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
    }

    // MARK: - Connections

    private static let connectionEvents = CEPOLL_IN | CEPOLL_OUT | CEPOLL_RDHUP | CEPOLL_ET

    /// Accepts one connection per wake-up (the listening socket is level-triggered: with
    /// more waiting, the next `epoll_wait` returns at once), as nginx does by default
    /// (`multi_accept off`): a burst of new connections wakes every free loop instead of
    /// landing on the first one, which matters for long keep-alive connections.
    private func accept(_ listener: RelayListener) {
        for _ in 0..<Self.acceptsPerWake {
            let fd = cepoll_accept(listener.fd)
            if fd < 0 {
                let error = cepoll_errno()
                if error == EINTR || error == ECONNABORTED { continue }
                if Self.isShortage(error) { return acceptShortOfDescriptors(listener, error: error) }
                if error != EAGAIN && error != EWOULDBLOCK {
                    listener.balancer.logger.error(
                        "accepting a connection on port \(listener.publish) failed: errno \(error)")
                }
                return
            }
            if ClientBudget.shared.isInHeadroom(fd) {
                close(fd)
                ClientBudget.shared.refuse(
                    1, reason: .noDescriptor, publish: listener.publish, error: EMFILE, logger: listener.balancer.logger)
                continue
            }
            guard ClientBudget.shared.take() else {
                close(fd)
                ClientBudget.shared.refuse(
                    1, reason: .connectionLimit, publish: listener.publish, logger: listener.balancer.logger)
                continue
            }
            guard listener.balancer.ports.take(port: listener.publish) else {
                close(fd)
                ClientBudget.shared.release()
                listener.balancer.ports.refuse(port: listener.publish, logger: listener.balancer.logger)
                continue
            }
            // TCP_NODELAY comes from the listening socket (Linux copies it on accept).
            let connection = RelayConnection(client: fd, listener: listener, buffer: takeBuffer())
            guard register(fd, .client(connection), events: Self.connectionEvents) else {
                close(fd)
                ClientBudget.shared.release()
                listener.balancer.ports.release(port: listener.publish)
                giveBack(connection)
                continue
            }
            connectReplica(connection)
        }
    }

    /// Picks a replica (skipping those tried) and starts a non-blocking connect to it; with
    /// none left, closes the client.
    private func connectReplica(_ connection: RelayConnection) {
        let balancer = connection.listener.balancer
        let table = balancer.table
        let publish = connection.listener.publish
        while true {
            guard let lease = table.pick(port: publish, excluding: connection.tried) else {
                if connection.tried.isEmpty, connection.heldSince == 0 {
                    switch table.hold(port: publish) {
                    case (true, let service)?:
                        connection.heldSince = Self.nowMs()
                        connection.heldFor = service
                        held.append(connection)
                        return
                    case (false, _)?:
                        refuse(connection, reason: "the balancer holds \(Standby.maxHeldPerService) connections already, waiting for a replica")
                        return
                    case nil: break
                    }
                }
                table.reject(port: publish)
                if !connection.tried.isEmpty {
                    balancer.logger.warning(
                        "no replica accepted the connection",
                        metadata: ["proxy.publish": "\(publish)", "proxy.tried": "\(connection.tried.sorted())"])
                }
                finish(connection)
                return
            }
            connection.lease = lease
            if let fd = startConnect(lease) {
                connection.replica = fd
                connection.connecting = true
                connection.deadline = Self.nowMs() + UInt64(max(1, balancer.connectTimeout.nanoseconds / 1_000_000))
                if register(fd, .replica(connection), events: Self.connectionEvents) { return }
                close(fd)
                connection.replica = -1
            }
            let error = cepoll_errno()
            if Self.isShortage(error) { return connectShortOfDescriptors(connection, lease: lease, error: error) }
            connectFailed(connection, error: error)
        }
    }

    /// A non-blocking socket connecting to the lease's replica; nil when the connect failed
    /// at once.
    private func startConnect(_ lease: Lease) -> Int32? {
        guard let address = lease.address else { return nil }
        let family: Int32
        switch address {
        case .v4: family = AF_INET
        case .v6: family = AF_INET6
        default: return nil
        }
        let fd = cepoll_tcp_socket(family)
        guard fd >= 0 else { return nil }
        if ClientBudget.shared.isInHeadroom(fd) {
            close(fd)
            errno = EMFILE
            return nil
        }
        _ = cepoll_nodelay(fd)
        let result = address.withSockAddr { pointer, length in connect(fd, pointer, socklen_t(length)) }
        if result == 0 || cepoll_errno() == EINPROGRESS { return fd }
        let error = cepoll_errno()
        close(fd)
        errno = error
        return nil
    }

    /// The connect of `connection.lease` failed: count it, and try the next replica.
    private func connectFailed(_ connection: RelayConnection, error: Int32) {
        guard let lease = connection.lease else { return }
        connection.lease = nil
        connection.connecting = false
        connection.listener.balancer.table.release(lease, connectFailed: true)
        connection.listener.balancer.logger.debug(
            "connect failed, trying another replica",
            metadata: ["proxy.instance": "\(lease.instance)", "error": "errno \(error)"])
        connection.tried.insert(lease.instance)
    }

    private func clientEvent(_ connection: RelayConnection, _ mask: UInt32) {
        if mask & (CEPOLL_IN | CEPOLL_RDHUP | CEPOLL_HUP | CEPOLL_ERR) != 0 { connection.up.srcReadable = true }
        if mask & (CEPOLL_RDHUP | CEPOLL_HUP) != 0 { connection.up.srcFinished = true }
        if mask & (CEPOLL_OUT | CEPOLL_HUP | CEPOLL_ERR) != 0 { connection.down.dstWritable = true }
        pump(connection)
    }

    private func replicaEvent(_ connection: RelayConnection, _ mask: UInt32) {
        if connection.connecting {
            guard mask & (CEPOLL_OUT | CEPOLL_ERR | CEPOLL_HUP) != 0 else { return }
            // Writable without error or hang-up: connected (no getsockopt on the way of
            // every connection); otherwise SO_ERROR says why.
            if mask & (CEPOLL_ERR | CEPOLL_HUP) != 0 {
                let error = cepoll_socket_error(connection.replica)
                forget(connection.replica)
                connection.replica = -1
                connectFailed(connection, error: error == 0 ? ECONNREFUSED : error)
                connectReplica(connection)
                return
            }
            connection.connecting = false
            connection.deadline = 0
            connection.up.dst = connection.replica
            connection.down.src = connection.replica
            // Hold the replica's first bytes until they are looked at (client keep-alive).
            connection.down.hold = connection.listener.balancer.httpKeepAlive && connection.counter?.isCounting == true
        }
        if mask & (CEPOLL_IN | CEPOLL_RDHUP | CEPOLL_HUP | CEPOLL_ERR) != 0 { connection.down.srcReadable = true }
        if mask & (CEPOLL_RDHUP | CEPOLL_HUP) != 0 { connection.down.srcFinished = true }
        if mask & (CEPOLL_OUT | CEPOLL_HUP | CEPOLL_ERR) != 0 { connection.up.dstWritable = true }
        pump(connection)
    }

    /// Moves bytes both ways as far as the sockets allow, passes FINs on, and closes the
    /// pair when both directions are done or one side failed.
    private func pump(_ connection: RelayConnection) {
        var none: HTTPRequestCounter? = nil
        guard connection.up.run(counter: &connection.counter), connection.down.run(counter: &none) else {
            finish(connection)
            return
        }
        if connection.down.hold && (connection.down.end > 0 || connection.down.eof) {
            connection.inspectResponse()
            guard connection.down.run(counter: &none) else {
                finish(connection)
                return
            }
        }
        // Held: waiting for a replica (its bytes are read and kept); a client that gives up ends it.
        if connection.heldSince != 0 {
            if connection.up.eof && connection.up.end == connection.up.start { finish(connection) }
            return
        }
        // Between two requests of a kept-alive client: no replica.
        if connection.replica < 0 {
            if connection.up.end > connection.up.start {
                connectReplica(connection)
            } else if connection.up.eof {
                finish(connection)
            }
            return
        }
        let upDone = connection.up.finished, downDone = connection.down.finished
        let responseDelivered =
            connection.keepAlive && !connection.down.eof && connection.down.bodyRemaining == 0
            && connection.down.start == connection.down.end
        if (downDone || responseDelivered) && connection.keepAlive
            && (!connection.up.eof || connection.up.end > connection.up.start)
        {
            // The replica closed (or will, its response is all delivered) after a response
            // the client can delimit: keep the client.
            recycle(connection)
            if connection.up.end > connection.up.start {
                connectReplica(connection)
            } else {
                connection.deadline = Self.nowMs() + UInt64(RelayConnection.idleLimitMs)
            }
            return
        }
        if upDone && downDone {
            finish(connection)
            return
        }
        // Half-close: a side that sent FIN and whose bytes are all delivered: FIN the other.
        if upDone && !connection.up.shut && !connection.connecting {
            connection.report()
            connection.up.shutDestination()
        }
        if downDone && !connection.down.shut {
            connection.report()
            connection.down.shutDestination()
        }
        // Both sides sent FIN but bytes are stuck for a peer that does not read: cut it off
        // after the linger limit.
        if connection.up.eof && connection.down.eof && connection.deadline == 0 {
            connection.deadline = Self.nowMs() + UInt64(RelayConnection.lingerLimitMs)
        }
    }

    /// Ends the replica side of a kept-alive exchange: closes the replica's socket, gives
    /// the lease back; the client's connection waits for its next request.
    private func recycle(_ connection: RelayConnection) {
        if connection.down.eof {
            forget(connection.replica)
        } else {
            // Its FIN is still to come: let the socket wait for it on its own.
            let fd = connection.replica
            slots[Int(fd)].kind = .closing(since: Self.nowMs())
            if connection.down.srcFinished { closingEvent(fd) }
        }
        connection.replica = -1
        if let lease = connection.lease {
            connection.lease = nil
            let requests = connection.unreportedRequests
            connection.listener.balancer.table.close(
                lease, bytesReceived: connection.up.unreported, bytesSent: connection.down.unreported,
                httpRequests: requests)
            connection.reportedRequests += requests
            connection.up.unreported = 0
            connection.down.unreported = 0
        }
        connection.nextExchange()
    }

    /// Reads (and drops) what a closing replica socket still sends; closes it at its FIN.
    private func closingEvent(_ fd: Int32) {
        while true {
            let count = recv(fd, scratch, Self.scratchSize, 0)
            if count > 0 { continue }
            if count < 0 {
                let error = cepoll_errno()
                if error == EINTR { continue }
                if error == EAGAIN || error == EWOULDBLOCK { return }
            }
            forget(fd)
            return
        }
    }

    /// Held connections whose service has a ready replica now: forwarded (or held again when
    /// the pick finds none after all); those past `Standby.holdLimitMs`: refused.
    func retryHeld() {
        guard !held.isEmpty else { return }
        let now = Self.nowMs()
        let waiting = held
        held = []
        for connection in waiting where connection.heldSince != 0 {
            let table = connection.listener.balancer.table
            let publish = connection.listener.publish
            if table.hasReady(port: publish) {
                connection.heldSince = 0
                table.unhold(service: connection.heldFor)
                connectReplica(connection)
            } else if now &- connection.heldSince >= connection.listener.balancer.holdLimitMs {
                connection.heldSince = 0
                table.unhold(service: connection.heldFor, refused: true)
                refuse(
                    connection,
                    reason: "no replica became ready within \(Millis(Int64(connection.listener.balancer.holdLimitMs)))")
            } else {
                held.append(connection)
            }
        }
    }

    /// Ends a connection the balancer will not forward: an HTTP client gets a 503 saying why.
    private func refuse(_ connection: RelayConnection, reason: String) {
        if connection.counter?.isCounting == true && connection.up.end > 0 {
            let service = connection.listener.balancer.table.service(publishedOn: connection.listener.publish) ?? "?"
            let bytes = Standby.refusal(service: service, reason: reason)
            _ = bytes.withUnsafeBytes { cepoll_send(connection.client, $0.baseAddress!, $0.count) }
        }
        connection.listener.balancer.logger.warning(
            "connection refused: \(reason)", metadata: ["proxy.publish": "\(connection.listener.publish)"])
        finish(connection)
    }

    /// Closes both sockets, gives the lease back and reports the last traffic.
    func finish(_ connection: RelayConnection) {
        if connection.heldSince != 0 {
            connection.heldSince = 0
            connection.listener.balancer.table.unhold(service: connection.heldFor)
            held.removeAll { $0 === connection }
        }
        forget(connection.client)
        ClientBudget.shared.release()
        connection.listener.balancer.ports.release(port: connection.listener.publish)
        if connection.replica >= 0 { forget(connection.replica) }
        connection.replica = -1
        if let lease = connection.lease {
            connection.lease = nil
            connection.listener.balancer.table.close(
                lease, bytesReceived: connection.up.unreported, bytesSent: connection.down.unreported,
                httpRequests: connection.unreportedRequests)
        }
        giveBack(connection)
    }

    /// Connect timeouts, lingering peers, and traffic of long connections into the table.
    private func sweep(now: UInt64) {
        let report = now &- lastReport >= 1000
        if report { lastReport = now }
        resumePausedListeners(now: now)
        retryHeld()
        for index in slots.indices {
            if case .closing(let since) = slots[index].kind, now &- since >= Self.closingLimitMs {
                forget(Int32(index))
                continue
            }
            guard case .client(let connection) = slots[index].kind else { continue }
            if connection.deadline != 0 && now >= connection.deadline {
                if connection.connecting {
                    forget(connection.replica)
                    connection.replica = -1
                    connectFailed(connection, error: ETIMEDOUT)
                    connectReplica(connection)
                } else {
                    finish(connection)
                }
                continue
            }
            if report { connection.report() }
        }
    }

    // MARK: - Buffers

    private func takeBuffer() -> UnsafeMutableRawPointer {
        buffers.popLast() ?? UnsafeMutableRawPointer.allocate(byteCount: 2 * Self.bufferSize, alignment: 16)
    }

    private func giveBack(_ connection: RelayConnection) {
        guard let buffer = connection.buffer else { return }
        connection.buffer = nil
        if buffers.count < 1024 { buffers.append(buffer) } else { buffer.deallocate() }
    }
}
