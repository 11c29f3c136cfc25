@testable import BerthProxy
import NIOConcurrencyHelpers
import NIOCore
import Testing

@Suite("Client keep-alive in front of replicas that close")
struct ClosingResponseTests {
    /// Runs `dropConnectionClose` on `text`; returns the resulting bytes and whether it rewrote.
    static func drop(_ text: String) -> (String, Bool) {
        let (bytes, rewrite) = rewrite(text)
        return (bytes, rewrite != nil)
    }

    static func rewrite(_ text: String) -> (String, ClosingResponse.Rewrite?) {
        var bytes = Array(text.utf8)
        let count = bytes.count
        let result = bytes.withUnsafeMutableBytes { ClosingResponse.dropConnectionClose($0.baseAddress!, count: count) }
        return (String(decoding: bytes[..<(result?.count ?? count)], as: UTF8.self), result)
    }

    @Test func theBodyStillToComeIsKnownForContentLengthAndEmptyResponses() {
        let head = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\n"
        #expect(Self.rewrite(head).1 == .init(count: head.utf8.count - 19, bodyRemaining: 5))
        #expect(Self.rewrite(head + "ab").1 == .init(count: head.utf8.count - 17, bodyRemaining: 3))
        #expect(Self.rewrite(head + "abcde").1 == .init(count: head.utf8.count - 14, bodyRemaining: 0))
        // More than announced, chunked, and a 304 with a body: only the replica's FIN says.
        #expect(Self.rewrite(head + "abcdef").1?.bodyRemaining == .some(nil))
        let chunked = "HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        #expect(Self.rewrite(chunked).1?.bodyRemaining == .some(nil))
        #expect(Self.rewrite("HTTP/1.1 304 Not Modified\r\nConnection: close\r\nContent-Length: 9\r\n\r\n").1?.bodyRemaining == 0)
    }

    @Test func theConnectionCloseLineOfADelimitedResponseIsDropped() {
        #expect(
            Self.drop("HTTP/1.1 200 OK\r\nDate: x\r\nconnection:  CLOSE \r\nContent-Length: 1\r\n\r\na")
                == ("HTTP/1.1 200 OK\r\nDate: x\r\nContent-Length: 1\r\n\r\na", true))
        #expect(
            Self.drop("HTTP/1.1 404 Not Found\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n")
                == ("HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n", true))
        #expect(Self.drop("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n") == ("HTTP/1.1 204 No Content\r\n\r\n", true))
    }

    @Test func responsesTheClientCannotDelimitOrThatDoNotCloseAreLeftAlone() {
        let untouched = [
            // The body ends at the close: the client needs the FIN.
            "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbody until FIN",
            // The replica keeps the connection: nothing to do.
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na",
            "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\na",
            "HTTP/1.1 200 OK\r\nConnection: close, x-other\r\nContent-Length: 1\r\n\r\na",
            // HTTP/1.0, informational, not HTTP, a head not complete in the first read.
            "HTTP/1.0 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na",
            "HTTP/1.1 100 Continue\r\nConnection: close\r\n\r\n",
            "SSH-2.0-OpenSSH_9.2\r\n",
            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Len",
            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: x\r\n\r\n",
        ]
        for text in untouched {
            #expect(Self.drop(text) == (text, false), "\(text.debugDescription)")
        }
    }

    @Test func theRequestSaysWhetherItsClientKeepsTheConnection() {
        func keepsAlive(_ text: String) -> (Bool, Bool) {
            var counter = HTTPRequestCounter()
            _ = counter.feed(ByteBuffer(string: text))
            return (counter.lastRequestKeepsAlive, counter.isBetweenRequests)
        }
        #expect(keepsAlive("GET / HTTP/1.1\r\nHost: a\r\n\r\n") == (true, true))
        #expect(keepsAlive("GET / HTTP/1.1\r\nHost: a\r\n") == (true, false))
        #expect(keepsAlive("GET / HTTP/1.1\r\nConnection: Keep-Alive, Close\r\n\r\n") == (false, true))
        #expect(keepsAlive("GET / HTTP/1.0\r\n\r\n") == (false, true))
        #expect(keepsAlive("GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n") == (false, false))
        #expect(keepsAlive("POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nab") == (true, false))
        #expect(keepsAlive("POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc") == (true, true))
    }
}

@Suite("Balancer keeps HTTP/1.1 clients connected across closing replicas")
struct KeepAliveBalancerTests {
    static let request = "GET /x HTTP/1.1\r\nHost: t\r\n\r\n"

    static func kept(_ name: String) -> String { "HTTP/1.1 200 OK\r\nDate: today\r\nContent-Length: \(name.utf8.count)\r\n\r\n\(name)" }

