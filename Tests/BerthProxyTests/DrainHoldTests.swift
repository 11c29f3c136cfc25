import BerthCore
import BerthNet
import BerthTestSupport
@testable import BerthProxy
import Foundation
import Testing

/// Issue 18, finding 3 (rest): a drained replica never took new connections again until it
/// left discovery, so a `berth apply` killed between drain and stop (Ctrl-C, a crash) left
/// it out of rotation for ever while status said Healthy. The executor's drains now carry a
/// hold (grace + stop timeout + 30 s) after which a replica that still runs is put back;
/// a drain without one is a drain by hand, which lasts until `POST /v1/ready` and is shown.
@Suite("Drains that outlive their executor, and drains by hand", .serialized)
struct DrainHoldTests {
    static func endpoint(_ id: String) -> Endpoint {
        Endpoint(instance: id, service: "web", host: "127.0.0.1", ports: [8081: 9001])
    }

    /// The expiry rule on the table, with the clock given: nothing before the hold ends;
    /// at its end the instance is back in the state its probes gave it meanwhile (here
    /// unhealthy), once; a drain by hand never ends by itself.
    @Test func aHeldDrainEndsAtItsHoldInTheStateItsProbesGaveIt() async {
        let table = EndpointTable()
        table.upsert(Self.endpoint("aaaaaaaa1"), state: .ready)
        table.upsert(Self.endpoint("bbbbbbbb2"), state: .ready)
        let before = ContinuousClock.now
        _ = await table.drain("aaaaaaaa1", grace: .zero, hold: .seconds(40))
        let after = ContinuousClock.now
        _ = await table.drain("bbbbbbbb2", grace: .zero)
        table.setState("aaaaaaaa1", .unhealthy, probe: "connection refused")
        #expect(table.state(of: "aaaaaaaa1") == .draining)
        #expect(table.snapshot().map { $0.drain?.by } == [.berth, .hand])
        #expect(table.snapshot()[0].drain?.until != nil)
        #expect(table.snapshot()[1].drain?.until == nil)

        #expect(table.expireDrains(now: before + .seconds(39)) == [])
        #expect(table.state(of: "aaaaaaaa1") == .draining)
        #expect(table.nextDrainExpiry.map { $0 >= before + .seconds(40) && $0 <= after + .seconds(40) } == true)
        #expect(
            table.expireDrains(now: after + .seconds(40))
                == [ExpiredDrain(instance: "aaaaaaaa1", service: "web", hold: .seconds(40), state: .unhealthy)])
        #expect(table.state(of: "aaaaaaaa1") == .unhealthy)
        #expect(table.snapshot()[0].drain == nil)
        #expect(table.expireDrains(now: after + .seconds(86_400)) == [])
        #expect(table.state(of: "bbbbbbbb2") == .draining)
        #expect(table.drainsExpired == 1)
        #expect(table.handDrains().map(\.instance) == ["bbbbbbbb2"])
    }

    /// A held drain ends without putting anything back when the instance is stopping (the
    /// executor did its job), when it was made ready meanwhile, or when a drain by hand
    /// replaced it; a ready replica drained keeps the ready state it had for its return.
    @Test func aHeldDrainPutsBackOnlyAReplicaThatStillRuns() async {
        let table = EndpointTable()
        for id in ["aaaaaaaa1", "bbbbbbbb2", "cccccccc3", "dddddddd4"] { table.upsert(Self.endpoint(id), state: .ready) }
        let start = ContinuousClock.now
        for id in ["aaaaaaaa1", "bbbbbbbb2", "cccccccc3", "dddddddd4"] {
            _ = await table.drain(id, grace: .zero, hold: .seconds(1))
        }
        table.halted("aaaaaaaa1")
        table.markReady("bbbbbbbb2")
        _ = await table.drain("cccccccc3", grace: .zero)
        let expired = table.expireDrains(now: start + .seconds(60))
        #expect(expired == [ExpiredDrain(instance: "dddddddd4", service: "web", hold: .seconds(1), state: .ready)])
        #expect(table.state(of: "aaaaaaaa1") == .draining)
        #expect(table.state(of: "bbbbbbbb2") == .ready)
        #expect(table.state(of: "cccccccc3") == .draining)
        #expect(table.state(of: "dddddddd4") == .ready)
        #expect(table.drainsExpired == 1)
        #expect(table.nextDrainExpiry == nil)
    }

    /// The executor's hold: its grace, the stop timeout and 30 s; never past a year.
    @Test func theExecutorsHoldIsGracePlusStopTimeoutPlusThirtySeconds() {
        #expect(ProxyControlClient.hold(grace: .seconds(10), stopTimeout: .seconds(10)) == .seconds(50))
        #expect(ProxyControlClient.hold(grace: .zero, stopTimeout: Millis(1500)) == Millis(31_500))
        #expect(ProxyControlClient.hold(grace: Millis(.max), stopTimeout: Millis(.max)) == Millis(ControlAPI.DrainRequest.maxHoldMs))
    }

    /// A real `berth proxy` and replica: a drain with a 1.5 s hold — as the executor's, when
    /// the `berth apply` that sent it is gone — takes the replica out, then puts it back into
    /// rotation once the hold passed: it serves again, one warning says why, the metric counts
    /// it. (Before: out of rotation for ever.)
    @Test func aHeldDrainOfAReplicaThatStillRunsReturnsItToRotation() async throws {
        let proxy = try await DescriptorExhaustionTests.Proxy.start("hold", nofile: nil)
        do {
            let replica = try #require(try await proxy.control.endpoints().endpoints.first?.instance)
            let drained = try await proxy.control.drain(instance: replica, grace: .zero, hold: Millis(1500))
            let asked = ContinuousClock.now
            #expect(drained.drained && drained.known)
            let out = try #require(try await proxy.control.endpoints().endpoints.first)
            #expect(out.state == .draining)
            #expect(out.drain?.by == .berth)
            #expect(out.drain?.until != nil)
            #expect(DescriptorExhaustionTests.newClient(port: proxy.publish) == "closed")

            let deadline = asked + .seconds(5)
            while try await proxy.control.endpoints().endpoints.map(\.state) != [.ready], ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            let back = ContinuousClock.now - asked
            print("a drain held 1.5 s ended after \(back) (expiry checked every 250 ms)")
            let endpoint = try #require(try await proxy.control.endpoints().endpoints.first)
            #expect(endpoint.state == .ready)
            #expect(endpoint.drain == nil)
            #expect(back >= .milliseconds(1400) && back < .seconds(3))
            #expect(DescriptorExhaustionTests.newClient(port: proxy.publish) == "HTTP/1.1 200 OK")
            #expect(try await proxy.metrics()[proxy.metric("berth_proxy_drains_expired_total")] == 1)
            let warnings = proxy.log.filter { $0.contains("did not stop it within") }
            #expect(warnings.count == 1, "\(proxy.log)")
            #expect(
                warnings.first?.contains(
                    "drain of \(replica.prefix(12)) (gateway) ended after 1.5s: the berth process that drained it did not stop it within 1.5s (gone?); back in rotation")
                    == true, "\(warnings)")
            try await Task.sleep(for: .seconds(1))
            #expect(proxy.log.filter { $0.contains("did not stop it within") }.count == 1)
        } catch {
            await proxy.stop()
            throw error
        }
        await proxy.stop()
    }

    /// A drain by hand (no `holdMs`, as `curl` sends it) stays past any hold, is shown as by
    /// hand in `GET /v1/endpoints`, and ends with `POST /v1/ready`.
    @Test func aDrainByHandStaysOutUntilReady() async throws {
        let proxy = try await DescriptorExhaustionTests.Proxy.start("hand", nofile: nil)
        do {
            let replica = try #require(try await proxy.control.endpoints().endpoints.first?.instance)
            let wall = Date()
            let drained = try await proxy.control.drain(instance: replica, grace: .zero)
            #expect(drained.drained && drained.known)
            try await Task.sleep(for: .milliseconds(2500))
            let out = try #require(try await proxy.control.endpoints().endpoints.first)
            #expect(out.state == .draining)
            #expect(out.drain?.by == .hand)
            #expect(out.drain?.until == nil)
            let since = try #require(out.drain.flatMap { ISO8601DateFormatter().date(from: $0.since) })
            #expect(abs(since.timeIntervalSince(wall)) < 5)
            #expect(DescriptorExhaustionTests.newClient(port: proxy.publish) == "closed")
            #expect(try await proxy.metrics()[proxy.metric("berth_proxy_drains_expired_total")] == 0)

            #expect(try await proxy.control.ready(instance: replica) == .ready)
            let back = try #require(try await proxy.control.endpoints().endpoints.first)
            #expect(back.state == .ready)
            #expect(back.drain == nil)
            #expect(DescriptorExhaustionTests.newClient(port: proxy.publish) == "HTTP/1.1 200 OK")
        } catch {
            await proxy.stop()
            throw error
        }
        await proxy.stop()
    }

    /// A hold outside 0…a year is refused with what to send instead.
    @Test func aHoldOutOfRangeIsRefused() async throws {
        let balancer = Balancer(bindHost: "127.0.0.1")
        let service = try await ProxyService.start(project: "shop", balancer: balancer, endpoints: nil)
        defer { Task { await service.shutdown() } }
        let body = #"{"instance":"cafe0123","graceMs":0,"holdMs":-1}"#
        let answer = await service.handle(HTTPServer.Request(method: "POST", uri: "/v1/drain", body: Array(body.utf8)))
        #expect(answer.status == 400)
        #expect(
            String(decoding: answer.body, as: UTF8.self)
                == #"{"error":"holdMs: expected 0 to 31622400000 (a year), found -1; leave it out to drain by hand","formatVersion":1}"#
                + "\n")
    }
}
