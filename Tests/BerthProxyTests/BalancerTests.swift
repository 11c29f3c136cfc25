@testable import BerthProxy
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@Suite("Balancer with local backends")
struct BalancerTests {
    /// Reads the tag line a `.tagEcho` backend sends first.
    static func tag(_ client: TestClient) async throws -> (String, NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator) {
        var iterator = client.channel.inbound.makeAsyncIterator()
        var text = ""
        while !text.hasSuffix("\n") {
            guard let chunk = try await iterator.next() else { break }
            text += String(buffer: chunk)
        }
        return (String(text.dropLast()), iterator)
    }

    @Test func equalReplicasTakeTurnsAndTheLeastBusyWins() async throws {
        let backends = try await [TestBackend.start("a", .tagEcho), .start("b", .tagEcho), .start("c", .tagEcho)]
        let (balancer, port) = try await makeBalancer()
        defer { Task { await balancer.shutdown(); for b in backends { await b.close() } } }
        for backend in backends { balancer.table.upsert(backend.endpoint, state: .ready) }

        // Held connections: a, b, c each get one, then a again (all tied at 1, next turn).
        var held: [TestClient] = []
        var tags: [String] = []
        for _ in 0..<4 {
            let client = try await TestClient.connect(port: port)
            held.append(client)
            tags.append(try await Self.tag(client).0)
        }
        #expect(tags == ["a", "b", "c", "a"])
        #expect(balancer.table.snapshot().map(\.activeConnections) == [2, 1, 1])

        // Close b's connection: b is now the least busy and wins; then b and c tie at 1 and
        // the turn (which started at b) moves on to c.
        try await held[1].channel.channel.close()
        try await eventually { balancer.table.activeConnections(of: "b") == 0 }
        let next = try await TestClient.connect(port: port)
        #expect(try await Self.tag(next).0 == "b")
        held.append(next)
        let last = try await TestClient.connect(port: port)
        #expect(try await Self.tag(last).0 == "c")
        held.append(last)
        #expect(balancer.table.snapshot().map(\.activeConnections) == [2, 1, 2])

        for client in held { try? await client.channel.channel.close() }
        try await eventually { balancer.table.snapshot().allSatisfy { $0.activeConnections == 0 } }
        #expect(balancer.table.counters()["web"]?.connectionsActive == 0)
        #expect(balancer.table.counters()["web"]?.connectionsTotal == 6)
    }

    @Test func sequentialConnectionsGoRoundRobin() async throws {
        let backends = try await [TestBackend.start("a", .tagEcho), .start("b", .tagEcho), .start("c", .tagEcho)]
        let (balancer, port) = try await makeBalancer()
        defer { Task { await balancer.shutdown(); for b in backends { await b.close() } } }
        for backend in backends { balancer.table.upsert(backend.endpoint, state: .ready) }
        var order: [String] = []
        for _ in 0..<9 {
            let reply = try await TestClient.exchange(port: port, send: "x", until: { $0.hasSuffix("x") })
            order.append(String(reply.prefix { $0 != "\n" }))
            try await eventually { balancer.table.snapshot().allSatisfy { $0.activeConnections == 0 } }
        }
        #expect(order == ["a", "b", "c", "a", "b", "c", "a", "b", "c"])
        #expect(backends.map { $0.stats.withLockedValue(\.accepted) } == [3, 3, 3])
    }

