import BerthCore
import Testing

/// The autoscaler's arithmetic, decision by decision (README "Autoscaling").
@Suite struct AutoscalerTests {
    /// min 1, max 10, target 10 per replica, scale down after 60 s.
    let spec = Autoscale(min: 1, max: 10, targetRequestsPerSecond: 10, scaleDownDelay: .seconds(60))

    /// Ticks every 250 ms from `start` with the rates given; the decisions with their tick time.
    func run(
        _ state: inout AutoscaleState, _ spec: Autoscale, rates: [Double], start: Int64 = 250, every: Int64 = 250
    ) -> [(at: Int64, decision: AutoscaleDecision)] {
        var out: [(Int64, AutoscaleDecision)] = []
        for (i, rate) in rates.enumerated() {
            let now = start + Int64(i) * every
            if let d = Autoscaler.step(&state, spec: spec, rate: rate, windowMs: 1000, now: now) { out.append((now, d)) }
        }
        return out
    }

    @Test func aStepFromOneToSixTimesTheTargetScalesUpAtOnceInBoundedSteps() {
        var state = AutoscaleState(replicas: 1, since: 0)
        #expect(run(&state, spec, rates: [10, 10, 10]).isEmpty)
        let decisions = run(&state, spec, rates: [60, 60, 60], start: 1000)
        #expect(decisions.map(\.decision.summary) == [
            "1 → 5: 60.0 req/s over 1s, target 10 per replica (recommended 6; at most 5 in one step)",
            "5 → 6: 60.0 req/s over 1s, target 10 per replica",
        ])
        #expect(decisions.map(\.at) == [1000, 1250])
        #expect(decisions.map(\.decision.direction) == [.up, .up])
        #expect(state.replicas == 6)
    }

    @Test func downOnlyToTheHighestRecommendationOfTheLastScaleDownDelay() {
        var state = AutoscaleState(replicas: 6, since: 0)
        // 6 recommended until 60 s (the rate that needs 6), then nothing.
        var rates = Array(repeating: 60.0, count: 240)
        rates += Array(repeating: 0.0, count: 300)
        let decisions = run(&state, spec, rates: rates)
        // The last 6 was recommended at 60,000 ms; the window forgets it only after 120,000 ms.
        #expect(decisions.map(\.at) == [120_250])
        #expect(decisions.map(\.decision.summary) == ["6 → 1: 0.0 req/s over 1s, target 10 per replica"])
    }

    @Test func aBurstThenAMediumLoadGoesDownToWhatTheWindowStillAsksFor() {
        var state = AutoscaleState(replicas: 1, since: 0)
        // 4 s of 60 req/s, then 25 req/s (3 replicas) for good.
        let rates = Array(repeating: 60.0, count: 16) + Array(repeating: 25.0, count: 400)
        let decisions = run(&state, spec, rates: rates)
        #expect(decisions.map { "\($0.decision.from)→\($0.decision.to)" } == ["1→5", "5→6", "6→3"])
        // The last 60 req/s tick is at 4,000 ms: down one tick after it leaves the window.
        #expect(decisions.last?.at == 64_250)
    }

    @Test func insideTheTenPercentBandNothingChanges() {
        for rate in [27.1, 30.0, 32.9] {
            var state = AutoscaleState(replicas: 3, since: 0)
            #expect(Autoscaler.recommendation(current: 3, rate: rate, spec: spec) == 3, "rate \(rate)")
            #expect(run(&state, spec, rates: Array(repeating: rate, count: 400)).isEmpty, "rate \(rate)")
        }
        // Just above 110 %: one more replica; far below 90 %: fewer, after the delay.
        #expect(Autoscaler.recommendation(current: 3, rate: 33.1, spec: spec) == 4)
        #expect(Autoscaler.recommendation(current: 3, rate: 19, spec: spec) == 2)
        // 26 req/s is below 90 % of 3 × 10, but 2 replicas would carry 130 %: keep 3, as HPA's ⌈26/10⌉ does.
        #expect(Autoscaler.recommendation(current: 3, rate: 26, spec: spec) == 3)
    }

    @Test func theRecommendationIsTheCurrentCountClampedToTheBand() {
        // lo(r) = ⌈r / 11⌉, hi(r) = max(⌈r / 10⌉, ⌊r / 9⌋) for a target of 10.
        #expect(Autoscaler.fewest(rate: 11, target: 10) == 1)
        #expect(Autoscaler.fewest(rate: 11.01, target: 10) == 2)
        #expect(Autoscaler.most(rate: 18, target: 10) == 2)
        #expect(Autoscaler.most(rate: 36, target: 10) == 4)
        #expect(Autoscaler.most(rate: 35.9, target: 10) == 4)
        #expect(Autoscaler.most(rate: 0, target: 10) == 0)
        #expect(Autoscaler.recommendation(current: 9, rate: 36, spec: spec) == 4)
        #expect(Autoscaler.recommendation(current: 1, rate: 36, spec: spec) == 4)
        #expect(Autoscaler.recommendation(current: 4, rate: 36, spec: spec) == 4)
        // Far above max: max.
        #expect(Autoscaler.recommendation(current: 4, rate: 10_000, spec: spec) == 10)
    }

    @Test func theStepBoundIsDoubleOrFourMoreWhicheverIsMore() {
        #expect(Autoscaler.upLimit(from: 0) == 4)
        #expect(Autoscaler.upLimit(from: 1) == 5)
        #expect(Autoscaler.upLimit(from: 4) == 8)
        #expect(Autoscaler.upLimit(from: 10) == 20)
        let wide = Autoscale(min: 1, max: 1000, targetRequestsPerSecond: 1, scaleDownDelay: .seconds(60))
        var state = AutoscaleState(replicas: 1, since: 0)
        let decisions = run(&state, wide, rates: Array(repeating: 500, count: 8))
        #expect(decisions.map(\.decision.to) == [5, 10, 20, 40, 80, 160, 320, 455])
    }

    @Test func minZeroScalesToZeroAfterTheDelayWithoutARequestAndBackOnDemand() {
        let spec = Autoscale(min: 0, max: 4, targetRequestsPerSecond: 10, scaleDownDelay: .seconds(5))
        var state = AutoscaleState(replicas: 2, since: 0)
        let decisions = run(&state, spec, rates: Array(repeating: 0, count: 40))
        #expect(decisions.map(\.at) == [5250])
        #expect(decisions.map(\.decision.summary) == ["2 → 0: 0.0 req/s over 1s, target 10 per replica"])
        #expect(state.replicas == 0)

        let demand = Autoscaler.demand(&state, spec: spec, now: 20_000)
        #expect(demand?.summary == "0 → 1: a client waited at the balancer with no replica running")
        #expect(demand?.reason == .demand)
        #expect(state.replicas == 1)
        // Running already: no demand decision.
        #expect(Autoscaler.demand(&state, spec: spec, now: 20_100) == nil)
        // The first second of traffic after the demand (8 req/s) keeps it at 1, and the demand
        // itself is a recommendation: no scale down to 0 for 5 s even if nothing more comes.
        #expect(run(&state, spec, rates: [8, 0, 0, 0], start: 20_250).isEmpty)
        #expect(Autoscaler.step(&state, spec: spec, rate: 0, windowMs: 1000, now: 25_000) == nil)
        #expect(Autoscaler.step(&state, spec: spec, rate: 0, windowMs: 1000, now: 25_300)?.to == 0)
    }

    @Test func withoutATargetTheCountOnlyStaysWithinMinAndMax() {
        let spec = Autoscale(min: 2, max: 5, targetRequestsPerSecond: nil, scaleDownDelay: .seconds(1))
        var state = AutoscaleState(replicas: 3, since: 0)
        #expect(run(&state, spec, rates: [0, 1000, 0, 1000] + Array(repeating: 0, count: 20)).isEmpty)
        var above = AutoscaleState(replicas: 9, since: 0)
        #expect(Autoscaler.step(&above, spec: spec, rate: 0, windowMs: 1000, now: 10)?.summary == "9 → 5: max is now 5")
    }

    @Test func aLowerMaxOrAHigherMinAppliesAtTheNextTick() {
        var state = AutoscaleState(replicas: 8, since: 0)
        let lower = Autoscale(min: 1, max: 6, targetRequestsPerSecond: 10, scaleDownDelay: .seconds(60))
        let first = Autoscaler.step(&state, spec: lower, rate: 80, windowMs: 1000, now: 250)
        #expect(first?.summary == "8 → 6: max is now 6")
        #expect(first?.reason == .limits)
        let higher = Autoscale(min: 7, max: 9, targetRequestsPerSecond: 10, scaleDownDelay: .seconds(60))
        #expect(Autoscaler.step(&state, spec: higher, rate: 0, windowMs: 1000, now: 500)?.summary == "6 → 7: min is now 7")
    }

    @Test func theWindowKeepsOnlyRecommendationsThatCanStillBeItsHighest() {
        var state = AutoscaleState(replicas: 1, since: 0)
        for (i, value) in [5, 3, 4, 2, 2, 6, 1].enumerated() { state.record(value, at: Int64(i), keepingFor: 100) }
        #expect(state.window.map(\.replicas) == [6, 1])
        #expect(state.highestRecommendation == 6)
        state.record(1, at: 200, keepingFor: 100)
        #expect(state.window.map(\.replicas) == [1])
        // A year of ticks with a bounded range never holds more than max − min + 1 entries.
        var long = AutoscaleState(replicas: 10, since: 0)
        for i in 0..<20_000 { long.record(10 - (i % 10), at: Int64(i) * 250, keepingFor: 365 * 86_400_000) }
        #expect(long.window.count <= 10)
    }

    @Test func aScaleDownHeldByTheWindowSaysSo() {
        let held = AutoscaleDecision(from: 6, to: 5, rate: 0, windowMs: 1000, recommended: 1, target: 10, reason: .load)
        #expect(held.summary == "6 → 5: 0.0 req/s over 1s, target 10 per replica (recommended 1; 5 was recommended within scaleDownDelay)")
        #expect(held.cause == "0.0 req/s over 1s, target 10 per replica (recommended 1; 5 was recommended within scaleDownDelay)")
    }

    @Test func theWindowReadsInSecondsWithOneDecimal() {
        #expect([1000, 1047, 1250, 0, 60_000].map { AutoscaleDecision.windowText(Int64($0)) } == ["1s", "1s", "1.3s", "0s", "60s"])
    }

    @Test func rateTextHasOneDecimal() {
        #expect(AutoscaleDecision.rateText(62) == "62.0")
        #expect(AutoscaleDecision.rateText(0.04) == "0.0")
        #expect(AutoscaleDecision.rateText(1830.25) == "1830.3")
    }
}

