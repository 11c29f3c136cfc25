import Dispatch
import Foundation

/// SIGTERM and SIGINT for Berth's long-running commands (`watch`, `proxy`): the one way
/// they learn that they should stop. The signals are ignored by default handling and
/// delivered through dispatch sources instead, so the process finishes the step in flight
/// and exits on its own terms; handlers run once, on the first signal.
///
/// Forty lines of our own rather than swift-service-lifecycle: two commands, one signal
/// each to wait for, no graceful-shutdown tree to orchestrate; the package would add
/// swift-async-algorithms to every build for that.
final class TerminationSignals: @unchecked Sendable {
    // `received` and `handlers` are guarded by `lock`; `sources` is written once in `install`.
    private let lock = NSLock()
    private var received: String?
    private var handlers: [@Sendable (String) -> Void] = []
    private var sources: [any DispatchSourceSignal] = []

    /// Starts catching SIGTERM and SIGINT (call once, early).
    static func install() -> TerminationSignals {
        let signals = TerminationSignals()
        let queue = DispatchQueue(label: "berth.signals")
        for (number, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { signals.fire(name) }
            source.resume()
            signals.sources.append(source)
        }
        return signals
    }

    /// True once a signal arrived.
    var stopped: Bool { lock.withLock { received != nil } }

    /// Runs `handler` with the signal's name when the first one arrives (at once if it has).
    func onStop(_ handler: @escaping @Sendable (String) -> Void) {
        let already = lock.withLock { () -> String? in
            if received == nil { handlers.append(handler) }
            return received
        }
        if let already { handler(already) }
    }

    /// Waits for the first signal and returns its name.
    func wait() async -> String {
        await withCheckedContinuation { continuation in onStop { continuation.resume(returning: $0) } }
    }

    private func fire(_ name: String) {
        let run = lock.withLock { () -> [@Sendable (String) -> Void] in
            guard received == nil else { return [] }
            received = name
            defer { handlers = [] }
            return handlers
        }
        for handler in run { handler(name) }
    }
}
