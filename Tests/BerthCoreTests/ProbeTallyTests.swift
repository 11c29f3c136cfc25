import BerthCore
import Testing

@Suite struct ProbeTallyTests {
    let check = HealthCheck(
        probe: .tcp(port: 8080), interval: .seconds(1), timeout: Millis(500), startPeriod: .seconds(2), failureThreshold: 3)

    @Test func failuresCountOncePerIntervalAndOnlyAfterTheStartPeriod() {
        var tally = ProbeTally(check: check)
        // Within the start period: nothing counts, probes every 100 ms.
        #expect(tally.record(.fail("refused"), elapsed: .milliseconds(100)) == .failing(failures: 0, lastFailure: "refused"))
        #expect(tally.nextProbeDelay == .milliseconds(100))
        #expect(tally.record(.fail("refused"), elapsed: .milliseconds(2000)) == .failing(failures: 1, lastFailure: "refused"))
        // 100 ms later: the same interval, not counted again.
        #expect(tally.record(.fail("refused"), elapsed: .milliseconds(2100)) == .failing(failures: 1, lastFailure: "refused"))
        #expect(tally.record(.fail("refused"), elapsed: .milliseconds(3000)) == .failing(failures: 2, lastFailure: "refused"))
        #expect(tally.record(.fail("timed out"), elapsed: .milliseconds(4000)) == .unhealthy(lastFailure: "timed out"))
    }

    @Test func aPassIsHealthyAtOnceAndClearsTheCount() {
        var tally = ProbeTally(check: check)
        #expect(tally.record(.fail("x"), elapsed: .seconds(3)) == .failing(failures: 1, lastFailure: "x"))
        #expect(tally.record(.pass, elapsed: .milliseconds(3100)) == .healthy)
        #expect(tally.failures == 0)
        #expect(tally.nextProbeDelay == .seconds(1))
    }

    @Test func afterAPassTheStartPeriodNoLongerShieldsFailures() {
        var tally = ProbeTally(check: check)
        #expect(tally.record(.pass, elapsed: .milliseconds(100)) == .healthy)
        #expect(tally.record(.fail("x"), elapsed: .milliseconds(1100)) == .failing(failures: 1, lastFailure: "x"))
        #expect(tally.record(.fail("x"), elapsed: .milliseconds(2100)) == .failing(failures: 2, lastFailure: "x"))
        #expect(tally.record(.fail("x"), elapsed: .milliseconds(3100)) == .unhealthy(lastFailure: "x"))
        #expect(tally.record(.pass, elapsed: .milliseconds(4100)) == .healthy)
    }
}

@Suite struct PrometheusTextTests {
    @Test func familiesByNameSeriesByLabelValuesEscaped() {
        let text = PrometheusText.render([
            MetricFamily(
                "b_total", .counter, help: "B, with a \\ and a\nnewline.",
                samples: [
                    MetricSample([("project", "shop"), ("service", "web")], 2),
                    MetricSample([("project", "shop"), ("service", "api \"v2\"\n")], 1.5),
                ]),
            MetricFamily(
                "a_seconds", .histogram, help: "A.",
                samples: [
                    MetricSample(suffix: "_bucket", [("le", "0.5")], 1), MetricSample(suffix: "_bucket", [("le", "10")], 2),
                    MetricSample(suffix: "_bucket", [("le", "+Inf")], 2), MetricSample(suffix: "_sum", [], 3.25),
                    MetricSample(suffix: "_count", [], 2),
                ]),
        ])
        #expect(
            text == """
                # HELP a_seconds A.
                # TYPE a_seconds histogram
                a_seconds_bucket{le="0.5"} 1
                a_seconds_bucket{le="10"} 2
                a_seconds_bucket{le="+Inf"} 2
                a_seconds_sum 3.25
                a_seconds_count 2
                # HELP b_total B, with a \\\\ and a\\nnewline.
                # TYPE b_total counter
                b_total{project="shop",service="api \\"v2\\"\\n"} 1.5
                b_total{project="shop",service="web"} 2

                """)
    }
}
