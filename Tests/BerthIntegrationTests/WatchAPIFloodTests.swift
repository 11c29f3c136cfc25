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
    /// A connected, idle TCP socket to 127.0.0.1:`port`, or -1.
    static func idleConnection(port: Int) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return -1 }
        // A connect the server's backlog cannot take gives up after 2 s (not the kernel's ~2 min).
        var limit = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if connected != 0 {
            close(fd)
            return -1
        }
        return fd
    }

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
            let fd = Self.idleConnection(port: h.port)
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
