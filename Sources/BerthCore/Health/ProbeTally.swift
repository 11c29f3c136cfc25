/// How the probes of one instance add up to a verdict, by the rules of README's "Health is
/// probed by Berth": one pass makes it healthy (and clears the failures); a failure counts
/// toward `failureThreshold` at most once per `interval`, and only after `startPeriod`
/// unless the instance has passed before. Probes run often (every 100 ms at most) until the
/// first pass, so a fast starter is seen at once, then every `interval`.
///
/// Used by the Docker runtime's `waitHealthy` (and through it the loop's monitor) and by the
/// balancer's probes. Pure: the caller passes the time since probing began.
public struct ProbeTally: Sendable, Hashable {
    public enum Verdict: Sendable, Hashable {
        case healthy
        /// Failed, not (yet) `failureThreshold` times: `failures` counted so far.
        case failing(failures: Int, lastFailure: String)
        case unhealthy(lastFailure: String)
    }

    public let check: HealthCheck
    public private(set) var failures = 0
    public private(set) var passedOnce = false
    private var lastCounted: Duration?

    public init(check: HealthCheck) { self.check = check }

    /// Adds one probe's result, taken `elapsed` after probing began.
    public mutating func record(_ result: ProbeResult, elapsed: Duration) -> Verdict {
        switch result {
        case .pass:
            passedOnce = true
            failures = 0
            lastCounted = nil
            return .healthy
        case .fail(let why):
            let counts = passedOnce || elapsed >= .milliseconds(check.startPeriod.milliseconds)
            if counts, lastCounted.map({ elapsed - $0 >= interval }) ?? true {
                failures += 1
                lastCounted = elapsed
            }
            return failures >= max(1, check.failureThreshold)
                ? .unhealthy(lastFailure: why) : .failing(failures: failures, lastFailure: why)
        }
    }

    /// How long to wait before the next probe.
    public var nextProbeDelay: Duration { passedOnce ? interval : min(interval, .milliseconds(100)) }

    var interval: Duration { .milliseconds(max(1, check.interval.milliseconds)) }
}
