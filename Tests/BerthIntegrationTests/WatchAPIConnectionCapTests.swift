import BerthTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue 18, item 3 (rest): `berth watch --api-max-connections N` (default 512). At the cap
/// a new connection closes the one idle the longest (an idle flood cannot lock `/healthz`
/// out), or, when every connection has a request in flight, is closed at once. Real watch,
/// loopback, bounded.
@Suite(.serialized) struct WatchAPIConnectionCapTests {
    /// A connection that sent `request` (or nothing), or -1.
    static func open(_ port: Int, _ request: String?) -> Int32 {
        let fd = LoopbackSocket.connect(port: port, sendTimeout: 2, receiveTimeout: 5)
        guard fd >= 0 else { return -1 }
        if let request {
            let bytes = Array(request.utf8)
            _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
        return fd
    }

    /// What `fd` reads within its receive timeout: the first bytes, "closed" (EOF or reset)
    /// or "no answer".
    static func read(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count > 0 { return String(decoding: buffer[..<min(count, 15)], as: UTF8.self) }
        if count == 0 || errno == ECONNRESET { return "closed" }
        return "no answer"
    }

    @Test func pastItsCapTheAPIRefusesANewConnectionFastAndAnswersOnceSomeClose() throws {
        let h = try WatchHarness()
        var held: [Int32] = []
        defer {
            for fd in held { close(fd) }
            h.stop()
        }
        try h.commit(["manifests/web.yaml": WatchHarness.service("web", replicas: 0)], "web x0")
        // No interval sync for an hour: no event ends the long polls below.
        try h.start(interval: "1h", extraArguments: ["--api-max-connections", "4"])
        try #require(eventually(within: 30) { h.healthyServices() == ["web"] }, "\(h.log())")

        // Four long polls in flight (events after the last one, waiting 20 s).
        let last = try #require(try h.json("/api/v1/events")["next"] as? Int)
        for _ in 0..<4 {
            held.append(Self.open(h.port, "GET /api/v1/events?after=\(last)&wait=20s HTTP/1.1\r\nHost: x\r\n\r\n"))
        }
        #expect(held.allSatisfy { $0 >= 0 })
        Thread.sleep(forTimeInterval: 0.5)
        let started = Date()
        let fifth = Self.open(h.port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        let answer = Self.read(fifth)
        let took = Date().timeIntervalSince(started)
        close(fifth)
        print("watch --api-max-connections 4, 4 requests in flight: a 5th connection \(answer) after \(String(format: "%.3f", took)) s")
        #expect(answer == "closed")
        #expect(took < 1)

        for fd in held { close(fd) }
        held = []
        #expect(eventually(within: 5) { (try? h.http("GET", "/healthz").status) == 200 })

        // Four idle connections: a new one is answered, the one idle the longest is closed.
        for _ in 0..<4 { held.append(Self.open(h.port, nil)) }
        Thread.sleep(forTimeInterval: 0.3)
        let health = try h.http("GET", "/healthz")
        #expect(health.status == 200)
        // The four are admitted on several event loops, so which of them was idle the
        // longest is not always the first opened: exactly one of them is closed.
        #expect(Self.closed(held, within: 3) == 1)
    }

    /// How many of `fds` the server closed within `seconds` (each one read once it is
    /// readable; one that stays unreadable is open).
    static func closed(_ fds: [Int32], within seconds: Double) -> Int {
        var watched = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        var closed = Set<Int32>()
        let deadline = Date().addingTimeInterval(seconds)
        while closed.isEmpty, Date() < deadline {
            guard poll(&watched, nfds_t(watched.count), 100) > 0 else { continue }
            for entry in watched where entry.revents != 0 && read(entry.fd) == "closed" { closed.insert(entry.fd) }
            watched = watched.filter { !closed.contains($0.fd) }.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
        }
        // A second closing would be a bug: give it a moment to show.
        if poll(&watched, nfds_t(watched.count), 300) > 0 {
            for entry in watched where entry.revents != 0 && read(entry.fd) == "closed" { closed.insert(entry.fd) }
        }
        return closed.count
    }

    @Test func anOutOfRangeOrNonNumericCapIsAUsageError() throws {
        for (value, message) in [
            ("0", "--api-max-connections: expected a number from 1 to 1000000, found 0"),
            ("2000000", "--api-max-connections: expected a number from 1 to 1000000, found 2000000"),
            ("lots", "The value 'lots' is invalid for '--api-max-connections <n>'"),
        ] {
            let r = try ProcessRunner.berth(["watch", "--api-max-connections", value])
            #expect(r.status == 64, "\(r.stderr)")
            #expect(r.stderr.contains(message), "\(r.stderr)")
        }
    }
}
