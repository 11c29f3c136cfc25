import BerthTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue 18, finding 6, with a real watch and dockerd: 1,067 idle connections to the watch
/// API under a 1,024 descriptor limit made `/healthz` time out, and git and the Docker
/// socket failed with "Too many open files", so a killed container was not replaced for
/// ~50 s.
@Suite(.serialized) struct WatchAPIFloodTests {
    /// A watch held to 1,024 descriptors (soft and hard) under 2,000 idle API connections:
    /// `/healthz` still answers, and a killed replica is still replaced.
    @Test func twoThousandIdleAPIConnectionsUnderA1024LimitStopNeitherTheAPINorHealing() throws {
        let h = try WatchHarness()
        var idle: [Int32] = []
        defer {
            for fd in idle { close(fd) }
            h.stop()
        }
        try h.commit(["manifests/web.yaml": WatchHarness.service("web", replicas: 1)], "web")
        try h.start(prlimit: "1024:1024")
        try #require(eventually(within: 30) { h.healthyServices() == ["web"] }, "\(h.log())")

        for _ in 0..<2_000 {
            let fd = LoopbackSocket.idle(port: h.port)
            if fd >= 0 { idle.append(fd) }
        }
        #expect(idle.count == 2_000)
        Thread.sleep(forTimeInterval: 1)
        let started = Date()
        let health = try h.http("GET", "/healthz")
        #expect(health.status == 200, "\(h.log().suffix(2000))")
        #expect(Date().timeIntervalSince(started) < 2)

        let victim = try #require(try Docker.running(h.project, service: "web").first)
        let killed = Date()
        _ = try sh(["docker", "kill", victim])
        let healed = eventually(within: 20) {
            let running = (try? Docker.running(h.project, service: "web")) ?? []
            return running.count == 1 && !running.contains(victim)
        }
        let seconds = Date().timeIntervalSince(killed)
        print("watch under 2,000 idle API connections, 1,024 fds: killed replica replaced (running) after \(String(format: "%.2f", seconds)) s")
        #expect(healed, "\(h.log().suffix(3000))")
        #expect(seconds < 5)
        #expect(!h.log().contains("Too many open files"), "\(h.log().suffix(3000))")
    }
}