/// What count plan, status, apply and the watch desire for an autoscaled service.
@Suite struct AutoscaledReplicasTests {
    func spec(_ replicas: Int, _ autoscale: Autoscale?, name: String = "web") -> ServiceSpec {
        var s = ServiceSpec(name: name, image: "shop/customer:1.0", replicas: replicas)
        s.autoscale = autoscale
        return s
    }

    @Test func theCountIsTheAutoscalersThenWhatRunsThenTheStartingCount() {
        let scaled = spec(2, Autoscale(min: 1, max: 10, targetRequestsPerSecond: 50))
        #expect(AutoscaledReplicas.count(scaled, running: 4, decided: 7) == 7)
        #expect(AutoscaledReplicas.count(scaled, running: 4, decided: 70) == 10)
        #expect(AutoscaledReplicas.count(scaled, running: 4) == 4)
        #expect(AutoscaledReplicas.count(scaled, running: 40) == 10)
        #expect(AutoscaledReplicas.count(scaled, running: 0) == 2)
        #expect(AutoscaledReplicas.count(spec(0, Autoscale(min: 1, max: 10)), running: 0) == 1)
        // min 0 and nothing runs: scaled to zero (or never asked for): stays at 0.
        #expect(AutoscaledReplicas.count(spec(3, Autoscale(min: 0, max: 10)), running: 0) == 0)
        // Not autoscaled: spec.replicas whatever runs.
        #expect(AutoscaledReplicas.count(spec(3, nil), running: 5, decided: 9) == 3)
    }