    @Test func aRefusedConnectIsRetriedOnAnotherReplica() async throws {
        let live = try await TestBackend.start("live", .tagEcho)
        let dead = try await refusedPort()
        let (balancer, port) = try await makeBalancer()
        defer { Task { await balancer.shutdown(); await live.close() } }
        balancer.table.upsert(Endpoint(instance: "dead", service: "web", host: "127.0.0.1", ports: [8081: dead]), state: .ready)
        balancer.table.upsert(live.endpoint, state: .ready)
        for i in 0..<10 {
            let reply = try await TestClient.exchange(port: port, send: "ping \(i)", until: { $0.hasSuffix("ping \(i)") })
            #expect(reply == "live\nping \(i)")
            try await eventually { balancer.table.activeConnections(of: "live") == 0 }
        }
        let counters = try #require(balancer.table.counters()["web"])
        // With two candidates the turn always starts at "dead" (a retry's pick takes a turn too).
        #expect(counters.connectFailures == 10)
        #expect(counters.connectionsTotal == 10)
        #expect(counters.rejected == 0)
        #expect(balancer.table.snapshot().map(\.totalConnections) == [0, 10])

        // No replica left that accepts: the client's connection is closed, nothing sent.
        balancer.table.setState("live", .unhealthy)
        #expect(try await TestClient.exchange(port: port) == "")
        #expect(balancer.table.counters()["web"]?.rejected == 1)
        #expect(balancer.table.counters()["web"]?.connectFailures == 11)
    }

    @Test func anUnhealthyReplicaGetsNoNewConnections() async throws {
        let backends = try await [TestBackend.start("a", .tagEcho), .start("b", .tagEcho)]
        let (balancer, port) = try await makeBalancer()
        defer { Task { await balancer.shutdown(); for b in backends { await b.close() } } }
        for backend in backends { balancer.table.upsert(backend.endpoint, state: .ready) }
        balancer.table.setState("b", .unhealthy, probe: "GET /healthz answered HTTP 500")
        for _ in 0..<6 {
            _ = try await TestClient.exchange(port: port, send: "x", until: { $0.hasSuffix("x") })
        }
        #expect(backends.map { $0.stats.withLockedValue(\.accepted) } == [6, 0])
        #expect(balancer.table.snapshot()[1].lastProbe == "GET /healthz answered HTTP 500")
        // A passing probe brings it back.
        balancer.table.setState("b", .ready, probe: "pass")
        try await eventually { balancer.table.activeConnections(of: "a") == 0 }
        for _ in 0..<2 {
            _ = try await TestClient.exchange(port: port, send: "x", until: { $0.hasSuffix("x") })
            try await eventually { balancer.table.activeConnections(of: "a") + balancer.table.activeConnections(of: "b") == 0 }
        }
        #expect(backends.map { $0.stats.withLockedValue(\.accepted) } == [7, 1])
    }

    @Test func drainLetsOpenConnectionsFinishAndSendsNewOnesElsewhere() async throws {
        let backends = try await [TestBackend.start("a", .tagEcho), .start("b", .tagEcho)]
        let (balancer, port) = try await makeBalancer()
        defer { Task { await balancer.shutdown(); for b in backends { await b.close() } } }
        for backend in backends { balancer.table.upsert(backend.endpoint, state: .ready) }
        let first = try await TestClient.connect(port: port)
        let (firstTag, _) = try await Self.tag(first)
        let second = try await TestClient.connect(port: port)
        _ = try await Self.tag(second)
        let third = try await TestClient.connect(port: port)
        let (thirdTag, thirdInbound) = try await Self.tag(third)
        #expect([firstTag, thirdTag] == ["a", "a"])

        let table = balancer.table
        let drain = Task { await table.drain("a", grace: .seconds(10)) }
        try await eventually { table.state(of: "a") == .draining }
        // New connections go to b only.
        for _ in 0..<3 {
            let reply = try await TestClient.exchange(port: port, send: "n", until: { $0.hasSuffix("n") })
            #expect(reply == "b\nn")
        }
        // The open connection to a still works while a drains.
        var inbound = thirdInbound
        try await third.channel.outbound.write(ByteBuffer(string: "still there"))
        var echoed = ""
        while echoed != "still there", let chunk = try await inbound.next() { echoed += String(buffer: chunk) }
        #expect(echoed == "still there")

        try await first.channel.channel.close()
        try await eventually { table.activeConnections(of: "a") == 1 }
        try await Task.sleep(for: .milliseconds(100))
        #expect(table.state(of: "a") == .draining)
        try await third.channel.channel.close()
        let result = await drain.value
        #expect(result.drained)
        #expect(result.remaining == 0)
        #expect(result.known)
        #expect(result.waitedMs >= 100)
        try await second.channel.channel.close()
    }

