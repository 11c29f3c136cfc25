public import Foundation

/// Crash-loop backoff per service, as a value (the loop passes `now`).
///
/// A *failure* is an instance that died on its own (a `die` event with no `kill` before it)
/// or never became healthy. An instance killed from outside (`docker kill`, `docker rm -f`)
/// is not a failure of the service and is healed at once, every time — a replacement killed
/// while it waited for its health check included (its heal step failed, but not by a crash).
///
/// The first failure is healed at once; then the service waits `initial` (10 s) before the
/// next heal, doubling with each further failure up to `cap` (5 min). Failures are counted
/// per round (`recordFailure`). A service with no failure for `resetAfter` (60 s) while
/// healthy starts again from zero.
public struct CrashLoopBackoff: Sendable, Hashable {
    public struct Entry: Sendable, Hashable, Codable {
        public var service: String
        /// Failures in a row (not reset yet).
        public var failures: Int
        public var lastFailure: Date
        /// No create/scale-up/heal of the service before this moment.
        public var retryAt: Date
        /// The wait that led to `retryAt`, in seconds.
        public var delaySeconds: Double
    }

    public var initial: TimeInterval = 10
    public var cap: TimeInterval = 300
    public var resetAfter: TimeInterval = 60
    public private(set) var entries: [String: Entry] = [:]

    public init(initial: TimeInterval = 10, cap: TimeInterval = 300, resetAfter: TimeInterval = 60) {
        self.initial = initial
        self.cap = cap
        self.resetAfter = resetAfter
    }

    /// The wait after the `failures`-th failure in a row: 0, 10 s, 20 s, 40 s, … 300 s.
    public func delay(afterFailures failures: Int) -> TimeInterval {
        guard failures > 1 else { return 0 }
        let exponent = min(failures - 2, 30)
        return min(cap, initial * pow(2, Double(exponent)))
    }

    /// Records that `count` instances of `service` failed at `now`. The backoff counts
    /// rounds, not instances: the failures of one heal (`count` > 1), and any failure while a
    /// wait is pending (the other replicas' `die` events of the same crash), are one failure,
    /// so the waits go 10 s, 20 s, 40 s… as documented. Counting each instance made three
    /// replicas wait 20 s, then 160 s.
    public mutating func recordFailure(_ service: String, count: Int = 1, now: Date) {
        guard count > 0 else { return }
        if var entry = entries[service], entry.retryAt > now {
            entry.lastFailure = max(entry.lastFailure, now)
            entries[service] = entry
            return
        }
        let failures = (entries[service]?.failures ?? 0) + 1
        let wait = delay(afterFailures: failures)
        entries[service] = Entry(
            service: service, failures: failures, lastFailure: now, retryAt: now.addingTimeInterval(wait),
            delaySeconds: wait)
    }

    /// Whether the service must wait (and until when).
    public func blocked(_ service: String, now: Date) -> Date? {
        guard let entry = entries[service], entry.retryAt > now else { return nil }
        return entry.retryAt
    }

    /// Forgets services that have been healthy with no failure for `resetAfter`.
    public mutating func reset(healthy: Set<String>, now: Date) {
        for (name, entry) in entries where healthy.contains(name) && now.timeIntervalSince(entry.lastFailure) >= resetAfter {
            entries[name] = nil
        }
    }

    /// Entries sorted by service.
    public var sorted: [Entry] { entries.values.sorted { $0.service < $1.service } }

    /// The services in a crash loop at `now`, sorted: waiting out a backoff, or retried
    /// after one and not yet reset (`resetAfter` healthy). One rule for status (`watch.backoff`)
    /// and the metric (`berth_backoff_services`). A single crash, healed at once, is none.
    public func active(now: Date) -> [Entry] {
        sorted.filter { $0.retryAt > now || $0.failures > 1 }
    }

    /// The earliest future retry, to wake the loop then.
    public func nextRetry(after now: Date) -> Date? {
        entries.values.map(\.retryAt).filter { $0 > now }.min()
    }
}
