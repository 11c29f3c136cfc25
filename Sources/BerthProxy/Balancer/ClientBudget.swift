import Foundation
import Logging
import NIOConcurrencyHelpers

/// How many client connections the balancer keeps open at once, process-wide, and the
/// connections it refused for want of file descriptors (issue 18, finding 4: ~510 idle
/// connections filled a 1,024 limit, then the accept loop spun on EMFILE at ~1.5 cores and
/// wrote 256,756 log lines in 25 s while new clients waited unanswered).
///
/// A relayed connection holds two descriptors (client and replica). The limit is what the
/// soft descriptor limit leaves after a reserve for everything else in the process (control
/// API, endpoint discovery, event loops): `(limit - reserve) / 2` client connections with
/// `reserve = 64 + limit / 16` — 448 under 1,024 descriptors, 1,888 under 4,096. A client
/// over it is accepted and closed at once (it learns at once instead of waiting in the
/// backlog); it is counted in `berth_proxy_connections_refused_total` and logged at most
/// once a second.
final class ClientBudget: Sendable {
    static let shared = ClientBudget(descriptorLimit: ClientBudget.softDescriptorLimit())

    enum Reason: String, CaseIterable, Sendable {
        /// At `maxClients`.
        case connectionLimit = "connection_limit"
        /// `accept` or the replica's socket failed with EMFILE, ENFILE, ENOBUFS or ENOMEM,
        /// or got one of the last `headroom` descriptors.
        case noDescriptor = "no_descriptor"
    }

    /// The soft limit on open descriptors this budget was made from.
    let descriptorLimit: Int
    /// Client connections open at once, at most.
    let maxClients: Int

    private struct State {
        var open = 0
        var refused: [Reason: Int] = [:]
        var refusedSinceLog = 0
        var lastLogMs: UInt64 = 0
    }

    private let state = NIOLockedValueBox(State())

    init(descriptorLimit: Int) {
        self.descriptorLimit = descriptorLimit
        maxClients = max(16, (descriptorLimit - (64 + descriptorLimit / 16)) / 2)
    }

    /// Descriptors at the top of the limit that relayed connections never hold.
    static let headroom = 32

    /// Whether `fd` is among the top `headroom` descriptors: Linux hands out the lowest free
    /// number, so every lower one is in use and the process is about to run out. A client
    /// or replica socket there is closed at once (refused for want of a descriptor): relayed
    /// connections never take the last descriptors, which keeps them for the control API and
    /// endpoint discovery, and keeps the relay loops' spare descriptors from being taken over
    /// by connections (see `RelayLoop.acceptShortOfDescriptors`).
    func isInHeadroom(_ fd: Int32) -> Bool {
        Int(fd) >= descriptorLimit - Self.headroom
    }

    /// Takes a slot for a client connection just accepted; false when all are taken.
    func take() -> Bool {
        state.withLockedValue { s in
            guard s.open < maxClients else { return false }
            s.open += 1
            return true
        }
    }

    /// Gives back the slot of a client connection that closed.
    func release() {
        state.withLockedValue { $0.open -= 1 }
    }

    /// Client connections refused since the process started, by reason.
    func refused(_ reason: Reason) -> Int {
        state.withLockedValue { $0.refused[reason] ?? 0 }
    }

    /// Counts `count` refused connections and logs them, at most one line a second.
    func refuse(_ count: Int, reason: Reason, publish: Int, error: Int32 = 0, logger: Logger) {
        let now = RelayLoop.nowMs()
        let logged: Int? = state.withLockedValue { s in
            s.refused[reason, default: 0] += count
            s.refusedSinceLog += count
            guard s.lastLogMs == 0 || now &- s.lastLogMs >= 1000 else { return nil }
            s.lastLogMs = now
            defer { s.refusedSinceLog = 0 }
            return s.refusedSinceLog
        }
        guard let logged else { return }
        let what =
            switch reason {
            case .connectionLimit:
                "at its connection limit (\(maxClients) client connections, from the descriptor limit \(descriptorLimit))"
            case .noDescriptor: "out of file descriptors (\(String(cString: strerror(error))))"
            }
        logger.error(
            "the balancer is \(what): new connections are refused at once until some close; raise the descriptor limit (LimitNOFILE= under systemd, ulimit -n) or lower the load",
            metadata: ["proxy.publish": "\(publish)", "proxy.refused_since_last_line": "\(logged)"])
    }

    /// The process's soft limit on open descriptors now.
    static func softDescriptorLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        return Int(min(limit.rlim_cur, 1 << 30))
    }
}
