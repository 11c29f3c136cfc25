import Foundation

/// The figures of `berth-bench autoscale`, with issue 12's targets next to them.
extension AutoscaleBench {
    static func report(
        rounds: [Round], noise: Noise, cold: [Cold], expected: Int, options: Options
    ) {
        func ms(_ v: Double) -> String { v.isNaN ? "     —" : String(format: "%6.2f s", v) }
        func row(_ label: String, _ values: [Double], median: Bool = true) {
            let cells = values.map(ms).joined(separator: " ")
            let m = median ? "  median " + ms(HealBench.median(values.filter { !$0.isNaN })) : ""
            print(label.padding(toLength: 58, withPad: " ", startingAt: 0) + cells + m)
        }
        print("")
        print("load step \(Int(low)) → \(Int(high)) req/s (about 1× → 6× the target), 1 → \(expected) replicas, \(rounds.count) round(s):")
        row("  step → first decision (/metrics, 50 ms looks)", rounds.map(\.decision))
        row("  step → first autoscale sync started (journal)", rounds.map(\.syncStarted))
        row("  step → count \(expected) decided", rounds.map(\.counted))
        row("  step → all \(expected) ready in the balancer (serving)", rounds.map(\.serving))
        row("  step → scale sync to \(expected) ended (journal: all healthy)", rounds.map(\.synced))
        row("  floor: \(expected - 1) containers at once, docker run → /healthz", rounds.map(\.floor))
        row("  step → all serving − floor", rounds.map { $0.serving - $0.floor })
        row("  first decision → all serving", rounds.map { $0.serving - $0.decision })
        row("  count \(expected) decided → all serving", rounds.map { $0.serving - $0.counted })
        print(String(format: "  ratio step → all serving / floor (median): %.2f", HealBench.median(rounds.map { $0.serving / $0.floor })))
        print("load drop \(Int(high)) → \(Int(low)) req/s (scaleDownDelay 5s):")
        row("  drop → decision down", rounds.map(\.downDecision))
        row("  drop → 1 left in the balancer", rounds.map(\.downServing))
        row("  drop → 1 container running", rounds.map(\.downRunning))
        print("requests (all rounds together; new connection per request):")
        let up = rounds.flatMap(\.up), down = rounds.flatMap(\.down)
        let before = LoadWindow(rounds.flatMap(\.before), seconds: 3 * Double(rounds.count))
        let during = LoadWindow(up, seconds: rounds.map(\.upSeconds).reduce(0, +))
        let after = LoadWindow(rounds.flatMap(\.after), seconds: 3 * Double(rounds.count))
        let scaleDown = LoadWindow(down, seconds: rounds.map(\.downSeconds).reduce(0, +))
        print("  before the step (\(Int(low)) req/s, 3 s)      " + before.line)
        print("  scale-up (step → all serving)        " + during.line)
        print("  after it (\(Int(high)) req/s, 3 s)            " + after.line)
        print("  scale-down (drop → 1 left + 1 s)     " + scaleDown.line)
        print(String(format: "noise: %.0f req/s ±20 %% (a factor drawn each second), %.0f s, steady (target 20, scaleDownDelay 10s): %d → %d replicas; %d decisions (%d up, %d down); %d reversals (flaps)",
                     steadyLevel, options.noiseSeconds, noise.start, noise.end, noise.decisions.count, noise.decisions.filter(\.up).count,
                     noise.decisions.filter { !$0.up }.count, noise.reversals))
        print("  requests under noise                 " + noise.window.line)
        print("cold start from zero (min 0), 10 concurrent first requests, \(cold.count) round(s):")
        row("  floor: docker run → /healthz (same round)", cold.map(\.floor))
        row("  first request answered", cold.map(\.first))
        row("  first answered − floor", cold.map { $0.first - $0.floor })
        print(String(format: "  ratio first answered / floor (median): %.2f", HealBench.median(cold.map { $0.first / $0.floor })))
        row("  all 10 answered", cold.map(\.all))
        row("  idle → back to 0 (scaleDownDelay 3s)", cold.map(\.toZero))
        let coldFailed = cold.map(\.failed).reduce(0, +)
        print("  failed: \(coldFailed) of \(cold.count * 10)")

        print("")
        print("targets (issue 12), judged on the median of the rounds (worst round beside it):")
        func verdict(_ met: Bool) -> String { met ? "met" : "NOT met" }
        // A round without the figure (never seen) is the worst of all.
        func worst(_ values: [Double]) -> Double { values.contains { $0.isNaN } ? .nan : values.max() ?? .nan }
        func judged(_ label: String, _ values: [Double], limit: Double, signed: Bool = false) {
            let m = HealBench.median(values.filter { !$0.isNaN }), w = worst(values)
            let f = signed ? "%+.2f s" : "%.2f s"
            print("  \(label): median \(String(format: f, m)), worst \(String(format: f, w)) — \(verdict(m <= limit))")
        }
        judged("first decision ≤ 1 s after the step", rounds.map(\.decision), limit: 1)
        judged("new replicas serving within 1 s of the floor (step → all serving − floor)", rounds.map { $0.serving - $0.floor }, limit: 1, signed: true)
        let failed = [before, during, after, scaleDown, noise.window].map(\.failed).reduce(0, +) + coldFailed
        let sent = [before, during, after, scaleDown, noise.window].map(\.requests).reduce(0, +) + cold.count * 10
        print("  0 failed requests: \(failed) failed of \(sent) (scale-up \(during.failed), scale-down \(scaleDown.failed), noise \(noise.window.failed), cold \(coldFailed)) — \(verdict(failed == 0))")
        print("  0 flaps under ±20 % noise: \(noise.reversals) reversals in \(noise.decisions.count) decisions — \(verdict(noise.reversals == 0))")
        judged("first request from zero within 0.5 s of the floor (first answered − floor)", cold.map { $0.first - $0.floor }, limit: 0.5, signed: true)
        print("published, not measured here: Kubernetes HPA evaluates every 15 s; KEDA polls every 30 s; Knative's panic window is 6 s, its cold start about 4 s")
    }
}