    @Test func drainReturnsAtTheGraceDeadline() async throws {
        let backend = try await TestBackend.start("a", .tagEcho)
        let (balancer, port) = try await makeBalancer()
        defer { Task { await balancer.shutdown(); await backend.close() } }
        balancer.table.upsert(backend.endpoint, state: .ready)
        let held = try await TestClient.connect(port: port)
        _ = try await Self.tag(held)
        let started = ContinuousClock.now
        let result = await balancer.table.drain("a", grace: .milliseconds(300))
        let waited = ContinuousClock.now - started
        #expect(result == DrainResult(instance: "a", drained: false, remaining: 1, known: true, waitedMs: result.waitedMs))
        #expect(waited >= .milliseconds(300) && waited < .seconds(2))
        #expect(result.waitedMs >= 300)
        // Idle and unknown instances drain at once.
        let unknown = await balancer.table.drain("nobody", grace: .seconds(5))
        #expect(unknown == DrainResult(instance: "nobody", drained: true, remaining: 0, known: false, waitedMs: 0))
        try await held.channel.channel.close()
        // A retired instance never becomes ready by discovery again, only by markReady.
        balancer.table.upsert(Endpoint(instance: "nobody", service: "web", host: "127.0.0.1", ports: [8081: 1]), state: .ready)
        #expect(balancer.table.state(of: "nobody") == .draining)
        balancer.table.markReady("nobody")
        #expect(balancer.table.state(of: "nobody") == .ready)
    }

    @Test func clientFINPassesThroughAndTheReplyStillArrives() async throws {
        let backend = try await TestBackend.start("a", .replyAfterEOF)
        let (balancer, port) = try await makeBalancer()
        defer { Task { await balancer.shutdown(); await backend.close() } }
        balancer.table.upsert(backend.endpoint, state: .ready)
        let reply = try await TestClient.exchange(port: port, send: "request body", halfClose: true)
        #expect(reply == "a got: request body")
        try await eventually { backend.stats.withLockedValue(\.open) == 0 && balancer.table.activeConnections(of: "a") == 0 }
        #expect(backend.stats.withLockedValue(\.received) == ["request body"])
    }

    @Test func replicaFINPassesThroughAndTheClientCanStillSend() async throws {
        let backend = try await TestBackend.start("a", .halfCloseFirst)
        let (balancer, port) = try await makeBalancer()
        defer { Task { await balancer.shutdown(); await backend.close() } }
        balancer.table.upsert(backend.endpoint, state: .ready)
        let client = try await TestClient.connect(port: port)
        let greeting = try await client.channel.executeThenClose { inbound, outbound in
            var received = ""
            for try await chunk in inbound { received += String(buffer: chunk) }  // ends at the replica's FIN
            try await outbound.write(ByteBuffer(string: "after your FIN"))
            outbound.finish()
            return received
        }
        #expect(greeting == "hello from a")
        try await eventually { backend.stats.withLockedValue(\.received) == ["after your FIN"] }
        try await eventually { backend.stats.withLockedValue(\.open) == 0 && balancer.table.activeConnections(of: "a") == 0 }
    }

    @Test func aSlowClientHoldsBackTheReplicaInsteadOfFillingMemory() async throws {
        let total = 64 << 20
        let backend = try await TestBackend.start("a", .flood(total: total))
        let (balancer, port) = try await makeBalancer()
        defer { Task { await balancer.shutdown(); await backend.close() } }
        balancer.table.upsert(backend.endpoint, state: .ready)
        let client = try await TestClient.connect(port: port)
        // Do not read for a while: the replica must stall after socket buffers fill.
        try await Task.sleep(for: .milliseconds(500))
        let stalledAt = backend.stats.withLockedValue(\.written)
        #expect(stalledAt < 24 << 20, "the balancer buffered \(stalledAt) bytes for a client that reads nothing")
        let received = try await client.channel.executeThenClose { inbound, _ in
            var count = 0
            for try await chunk in inbound { count += chunk.readableBytes }
            return count
        }
        #expect(received == total)
        #expect(balancer.table.counters()["web"]?.bytesSent == total)
    }

