/// What the autoscaler remembers of one service between ticks: the count it runs (ready
/// plus starting: replicas that are starting are capacity that is arriving, so a decision is
/// not made again while they start, and they are never taken for idle capacity), and the
/// recommendations of the last `scaleDownDelay`, which a scale-down may not go below.
public struct AutoscaleState: Sendable, Hashable {
    /// The count the service runs, as last decided (or found running).
    public var replicas: Int
    /// The recommendations that can still be the highest of the window, oldest first, with
    /// strictly decreasing values (a newer recommendation as high or higher makes an older
    /// one irrelevant): the window's maximum is the first, and the list never holds more
    /// than `max − min + 1` entries however long the window is.
    public private(set) var window: [Recommendation] = []

    public struct Recommendation: Sendable, Hashable {
        /// Monotonic milliseconds.
        public var at: Int64
        public var replicas: Int
    }

    /// A service found running `replicas` at `now` (a watch that starts, or a service that
    /// became autoscaled): the count is kept for a whole `scaleDownDelay` before it may go
    /// down, as if it had been recommended now. So a restarted watch never scales down at
    /// once, while it scales up at once from the balancer's last seconds.
    public init(replicas: Int, since now: Int64) {
        self.replicas = replicas
        window = [Recommendation(at: now, replicas: replicas)]
    }

    /// The highest recommendation of the window (0 with none).
    public var highestRecommendation: Int { window.first?.replicas ?? 0 }

    /// Adds a recommendation made at `now` and forgets those older than `keepingFor` ms
    /// (the newest always stays).
    public mutating func record(_ replicas: Int, at now: Int64, keepingFor milliseconds: Int64) {
        while let last = window.last, last.replicas <= replicas { window.removeLast() }
        window.append(Recommendation(at: now, replicas: replicas))
        let (oldest, overflow) = now.subtractingReportingOverflow(Swift.max(0, milliseconds))
        guard !overflow else { return }
        while window.count > 1, window[0].at < oldest { window.removeFirst() }
    }
}

/// One change of a service's count, and what caused it: the journal, the log, the metrics
/// and the status all say it this way.
public struct AutoscaleDecision: Sendable, Hashable, Codable {
    public enum Reason: String, Sendable, Hashable, Codable {
        /// The request rate.
        case load
        /// A client waited at the balancer while no replica ran (scale from zero).
        case demand
        /// `min` or `max` changed and the count no longer fitted.
        case limits
    }

    public enum Direction: String, Sendable, Hashable, Codable, CaseIterable {
        case up, down
    }

    public var from: Int
    public var to: Int
    /// Requests (or new connections, for plain TCP) per second.
    public var rate: Double
    /// How long the rate was measured over, in milliseconds (0 for a demand).
    public var windowMs: Int64
    /// The recommendation of the tick that decided (the count the load asked for, before
    /// the per-step bound).
    public var recommended: Int
    public var target: Int?
    public var reason: Reason

    public init(
        from: Int, to: Int, rate: Double, windowMs: Int64, recommended: Int, target: Int?, reason: Reason
    ) {
        self.from = from
        self.to = to
        self.rate = rate
        self.windowMs = windowMs
        self.recommended = recommended
        self.target = target
        self.reason = reason
    }

    public var direction: Direction { to > from ? .up : .down }

    /// `1 → 6: 62.0 req/s over 1s, target 10 per replica`; `0 → 1: a client waited at the
    /// balancer`; `12 → 10: max is now 10`.
    public var summary: String { "\(from) → \(to): " + cause }

    /// What caused it, the summary after `from → to: ` (the journal puts it after the count
    /// change the executor made).
    public var cause: String {
        switch reason {
        case .demand:
            return "a client waited at the balancer with no replica running"
        case .limits:
            return to < from ? "max is now \(to)" : "min is now \(to)"
        case .load:
            var text = "\(Self.rateText(rate)) req/s over \(Self.windowText(windowMs))"
            if let target { text += ", target \(target) per replica" }
            if recommended > to {
                text += " (recommended \(recommended); at most \(to) in one step)"
            } else if recommended < to {
                text += " (recommended \(recommended); \(to) was recommended within scaleDownDelay)"
            }
            return text
        }
    }

    /// A measuring span in seconds with one decimal, `.0` dropped: `1s`, `1.3s` (the
    /// autoscaler's readings are 250 ms apart, so a 1 s window spans 1 to 1.25 s).
    public static func windowText(_ milliseconds: Int64) -> String {
        let tenths = (Swift.max(0, milliseconds) + 50) / 100
        return tenths % 10 == 0 ? "\(tenths / 10)s" : "\(tenths / 10).\(tenths % 10)s"
    }

    /// A rate with one decimal: `62.0`, `0.5`, `1830.2`.
    public static func rateText(_ rate: Double) -> String {
        let tenths = Int((Swift.max(0, rate) * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
