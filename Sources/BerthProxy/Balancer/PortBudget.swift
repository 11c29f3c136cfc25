import Logging
import NIOConcurrencyHelpers

/// The most client connections `berth proxy --max-connections N` keeps open on each published
/// port (issue 18, item 3), beside the process-wide `ClientBudget`: so that one port's
/// clients cannot take every connection the process has. A client over it is accepted and
/// closed at once (it learns at once instead of waiting in the listen backlog), counted in
/// `berth_proxy_connections_refused_total{reason="port_limit",port=P}` and logged at most
/// once a second. Without a limit nothing is counted.
final class PortBudget: Sendable {
    /// Client connections per published port, at most; nil: no limit of its own.
    let limit: Int?

    private struct State {
        var open: [Int: Int] = [:]
        var refused: [Int: Int] = [:]
        var refusedSinceLog = 0
        var lastLogMs: UInt64 = 0
    }

    private let state = NIOLockedValueBox(State())

    init(limit: Int?) { self.limit = limit }

    /// Takes a slot on `port` for a client connection just accepted; false when the port
    /// holds its limit already.
    func take(port: Int) -> Bool {
        guard let limit else { return true }
        return state.withLockedValue { s in
            guard s.open[port, default: 0] < limit else { return false }
            s.open[port, default: 0] += 1
            return true
        }
    }

    /// Gives back the slot of a client connection on `port` that closed.
    func release(port: Int) {
        guard limit != nil else { return }
        state.withLockedValue { s in
            let left = s.open[port, default: 0] - 1
            s.open[port] = left > 0 ? left : nil
        }
    }

    /// Client connections open on `port` now (counted only with a limit).
    func open(port: Int) -> Int { state.withLockedValue { $0.open[port] ?? 0 } }

    /// Connections refused for the limit since the process started, by published port.
    var refused: [Int: Int] { state.withLockedValue { $0.refused } }

    /// Counts a refused client on `port` and logs, at most one line a second.
    func refuse(port: Int, logger: Logger) {
        let now = RelayLoop.nowMs()
        let logged: Int? = state.withLockedValue { s in
            s.refused[port, default: 0] += 1
            s.refusedSinceLog += 1
            guard s.lastLogMs == 0 || now &- s.lastLogMs >= 1000 else { return nil }
            s.lastLogMs = now
            defer { s.refusedSinceLog = 0 }
            return s.refusedSinceLog
        }
        guard let logged, let limit else { return }
        logger.warning(
            "port \(port) is at its connection limit (\(limit) client connections, --max-connections): new connections to it are refused at once until some close",
            metadata: ["proxy.publish": "\(port)", "proxy.refused_since_last_line": "\(logged)"])
    }
}