    @Test func accountingCountsBytesAndKeepAliveRequests() async throws {
        let backend = try await TestBackend.start("a", .http)
        let (balancer, port) = try await makeBalancer()
        defer { Task { await balancer.shutdown(); await backend.close() } }
        balancer.table.upsert(backend.endpoint, state: .ready)
        let request = "GET /x HTTP/1.1\r\nHost: t\r\n\r\n"
        let response = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"
        // One keep-alive connection: two pipelined requests, then a third.
        let client = try await TestClient.connect(port: port)
        try await client.channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: request + request))
            var received = ""
            var iterator = inbound.makeAsyncIterator()
            while received.count < 2 * response.count, let chunk = try await iterator.next() { received += String(buffer: chunk) }
            try await outbound.write(ByteBuffer(string: request))
            while received.count < 3 * response.count, let chunk = try await iterator.next() { received += String(buffer: chunk) }
            #expect(received == response + response + response)
        }
        // A second connection with one request.
        let one = try await TestClient.exchange(port: port, send: request, until: { $0.count >= response.count })
        #expect(one == response)
        try await eventually { balancer.table.counters()["web"]?.connectionsActive == 0 }
        let counters = try #require(balancer.table.counters()["web"])
        #expect(counters.httpRequests == 4)
        #expect(counters.connectionsTotal == 2)
        #expect(counters.bytesReceived == 4 * request.utf8.count)
        #expect(counters.bytesSent == 4 * response.utf8.count)
        let metrics = MetricsRenderer.render(
            project: "shop", counters: balancer.table.counters(), endpoints: balancer.table.snapshot())
        #expect(
            metrics == """
                # HELP berth_proxy_bytes_received_total Bytes forwarded from clients to replicas.
                # TYPE berth_proxy_bytes_received_total counter
                berth_proxy_bytes_received_total{project="shop",service="web"} 112
                # HELP berth_proxy_bytes_sent_total Bytes forwarded from replicas to clients.
                # TYPE berth_proxy_bytes_sent_total counter
                berth_proxy_bytes_sent_total{project="shop",service="web"} 156
                # HELP berth_proxy_connect_failures_total Connects to a replica that failed (retried on another replica when one was left).
                # TYPE berth_proxy_connect_failures_total counter
                berth_proxy_connect_failures_total{project="shop",service="web"} 0
                # HELP berth_proxy_connections_active Client connections open now.
                # TYPE berth_proxy_connections_active gauge
                berth_proxy_connections_active{project="shop",service="web"} 0
                # HELP berth_proxy_connections_rejected_total Client connections closed because no replica was ready.
                # TYPE berth_proxy_connections_rejected_total counter
                berth_proxy_connections_rejected_total{project="shop",service="web"} 0
                # HELP berth_proxy_connections_total Client connections forwarded to a replica.
                # TYPE berth_proxy_connections_total counter
                berth_proxy_connections_total{project="shop",service="web"} 2
                # HELP berth_proxy_endpoint_connections_active Open connections per replica.
                # TYPE berth_proxy_endpoint_connections_active gauge
                berth_proxy_endpoint_connections_active{instance="a",project="shop",service="web",state="ready"} 0
                # HELP berth_proxy_http_requests_total HTTP/1.x requests seen from clients (request lines; keep-alive aware).
                # TYPE berth_proxy_http_requests_total counter
                berth_proxy_http_requests_total{project="shop",service="web"} 4

                """)
    }
}