    @Test func aDesiredStateTakesTheCountOfWhatRunsSoAnAutoscaledCountIsNotDrift() throws {
        let desired = DesiredState(
            services: ["web": spec(2, Autoscale(min: 1, max: 10, targetRequestsPerSecond: 50)), "db": spec(1, nil, name: "db")],
            commit: "c1")
        let revision = desired.services["web"]!.revision
        let instances = (1...4).map { Instance(id: "w\($0)", service: "web", revision: revision, state: .running) }
        let observed = ObservedState(project: "shop", services: [ObservedService(name: "web", instances: instances)])
        let autoscaled = desired.autoscaled(observed: observed)
        #expect(autoscaled.services["web"]?.replicas == 4)
        #expect(autoscaled.services["db"]?.replicas == 1)
        let plan = try Planner.plan(desired: autoscaled, observed: observed)
        #expect(plan.steps.filter { $0.service == "web" }.isEmpty)
        // Without the overlay, 4 running against spec.replicas 2 would be a scale-down.
        let unscaled = try Planner.plan(desired: desired, observed: observed)
        #expect(unscaled.steps.filter { $0.service == "web" }.map(\.action) == [.scale])
        let report = StatusReport(desired: autoscaled, observed: observed)
        #expect(report.services.first { $0.name == "web" }?.sync == .synced)
        // The autoscaler's own count wins.
        #expect(desired.autoscaled(observed: observed, decided: ["web": 6]).services["web"]?.replicas == 6)
    }
}

