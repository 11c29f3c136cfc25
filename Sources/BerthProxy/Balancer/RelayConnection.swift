import CEpoll
import Foundation

/// One listening socket of one loop.
final class RelayListener: Sendable {
    let fd: Int32
    let publish: Int
    let balancer: Balancer

    init(fd: Int32, publish: Int, balancer: Balancer) {
        self.fd = fd
        self.publish = publish
        self.balancer = balancer
    }
}

/// A client connection and its replica connection, owned by one loop.
final class RelayConnection {
    static let lingerLimitMs = 30_000
    /// How long a kept-alive client may wait idle between requests.
    static let idleLimitMs = 60_000

    let client: Int32
    var replica: Int32 = -1
    let listener: RelayListener
    var buffer: UnsafeMutableRawPointer?
    var lease: Lease?
    var tried: Set<String> = []
    var connecting = false
    /// Connect deadline while connecting, then the linger deadline (0: none), in ms.
    var deadline: UInt64 = 0
    /// Client → replica.
    var up: Flow
    /// Replica → client.
    var down: Flow
    var counter: HTTPRequestCounter? = HTTPRequestCounter()
    /// When the balancer began to hold this connection for want of a ready replica (ms; 0: not held).
    var heldSince: UInt64 = 0
    /// The service it is held for (its waiting slot goes back to it).
    var heldFor = ""
    var reportedRequests = 0
    /// Requests of the client before the current exchange with a replica.
    var exchangeStart = 0
    /// The current replica's `Connection: close` was dropped: the client stays connected
    /// when the replica closes (see `ClosingResponse`).
    var keepAlive = false

    init(client: Int32, listener: RelayListener, buffer: UnsafeMutableRawPointer) {
        self.client = client
        self.listener = listener
        self.buffer = buffer
        up = Flow(src: client, dst: -1, base: buffer)
        down = Flow(src: -1, dst: client, base: buffer + RelayLoop.bufferSize)
        // A fresh socket can take bytes.
        down.dstWritable = true
    }

    var unreportedRequests: Int { (counter?.requests ?? 0) - reportedRequests }

    /// The replica's first bytes are here: decide on client keep-alive (see
    /// `ClosingResponse`). Only for exactly one complete keep-alive request, all of it
    /// forwarded; from then on the client's next bytes wait for the next replica.
    func inspectResponse() {
        down.hold = false
        guard let counter, counter.isCounting, counter.requests - exchangeStart == 1, counter.isBetweenRequests,
            counter.lastRequestKeepsAlive, !up.eof, up.start == up.end, down.start == 0,
            let rewrite = ClosingResponse.dropConnectionClose(down.base, count: down.end)
        else { return }
        down.unreported -= down.end - rewrite.count
        down.end = rewrite.count
        down.bodyRemaining = rewrite.bodyRemaining ?? -1
        keepAlive = true
        up.hold = true
        down.resetIsEOF = true
    }

    /// After `recycle`: flows without a replica, waiting for the client's next request.
    func nextExchange() {
        tried = []
        keepAlive = false
        exchangeStart += 1
        deadline = 0
        up.hold = false
        up.dst = -1
        up.dstWritable = false
        let clientWritable = down.dstWritable
        down = Flow(src: -1, dst: client, base: down.base)
        down.dstWritable = clientWritable
    }

    /// Adds the traffic since the last report to the table.
    func report() {
        guard let lease else { return }
        let requests = unreportedRequests
        guard up.unreported > 0 || down.unreported > 0 || requests > 0 else { return }
        listener.balancer.table.account(
            service: lease.service, bytesReceived: up.unreported, bytesSent: down.unreported, httpRequests: requests)
        up.unreported = 0
        down.unreported = 0
        reportedRequests += requests
    }
}

/// One direction of a proxied connection: bytes read from `src` into a fixed buffer and
/// written to `dst`. The buffer is the back-pressure: when it is full, `src` is not read
/// until `dst` takes bytes.
struct Flow {
    var src: Int32
    var dst: Int32
    let base: UnsafeMutableRawPointer
    var start = 0
    var end = 0
    /// Edge-triggered readiness: set by an event, cleared at EAGAIN.
    var srcReadable = false
    var dstWritable = false
    /// The source's FIN was signalled (EPOLLRDHUP): read on until `read` returns 0.
    var srcFinished = false
    /// `src` sent FIN and every byte before it was read.
    var eof = false
    /// `dst`'s output was shut down (FIN passed on).
    var shut = false
    /// Bytes moved and not yet reported to the table.
    var unreported = 0
    /// Read but do not write (bytes wait for a decision or for the next replica).
    var hold = false
    /// Response body bytes still to come from `src` (-1: unknown, only the FIN says).
    var bodyRemaining = -1
    /// A reset from `src` ends its bytes like a FIN (a replica that closes after its
    /// response with the client's next bytes unread resets instead).
    var resetIsEOF = false

    init(src: Int32, dst: Int32, base: UnsafeMutableRawPointer) {
        self.src = src
        self.dst = dst
        self.base = base
    }

    /// Every byte up to the source's FIN was delivered.
    var finished: Bool { eof && start == end }

    /// Moves bytes until neither side can go on. False on a socket error.
    mutating func run(counter: inout HTTPRequestCounter?) -> Bool {
        while true {
            var progress = false
            if end > start && dstWritable && dst >= 0 && !hold {
                let written = cepoll_send(dst, base + start, end - start)
                if written > 0 {
                    start += written
                    if start == end {
                        start = 0
                        end = 0
                    } else {
                        dstWritable = false  // a short write: the socket buffer is full
                    }
                    progress = true
                } else {
                    let error = cepoll_errno()
                    if error == EAGAIN || error == EWOULDBLOCK {
                        dstWritable = false
                    } else if error != EINTR {
                        return false
                    }
                }
            }
            if !eof && srcReadable && src >= 0 && end < RelayLoop.bufferSize {
                let space = RelayLoop.bufferSize - end
                let count = recv(src, base + end, space, 0)
                if count > 0 {
                    if counter != nil, counter!.isCounting {
                        _ = counter!.feed(bytes: UnsafeRawBufferPointer(start: base + end, count: count))
                    }
                    end += count
                    unreported += count
                    if bodyRemaining >= 0 { bodyRemaining = bodyRemaining >= count ? bodyRemaining - count : -1 }
                    // Less than asked: the socket is empty for now (its next bytes raise a
                    // new edge), unless a FIN is known to be waiting behind them.
                    if count < space && !srcFinished { srcReadable = false }
                    progress = true
                } else if count == 0 {
                    eof = true
                    srcReadable = false
                } else {
                    let error = cepoll_errno()
                    if error == EAGAIN || error == EWOULDBLOCK {
                        srcReadable = false
                    } else if error == ECONNRESET && resetIsEOF {
                        eof = true
                        srcReadable = false
                    } else if error != EINTR {
                        return false
                    }
                }
            }
            if !progress { return true }
        }
    }

    mutating func shutDestination() {
        shut = true
        _ = shutdown(dst, Int32(SHUT_WR))
    }
}
