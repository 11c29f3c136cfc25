import BerthCore
@testable import BerthEngine
import Testing

/// A health check read back from a container's labels (a service a refused mass delete
/// keeps as it runs) is whatever the label says: any local Docker user can write it. The
/// health monitor's watch over an instance is `failureThreshold` intervals plus a timeout;
/// in `Int64` milliseconds that product trapped for a hostile label (issue 18: no input
/// crashes a Berth process).
@Suite struct HealthMonitorLimitTests {
    static func check(interval: Int64, timeout: Int64, threshold: Int) -> HealthCheck {
        HealthCheck(
            probe: .http(path: "/healthz", port: 8080), interval: Millis(interval), timeout: Millis(timeout),
            startPeriod: .zero, failureThreshold: threshold)
    }

    @Test func aManifestsCheckGivesThresholdIntervalsAndTheTimeoutPlusASecond() {
        #expect(ReconcileLoop.monitorSeconds(Self.check(interval: 1_000, timeout: 500, threshold: 3)) == 4.5)
        #expect(ReconcileLoop.monitorSeconds(Self.check(interval: 200, timeout: 1_000, threshold: 0)) == 2.2)
    }

    @Test func hostileNumbersFromALabelAreBoundedNotATrap() {
        #expect(ReconcileLoop.monitorSeconds(Self.check(interval: .max, timeout: .max, threshold: .max)) == 86_400)
        #expect(ReconcileLoop.monitorSeconds(Self.check(interval: .min, timeout: .min, threshold: .min)) == 1)
        #expect(ReconcileLoop.monitorSeconds(Self.check(interval: -5, timeout: 0, threshold: 2)) == 1)
    }
}
