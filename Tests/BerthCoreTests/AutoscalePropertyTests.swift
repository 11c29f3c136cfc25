import BerthCore
import BerthTestSupport
import Testing

/// The autoscaler over generated load series (seeded, bounded: 200 seeds, at most 10 minutes
/// of 250 ms ticks each): never outside [min, max]; no flapping under a steady load with
/// ±20 % noise; monotone in the load; never down within scaleDownDelay of a rise.
@Suite struct AutoscalePropertyTests {
    static let seeds: [UInt64] = Array(1...200)
    static let tick: Int64 = 250

    struct Run {
        var counts: [Int] = []
        var decisions: [(at: Int64, decision: AutoscaleDecision)] = []
    }

    /// Feeds `rates` (one per tick) to a fresh state at `start` replicas.
    static func run(_ spec: Autoscale, start: Int, rates: [Double]) -> Run {
        var state = AutoscaleState(replicas: start, since: 0)
        var out = Run()
        for (i, rate) in rates.enumerated() {
            let now = Int64(i + 1) * tick
            if let d = Autoscaler.step(&state, spec: spec, rate: rate, windowMs: 1000, now: now) { out.decisions.append((now, d)) }
            out.counts.append(state.replicas)
        }
        return out
    }

    static func spec(_ random: inout SeededRandom) -> Autoscale {
        let min = random.int(0...5)
        return Autoscale(
            min: min, max: min + random.int(1...40), targetRequestsPerSecond: random.int(1...200),
            scaleDownDelay: .seconds(Int64(random.int(1...120))))
    }

    /// Any shape: quiet stretches, steps, spikes, ramps, noise, for up to 10 minutes.
    static func anySeries(_ random: inout SeededRandom, target: Int) -> [Double] {
        var rates: [Double] = []
        let ticks = random.int(40...2400)
        while rates.count < ticks {
            let length = random.int(1...200)
            let level = Double(random.int(0...60)) * Double(target) / Double(random.int(1...4))
            switch random.below(4) {
            case 0: rates += Array(repeating: 0, count: length)
            case 1: rates += Array(repeating: level, count: length)
            case 2: rates += (0..<length).map { level * Double($0) / Double(length) }
            default: rates += (0..<length).map { _ in level * Double(random.int(0...200)) / 100 }
            }
        }
        return Array(rates.prefix(ticks))
    }

    @Test(arguments: seeds) func theCountNeverLeavesMinAndMax(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        let spec = Self.spec(&random)
        let start = random.int(spec.min...spec.max)
        let run = Self.run(spec, start: start, rates: Self.anySeries(&random, target: spec.targetRequestsPerSecond!))
        #expect(run.counts.allSatisfy { (spec.min...spec.max).contains($0) }, "seed \(seed): \(spec) \(run.counts.max() ?? 0)")
        // And every decision is a real change within the step bound.
        for (_, d) in run.decisions {
            #expect(d.from != d.to, "seed \(seed)")
            if d.to > d.from { #expect(d.to <= Autoscaler.upLimit(from: d.from), "seed \(seed): \(d.summary)") }
        }
    }

    /// A steady load, each second at the level × (1 ± up to 20 %), for 10 minutes, with a
    /// scaleDownDelay of 30 s to 2 min: after the first delay (the count settles to what
    /// the peaks need), the count never goes down and up again, nor up and down. And
    /// from a start at what that load needs, it only ever goes up (to cover the peaks).
    @Test(arguments: seeds) func aSteadyNoisyLoadDoesNotFlap(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        let target = random.int(1...200)
        let delay = Int64(random.int(30...120))
        let spec = Autoscale(min: 1, max: 100, targetRequestsPerSecond: target, scaleDownDelay: .seconds(delay))
        let level = Double(target) * Double(random.int(50...1500)) / 100
        var rates: [Double] = []
        for _ in 0..<600 {
            let noisy = level * (1 + Double(random.int(-200...200)) / 1000)
            rates += Array(repeating: noisy, count: 4)
        }
        let start = random.int(1...30)
        let run = Self.run(spec, start: start, rates: rates)
        let settled = run.decisions.filter { $0.at > delay * 1000 }
        var reversals = 0
        for (a, b) in zip(settled, settled.dropFirst()) where a.decision.direction != b.decision.direction { reversals += 1 }
        #expect(reversals == 0, "seed \(seed): \(run.decisions.map { "\($0.at):\($0.decision.from)→\($0.decision.to)" })")
        // Started where a steady load of `level` sits: up only (for a peak the level's
        // count does not cover), never down, never above what the highest peak asks for.
        let fit = Autoscaler.recommendation(current: 1, rate: level, spec: spec)
        let fitted = Self.run(spec, start: fit, rates: rates)
        let peak = Autoscaler.fewest(rate: level * 1.2, target: target)
        #expect(
            fitted.decisions.allSatisfy { $0.decision.direction == .up },
            "seed \(seed): from \(fit): \(fitted.decisions.map(\.decision.summary))")
        #expect((fitted.counts.last ?? 0) <= max(fit, peak), "seed \(seed)")
    }

    /// More load never gives fewer replicas: a series and the same series with extra load
    /// added anywhere, from the same start, compared tick by tick.
    @Test(arguments: seeds) func theCountIsMonotoneInTheLoad(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        let spec = Self.spec(&random)
        let start = random.int(spec.min...spec.max)
        let base = Self.anySeries(&random, target: spec.targetRequestsPerSecond!)
        let more = base.map { $0 + (random.chance(30) ? Double(random.int(0...400)) * $0 / 100 + Double(random.int(0...50)) : 0) }
        let low = Self.run(spec, start: start, rates: base)
        let high = Self.run(spec, start: start, rates: more)
        for i in base.indices where high.counts[i] < low.counts[i] {
            Issue.record("seed \(seed): tick \(i): \(high.counts[i]) replicas with more load, \(low.counts[i]) with less")
            break
        }
    }

    /// After a rise at time T, no decrease before T + scaleDownDelay.
    @Test(arguments: seeds) func neverDownWithinTheDelayOfARise(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        let spec = Self.spec(&random)
        let run = Self.run(spec, start: spec.min, rates: Self.anySeries(&random, target: spec.targetRequestsPerSecond!))
        var lastRise: Int64?
        for (at, d) in run.decisions {
            if d.direction == .up { lastRise = at; continue }
            guard d.reason == .load, let rise = lastRise else { continue }
            #expect(at - rise > spec.scaleDownDelay.milliseconds, "seed \(seed): up at \(rise), down at \(at)")
        }
    }
}
