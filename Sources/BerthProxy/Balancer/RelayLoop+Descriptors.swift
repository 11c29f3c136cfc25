import CEpoll
import Foundation

/// What a relay loop does when the process is out of file descriptors anyway (the
/// `ClientBudget` keeps relayed connections below the limit, but the control API, endpoint
/// discovery or a lower limit can take the rest): before, the level-triggered listening
/// socket woke the loop for ever with `accept` failing EMFILE, and a replica connect failing
/// EMFILE was logged as the replica's fault, once per connection.
///
/// Now, as libuv does, each loop keeps one spare descriptor (`/dev/null`): on EMFILE it
/// closes the spare, accepts and at once closes what waits (up to `refuseBatch`), and opens
/// the spare again, so waiting clients are refused fast instead of hanging; then it stops
/// watching that listener until a sweep at least `pauseMs` later (no spin). A connect to a
/// replica that fails for want of a descriptor closes the client the same way, without
/// blaming the replica. Both are counted and logged by `ClientBudget`.
extension RelayLoop {
    struct AcceptShortage {
        /// The spare descriptor (-1 while it is lent out or could not be opened again).
        var spare: Int32 = RelayLoop.openSpare()
        /// Listeners this loop stopped watching, and when to watch them again (ms).
        var paused: [(listener: RelayListener, until: UInt64)] = []
    }

    static let pauseMs: UInt64 = 100
    static let refuseBatch = 256

    static func openSpare() -> Int32 { open("/dev/null", O_RDONLY | O_CLOEXEC) }

    /// The errors that mean "no descriptor (or socket memory) left" rather than a bad peer.
    static func isShortage(_ error: Int32) -> Bool {
        error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM
    }

    /// `accept` on `listener` failed with a shortage: refuse what waits, pause the listener.
    func acceptShortOfDescriptors(_ listener: RelayListener, error: Int32) {
        var refused = 0
        // Another thread may have taken the descriptor the spare was on: take one back.
        if shortage.spare < 0 { shortage.spare = Self.openSpare() }
        if shortage.spare >= 0 {
            close(shortage.spare)
            shortage.spare = -1
            while refused < Self.refuseBatch {
                let fd = cepoll_accept(listener.fd)
                if fd < 0 { break }
                close(fd)
                refused += 1
            }
            shortage.spare = Self.openSpare()
        }
        if Int(listener.fd) < slots.count, case .listener = slots[Int(listener.fd)].kind {
            _ = cepoll_del(epoll, listener.fd)
            slots[Int(listener.fd)].kind = nil
            shortage.paused.append((listener, Self.nowMs() + Self.pauseMs))
        }
        ClientBudget.shared.refuse(
            refused, reason: .noDescriptor, publish: listener.publish, error: error, logger: listener.balancer.logger)
    }

    /// A connect to a replica found no descriptor: close the client, the replica not blamed.
    func connectShortOfDescriptors(_ connection: RelayConnection, lease: Lease, error: Int32) {
        connection.lease = nil
        connection.listener.balancer.table.release(lease, connectFailed: true, countFailure: false)
        finish(connection)
        ClientBudget.shared.refuse(
            1, reason: .noDescriptor, publish: connection.listener.publish, error: error,
            logger: connection.listener.balancer.logger)
    }

    /// Watches paused listeners again once their pause is over (from the sweep).
    func resumePausedListeners(now: UInt64) {
        guard !shortage.paused.isEmpty else { return }
        if shortage.spare < 0 { shortage.spare = Self.openSpare() }
        let due = shortage.paused.filter { now >= $0.until }
        shortage.paused.removeAll { now >= $0.until }
        for (listener, _) in due { addListener(listener) }
    }

    /// Forgets a paused listener that stops listening.
    func forgetPaused(fd: Int32) {
        shortage.paused.removeAll { $0.listener.fd == fd }
    }
}
