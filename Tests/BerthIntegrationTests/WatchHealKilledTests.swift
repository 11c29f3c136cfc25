import BerthTestSupport
import Foundation
import Testing

/// Issue 11, on the real dockerd: `docker kill` from outside is healed at once every time,
/// also when the container killed is a replacement still waiting for its health check.
/// Before the fix its heal step failed ("exited with code 137 before it became healthy"),
/// counted as a crash, and the next such kill waited out a 10 s backoff.
@Suite(.serialized) struct WatchHealKilledTests {
    @Test func aReplacementKilledBeforeItIsHealthyIsReplacedAtOnceEveryTime() throws {
        let h = try WatchHarness()
        defer { h.stop() }
        // Healthy about 2 s after it starts: long enough to kill it before.
        let web = WatchHarness.service(
            "web", replicas: 1, startPeriod: "10s", extra: "  command: [\"/bin/sh\", \"-c\", \"sleep 2; exec /entry.sh\"]")
        try h.commit(["manifests/web.yaml": web], "web, slow to become healthy")
        try h.start(interval: "5m")
        func healthy() throws -> Bool {
            let services = try h.json("/api/v1/status")["services"] as? [[String: Any]] ?? []
            let running = try Docker.running(h.project).count
            return services.first?["health"] as? String == "Healthy" && running == 1
        }
        #expect(try eventually(within: 30) { try healthy() }, "\(h.log())")

        var seen = Set(try Docker.all(h.project))
        for round in 1...3 {
            let victim = try #require(try Docker.running(h.project).first)
            try sh(["docker", "kill", victim])
            var replacement: String?
            #expect(try eventually(within: 5) {
                replacement = try Docker.running(h.project).first { !seen.contains($0) }
                return replacement != nil
            }, "round \(round): no replacement: \(h.log())")
            let first = try #require(replacement)
            seen.insert(first)
            try sh(["docker", "kill", first])  // before its health check passes (≥ 2 s)
            var again: String?
            let started = Date()
            // At once: a container start (under a second on a quiet machine, 2-3 s at a
            // load of 15), not a 4 s probe of the dead one (Docker still listed it as
            // running) followed by the start, nor a 10 s backoff.
            #expect(try eventually(within: 5) {
                again = try Docker.running(h.project).first { !seen.contains($0) }
                return again != nil
            }, "round \(round): the killed replacement was not replaced at once: \(h.log())")
            #expect(Date().timeIntervalSince(started) < 4, "round \(round): \(h.log())")
            if let again { seen.insert(again) }
            #expect(try eventually(within: 15) { try healthy() }, "round \(round): \(h.log())")
            let watch = try h.json("/api/v1/status")["watch"] as? [String: Any]
            #expect((watch?["backoff"] as? [Any])?.isEmpty == true, "round \(round): \(watch ?? [:])")
            seen.formUnion(try Docker.all(h.project))
        }
        #expect(h.log().contains("replacement killed before it became healthy; healed again at once"))
        #expect(h.terminate() == 0)
    }
}
