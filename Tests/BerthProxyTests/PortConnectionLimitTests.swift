import BerthCore
import BerthTestSupport
@testable import BerthProxy
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue 18, item 3 (rest): `berth proxy --max-connections N`, the most client connections
/// open at once on each published port, beside the process-wide budget from the descriptor
/// limit. A real `berth proxy` in front of real replicas of two services, on loopback.
@Suite("berth proxy --max-connections", .serialized)
struct PortConnectionLimitTests {
    /// Three idle clients hold the port's three connections: a fourth is closed at once
    /// (counted with its port, one log line), the other published port serves as before, and
    /// once the idle ones close the port answers again.
    @Test func aPortAtItsLimitClosesANewClientAtOnceAndLeavesOtherPortsAlone() async throws {
        let proxy = try await DescriptorExhaustionTests.Proxy.start(
            "portcap", services: 2, arguments: ["--max-connections", "3"], nofile: nil)
        var idle: [Int32] = []
        defer { for fd in idle { close(fd) } }
        do {
            let port = proxy.publish
            for _ in 0..<3 { idle.append(LoopbackSocket.idle(port: port)) }
            #expect(idle.allSatisfy { $0 >= 0 })
            let active = proxy.metric("berth_proxy_connections_active", ",service=\"gateway\"")
            let deadline = ContinuousClock.now + .seconds(5)
            while try await proxy.metrics()[active] != 3, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(try await proxy.metrics()[active] == 3)

            let started = ContinuousClock.now
            let fourth = DescriptorExhaustionTests.newClient(port: port, timeout: 5)
            let took = ContinuousClock.now - started
            print("berth proxy --max-connections 3: the 4th client on the port closed after \(took)")
            #expect(fourth == "closed")
            #expect(took < .seconds(1))
            #expect(DescriptorExhaustionTests.newClient(port: proxy.published[1]) == "HTTP/1.1 200 OK")

            let metrics = try await proxy.metrics()
            #expect(metrics[proxy.metric("berth_proxy_connections_refused_total", ",port=\"\(port)\",reason=\"port_limit\"")] == 1)
            #expect(metrics[proxy.metric("berth_proxy_connections_refused_total", ",reason=\"connection_limit\"")] == 0)
            #expect(metrics[proxy.metric("berth_proxy_port_connections_limit")] == 3)
            #expect(metrics[proxy.metric("berth_proxy_connections_active", ",service=\"gateway\"")] == 3)
            let lines = proxy.log.filter { $0.contains("is at its connection limit") }
            #expect(lines.count == 1, "\(proxy.log)")
            #expect(
                lines.first?.contains(
                    "port \(port) is at its connection limit (3 client connections, --max-connections): new connections to it are refused at once until some close")
                    == true, "\(lines)")

            for fd in idle { close(fd) }
            idle = []
            #expect(try await DescriptorExhaustionTests.answered(port: port) == "HTTP/1.1 200 OK")
        } catch {
            await proxy.stop()
            throw error
        }
        await proxy.stop()
    }

    /// Without the flag, no port limit is rendered (and nothing is counted per port).
    @Test func withoutTheFlagNoPortLimitIsRendered() async throws {
        let balancer = Balancer(bindHost: "127.0.0.1")
        let service = try await ProxyService.start(project: "shop", balancer: balancer, endpoints: nil)
        defer { Task { await service.shutdown() } }
        #expect(!service.metrics().contains("berth_proxy_port_connections_limit"))
        #expect(!service.metrics().contains("port_limit"))
        #expect(balancer.ports.take(port: 8080))
        #expect(balancer.ports.open(port: 8080) == 0)
    }

    /// The flag takes 1 to 1,000,000; anything else is a usage error (exit 64) naming it.
    @Test func anOutOfRangeOrNonNumericLimitIsAUsageError() throws {
        for (value, message) in [
            ("0", "--max-connections: expected a number from 1 to 1000000, found 0"),
            ("1000001", "--max-connections: expected a number from 1 to 1000000, found 1000001"),
            ("many", "The value 'many' is invalid for '--max-connections <n>'"),
        ] {
            let r = try ProcessRunner.berth(["proxy", "--project", "x", "--max-connections", value])
            #expect(r.status == 64, "\(r.stderr)")
            #expect(r.stderr.contains(message), "\(r.stderr)")
        }
    }
}