    /// Sends `count` requests one after the other on one connection; returns what came back
    /// after each, and whether the balancer closed the connection at the end.
    static func sequential(port: Int, count: Int, request: String = request) async throws -> [String] {
        let client = try await TestClient.connect(port: port)
        return try await client.channel.executeThenClose { inbound, outbound in
            var iterator = inbound.makeAsyncIterator()
            var replies: [String] = []
            for _ in 0..<count {
                try await outbound.write(ByteBuffer(string: request))
                var received = ""
                while !received.hasSuffix("\r\n\r\na") && !received.hasSuffix("\r\n\r\nb"),
                    let chunk = try await iterator.next()
                {
                    received += String(buffer: chunk)
                }
                replies.append(received)
            }
            return replies
        }
    }

    @Test func eachRequestGoesToAReplicaPickedAfreshOnOneClientConnection() async throws {
        let a = try await TestBackend.start("a", .httpClose)
        let b = try await TestBackend.start("b", .httpClose)
        let (balancer, port) = try await makeBalancer()
        defer { Task { await balancer.shutdown(); await a.close(); await b.close() } }
        balancer.table.upsert(a.endpoint, state: .ready)
        balancer.table.upsert(b.endpoint, state: .ready)
        let replies = try await Self.sequential(port: port, count: 3)
        #expect(replies == [Self.kept("a"), Self.kept("b"), Self.kept("a")])
        try await eventually { balancer.table.counters()["web"]?.connectionsActive == 0 }
        #expect(a.stats.withLockedValue(\.received) == [Self.request, Self.request])
        #expect(b.stats.withLockedValue(\.received) == [Self.request])
        let counters = try #require(balancer.table.counters()["web"])
        #expect(counters.connectionsTotal == 3)
        #expect(counters.httpRequests == 3)
        #expect(counters.bytesReceived == 3 * Self.request.utf8.count)
        #expect(counters.bytesSent == 2 * Self.kept("a").utf8.count + Self.kept("b").utf8.count)
    }

    @Test func aClientIdleBetweenRequestsDoesNotHoldUpADrain() async throws {
        let a = try await TestBackend.start("a", .httpClose)
        let b = try await TestBackend.start("b", .httpClose)
        let (balancer, port) = try await makeBalancer()
        defer { Task { await balancer.shutdown(); await a.close(); await b.close() } }
        balancer.table.upsert(a.endpoint, state: .ready)
        let client = try await TestClient.connect(port: port)
        try await client.channel.executeThenClose { inbound, outbound in
            var iterator = inbound.makeAsyncIterator()
            func exchange() async throws -> String {
                try await outbound.write(ByteBuffer(string: Self.request))
                var received = ""
                while !received.hasSuffix("\r\n\r\na") && !received.hasSuffix("\r\n\r\nb"),
                    let chunk = try await iterator.next()
                {
                    received += String(buffer: chunk)
                }
                return received
            }
            #expect(try await exchange() == Self.kept("a"))
            try await eventually { balancer.table.activeConnections(of: "a") == 0 }
            balancer.table.upsert(b.endpoint, state: .ready)
            let drained = await balancer.table.drain("a", grace: .seconds(5))
            #expect(drained.drained && drained.remaining == 0)
            #expect(drained.waitedMs < 1000)
            #expect(try await exchange() == Self.kept("b"))
        }
    }

    @Test func clientsThatAskToCloseOrSpeakHTTP10GetTheReplicasAnswerAndItsFIN() async throws {
        let a = try await TestBackend.start("a", .httpClose)
        let (balancer, port) = try await makeBalancer()
        defer { Task { await balancer.shutdown(); await a.close() } }
        balancer.table.upsert(a.endpoint, state: .ready)
        // `exchange` reads until the balancer closes the connection.
        let close = try await TestClient.exchange(port: port, send: "GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
        #expect(close == TestBackend.closingResponse("a"))
        let old = try await TestClient.exchange(port: port, send: "GET / HTTP/1.0\r\n\r\n")
        #expect(old == TestBackend.closingResponse("a"))
    }

    @Test func keepAliveCanBeTurnedOff() async throws {
        let a = try await TestBackend.start("a", .httpClose)
        let (balancer, port) = try await makeBalancer(httpKeepAlive: false)
        defer { Task { await balancer.shutdown(); await a.close() } }
        balancer.table.upsert(a.endpoint, state: .ready)
        let reply = try await TestClient.exchange(port: port, send: Self.request)
        #expect(reply == TestBackend.closingResponse("a"))
    }
}
