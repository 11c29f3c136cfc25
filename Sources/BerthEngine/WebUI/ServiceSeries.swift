public import Foundation
import Synchronization

/// A fixed number of the newest values: appending to a full ring drops the oldest.
public struct RingBuffer<Element: Sendable>: Sendable {
    public let capacity: Int
    private var storage: [Element] = []
    /// Where the oldest element is once the ring is full.
    private var start = 0

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        storage.reserveCapacity(self.capacity)
    }

    public var count: Int { storage.count }

    public mutating func append(_ element: Element) {
        if storage.count < capacity {
            storage.append(element)
        } else {
            storage[start] = element
            start = (start + 1) % capacity
        }
    }

    /// Oldest first.
    public var elements: [Element] { Array(storage[start...] + storage[..<start]) }

    public var last: Element? {
        guard !storage.isEmpty else { return nil }
        return storage[(start + storage.count - 1) % storage.count]
    }
}

/// Every service's request rate and ready replicas, sampled by `berth watch` every few
/// seconds, for the last hour: what the service page's chart draws. In memory only and
/// bounded: `capacity` samples (an hour at 5 s: 720) of 12 bytes per service, and only the
/// services of the newest sample keep a series (1,000 services: about 8.6 MB).
public final class ServiceSeries: Sendable {
    struct Sample: Sendable {
        /// Seconds since `epoch` (before it when negative).
        var second: Int32
        /// Requests per second; NaN when no balancer answered.
        var rate: Float
        var replicas: Int32
    }

    private struct State {
        var series: [String: RingBuffer<Sample>] = [:]
        var hasTraffic = false
        var samples = 0
    }

    private let state = Mutex(State())
    public let capacity: Int
    private let epoch: Date

    public init(capacity: Int = 720, epoch: Date = Date()) {
        self.capacity = max(1, capacity)
        self.epoch = epoch
    }

    /// One sample of every service; a service missing from `values` loses its series.
    /// `hasTraffic`: a balancer answered (its rates are in `values`).
    public func record(at time: Date, _ values: [String: (rate: Double?, replicas: Int)], hasTraffic: Bool) {
        let second = Int32(clamping: Int(time.timeIntervalSince(epoch).rounded()))
        state.withLock { s in
            for name in s.series.keys where values[name] == nil { s.series[name] = nil }
            for (name, value) in values {
                let sample = Sample(
                    second: second, rate: value.rate.map { Float($0) } ?? .nan, replicas: Int32(clamping: value.replicas))
                if s.series[name] == nil { s.series[name] = RingBuffer(capacity: capacity) }
                s.series[name]!.append(sample)
            }
            s.hasTraffic = hasTraffic
            s.samples += 1
        }
    }

    /// The service's samples, oldest first.
    public func points(_ service: String) -> [SeriesPoint] {
        let samples = state.withLock { $0.series[service]?.elements ?? [] }
        return samples.map(point)
    }

    /// The newest sample of each service.
    public func latest() -> [String: SeriesPoint] {
        let lasts = state.withLock { s in s.series.compactMapValues(\.last) }
        return lasts.mapValues(point)
    }

    /// Whether the newest sample had a balancer's report.
    public var hasTraffic: Bool { state.withLock { $0.hasTraffic } }

    /// Samples recorded so far.
    public var sampleCount: Int { state.withLock { $0.samples } }

    private func point(_ s: Sample) -> SeriesPoint {
        SeriesPoint(
            time: epoch.addingTimeInterval(TimeInterval(s.second)), rate: s.rate.isNaN ? nil : Double(s.rate),
            replicas: Int(s.replicas))
    }
}