/// The balancer's counters turned into a rate over a sliding window.
@Suite struct RateTrackerTests {
    func traffic(_ requests: Int, connections: Int? = nil, recent: [TrafficSample] = []) -> ServiceTraffic {
        ServiceTraffic(
            service: "web", requestsTotal: requests, connectionsTotal: connections ?? requests, connectionsActive: 0,
            recent: recent)
    }

    @Test func theRateIsTheDifferenceOverTheWindow() throws {
        var tracker = RateTracker()
        for (i, total) in [0, 10, 20, 30, 40, 100, 160].enumerated() {
            tracker.record(traffic(total), uptimeSeconds: 10, at: Int64(i) * 250)
        }
        // Newest at 1,500 ms (160); the newest reading 1,000 ms older is at 500 ms (20).
        let rate = try #require(tracker.rate(windowMs: 1000))
        #expect(rate.perSecond == 140)
        #expect(rate.windowMs == 1000)
        let half = try #require(tracker.rate(windowMs: 500))
        #expect(half.perSecond == 240)
    }

    @Test func newConnectionsCountWhenThereAreMoreThanRequests() throws {
        var tracker = RateTracker()
        tracker.record(traffic(0, connections: 0), uptimeSeconds: 1, at: 0)
        tracker.record(traffic(0, connections: 30), uptimeSeconds: 2, at: 1000)
        #expect(try #require(tracker.rate(windowMs: 1000)).perSecond == 30)
    }

    @Test func aFreshTrackerUsesTheBalancersLastSecondsAndARestartedBalancerStartsAfresh() throws {
        var tracker = RateTracker()
        let recent = [TrafficSample(second: 8, requests: 40, connections: 40), TrafficSample(second: 9, requests: 60, connections: 60)]
        tracker.record(traffic(500, recent: recent), uptimeSeconds: 10, at: 0)
        let seeded = try #require(tracker.rate(windowMs: 1000))
        #expect(seeded.perSecond == 60)
        #expect(seeded.windowMs == 1000)
        #expect(try #require(tracker.rate(windowMs: 2000)).perSecond == 50)
        // The balancer restarted: its counters went back to 5.
        tracker.record(traffic(5, recent: []), uptimeSeconds: 1, at: 250)
        #expect(tracker.rate(windowMs: 1000) == nil)
        tracker.record(traffic(15), uptimeSeconds: 1, at: 750)
        #expect(try #require(tracker.rate(windowMs: 1000)).perSecond == 20)
    }
}
