import BerthCore
import BerthEngine
import BerthNet
import BerthTestSupport
import Foundation
import Testing

/// Issue 11: apply events are published as a stream that the API (and `berth apply`) follow.
@Suite struct EventBusTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func subscribersGetEveryEventInOrderAndTheBusKeepsTheNewest() async throws {
        let bus = EventBus(capacity: 3, epoch: "e1")
        let (id, stream) = bus.subscribe()
        for i in 1...5 { bus.publish(.step(ApplyEvent(service: "web", kind: .started(instance: "web-000\(i)"))), at: Self.t0) }
        bus.cancel(id)
        var lines: [String] = []
        for await event in stream { lines.append("\(event.seq) \(event.line)") }
        #expect(lines == (1...5).map { "\($0) web: started web-000\($0); waiting for health" })
        // Only the newest three are kept; a follower asks with the last seq it saw.
        #expect(bus.events(after: 0).map(\.seq) == [3, 4, 5])
        #expect(bus.events(after: 4).map(\.seq) == [5])
        #expect(bus.events(after: 5).isEmpty)
        // A seq from an earlier process (beyond the newest) gets every kept event.
        #expect(bus.events(after: 99).map(\.seq) == [3, 4, 5])
        #expect(bus.lastSeq == 5)
    }

    @Test func aLongPollAnswersWhenTheNextEventComesOrWhenItsWaitPassed() async throws {
        let bus = EventBus(epoch: "e1")
        let clock = ContinuousClock()
        let start = clock.now
        let empty = await bus.next(after: 0, timeout: .milliseconds(100))
        #expect(empty.isEmpty)
        #expect(clock.now - start >= .milliseconds(100))

        let waiting = Task { await bus.next(after: 0, timeout: .seconds(10)) }
        try await Task.sleep(for: .milliseconds(50))
        bus.publish(.finished(trigger: .commit, commit: "c1", result: .succeeded, durationMs: 12), at: Self.t0)
        let got = await waiting.value
        #expect(got.map(\.line) == ["sync succeeded in 12 ms (commit, commit c1)"])
        #expect(clock.now - start < .seconds(5))
    }

    @Test func theAPIHandsEventsOutAfterASeq() async throws {
        let source = ScriptedSource()
        source.set(LoopFx.desired([LoopFx.spec("web")], commit: "c1"))
        let bus = EventBus(epoch: "e1")
        let loop = ReconcileLoop(
            project: "shop", provider: source, runtime: FakeRuntime(state: .none(project: "shop")), journal: nil,
            logger: LoopFx.quiet, events: bus, now: { Self.t0 })
        await loop.syncOnce()
        let router = APIRouter(loop: loop, journal: nil, token: nil)
        let all = await router.handle(APIRequest(method: "GET", uri: "/api/v1/events"))
        #expect(all.status == 200)
        let document = try JSONSerialization.jsonObject(with: Data(all.body.utf8)) as? [String: Any]
        let events = document?["events"] as? [[String: Any]] ?? []
        let lines = events.map { "\($0["seq"]!) \($0["type"]!) \($0["message"]!)" }
        #expect(lines.prefix(4) == [
            "1 applying applying 1 step (commit, commit c1)",
            "2 stepStarted web: create: new service: nothing runs yet",
            "3 instanceStarted web: started web-0001; waiting for health",
            "4 instanceHealthy web: web-0001 healthy",
        ])
        // The last two carry real durations.
        #expect(lines.count == 6)
        #expect(lines[4].hasPrefix("5 stepFinished web: create succeeded in "))
        #expect(lines[5].hasPrefix("6 finished sync succeeded in ") && lines[5].hasSuffix(" ms (commit, commit c1)"))
        #expect(events[4]["outcome"] as? String == "succeeded" && events[4]["action"] as? String == "create")
        #expect(events[5]["result"] as? String == "succeeded" && events[5]["trigger"] as? String == "commit")
        #expect(document?["epoch"] as? String == "e1")
        #expect(document?["next"] as? Int == 6)
        #expect(events.first?["time"] as? String == "2027-01-15T08:00:00.000Z")
        let after = await router.handle(APIRequest(method: "GET", uri: "/api/v1/events?after=5"))
        #expect(after.body.contains("\"seq\":6"))
        #expect(!after.body.contains("\"seq\":5"))
        let none = await router.handle(APIRequest(method: "GET", uri: "/api/v1/events?after=6&wait=50ms"))
        #expect(none.body == "{\"epoch\":\"e1\",\"events\":[],\"formatVersion\":1,\"next\":6}\n")
        let bad = await router.handle(APIRequest(method: "GET", uri: "/api/v1/events?wait=2m"))
        #expect(bad.status == 400)
        #expect(bad.body.contains("wait: expected a duration of at most 60s like 25s or 500ms, found \\\"2m\\\""))
    }
}
