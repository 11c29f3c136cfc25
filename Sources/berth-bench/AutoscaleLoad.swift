import BerthTestSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An open-loop load at a set request rate, for `berth-bench autoscale`: `threads` threads
/// take send times from one schedule (one request every `1 / rate` seconds; a thread that
/// is late sends at once, but the schedule never runs more than 100 ms behind, so a stall
/// does not turn into a burst; a slot taken before the rate changed is dropped, not sent),
/// each request `GET /version HTTP/1.0` on a new loopback
/// connection (`UpdateLoad.request`: fails on a refused connect, a non-200 answer, or 5 s
/// without one). The rate may change at any time (`set`), and may be noisy: a level times
/// a factor drawn afresh every second from `1 ± amplitude` (seeded, so runs compare).
///
/// Every request is kept as a `Sample` (send time, latency, failure) for windows of the
/// run. Bounded: `limit` requests (default 200,000) or `seconds` (default 600) in all.
final class PacedLoad: @unchecked Sendable {  // state behind `lock`
    struct Sample {
        /// Wall-clock seconds (epoch) the request was sent: comparable with the journal's times.
        var sent: Double
        var latency: Double
        var failure: String?
    }

    /// The rate's shape: steady, or a level with a factor in `1 ± amplitude` that changes
    /// every second.
    struct Shape {
        var level: Double
        var amplitude = 0.0
        var seed: UInt64 = 1
    }

    let host = "127.0.0.1"
    let port: Int
    let threads: Int
    let limit: Int
    let seconds: Double
    private let lock = NSLock()
    private var shape = Shape(level: 0)
    private var shapeStart = 0.0
    private var factors: [Double] = []
    private var nextDue = 0.0
    /// Bumped by `set`: slots of an older schedule are not sent.
    private var generation = 0
    private var samples: [Sample] = []
    private var sent = 0
    private var stopping = false
    private var running = 0
    private let done = DispatchSemaphore(value: 0)
    private let began = Date().timeIntervalSince1970

    init(port: Int, threads: Int = 24, limit: Int = 200_000, seconds: Double = 600) {
        self.port = port
        self.threads = threads
        self.limit = limit
        self.seconds = seconds
    }

    static func now() -> Double { Date().timeIntervalSince1970 }

    /// Changes the rate from now on (a level of 0 pauses the load).
    func set(_ new: Shape) {
        var generator = SeededRandom(seed: new.seed)
        // Enough factors for the longest run; a draw in [-1, 1] in steps of 0.001.
        let drawn = (0..<Int(seconds) + 1).map { _ in 1 + new.amplitude * (Double(generator.next() % 2001) - 1000) / 1000 }
        lock.withLock {
            shape = new
            shapeStart = Self.now()
            factors = drawn
            nextDue = shapeStart
            generation += 1
        }
    }

    func set(rate: Double) { set(Shape(level: rate)) }

    /// The rate at `time` (under the lock).
    private func rate(at time: Double) -> Double {
        let second = Int(max(0, time - shapeStart))
        return shape.level * (shape.amplitude == 0 ? 1 : factors[min(second, factors.count - 1)])
    }

    func start() {
        lock.withLock { running = threads }
        for _ in 0..<threads {
            Thread { [self] in
                while let slot = nextSendTime() {
                    let (due, schedule) = slot
                    let wait = due - Self.now()
                    if wait > 0 { usleep(useconds_t(wait * 1_000_000)) }
                    guard lock.withLock({ schedule == generation }) else { continue }
                    let sentAt = Self.now()
                    let outcome = UpdateLoad.request(host: host, port: port, path: "/version", stall: 0)
                    let latency = Self.now() - sentAt
                    let failure: String?
                    switch outcome {
                    case .success: failure = nil
                    case .failure(let f): failure = f.reason
                    }
                    lock.withLock { samples.append(Sample(sent: sentAt, latency: latency, failure: failure)) }
                }
                done.signal()
            }.start()
        }
    }

    /// The next slot of the schedule for a thread and the schedule's generation, nil when
    /// the load ends. Waits (in 10 ms steps) while the rate is 0.
    private func nextSendTime() -> (Double, Int)? {
        while true {
            let now = Self.now()
            let slot: (Double, Int)? = lock.withLock {
                guard !stopping, sent < limit, now - began < seconds else { return (-1, 0) }
                let r = rate(at: now)
                guard r > 0 else { return nil }
                let due = max(nextDue, now - 0.1)
                nextDue = due + 1 / r
                sent += 1
                return (due, generation)
            }
            guard let slot else {
                usleep(10_000)
                continue
            }
            return slot.0 < 0 ? nil : slot
        }
    }

    /// The requests sent in `[from, to)`, in send order.
    func samples(from: Double, to: Double) -> [Sample] {
        lock.withLock { samples.filter { $0.sent >= from && $0.sent < to } }.sorted { $0.sent < $1.sent }
    }

    /// Stops the threads (bounded wait for the requests in flight).
    func finish() {
        let waiting = lock.withLock {
            defer {
                stopping = true
                running = 0
            }
            return running
        }
        let deadline = DispatchTime.now() + 15
        for _ in 0..<waiting { _ = done.wait(timeout: deadline) }
    }
}

/// Latency and failures of a set of requests.
struct LoadWindow {
    var requests: Int
    var failed: Int
    var reasons: [String: Int]
    var p50: Double
    var p99: Double
    var max: Double
    var seconds: Double

    init(_ samples: [PacedLoad.Sample], seconds: Double) {
        requests = samples.count
        failed = samples.filter { $0.failure != nil }.count
        reasons = Dictionary(samples.compactMap(\.failure).map { ($0, 1) }, uniquingKeysWith: +)
        let sorted = samples.map(\.latency).sorted()
        func rank(_ q: Double) -> Double { sorted.isEmpty ? .nan : sorted[Swift.min(sorted.count - 1, Int((q * Double(sorted.count)).rounded(.up)) - 1)] }
        p50 = rank(0.5)
        p99 = rank(0.99)
        max = sorted.last ?? .nan
        self.seconds = seconds
    }

    var rate: Double { seconds > 0 ? Double(requests) / seconds : .nan }

    var line: String {
        let kinds = reasons.keys.sorted().map { "\($0) \(reasons[$0]!)" }.joined(separator: ", ")
        return String(format: "%6d req %6.1f req/s  p50 %6.1f ms  p99 %7.1f ms  max %7.1f ms  failed %d", requests, rate, p50 * 1000, p99 * 1000, max * 1000, failed)
            + (kinds.isEmpty ? "" : " (\(kinds))")
    }
}
