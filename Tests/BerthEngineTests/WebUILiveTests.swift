import BerthCore
import BerthEngine
import BerthNet
import BerthTestSupport
import Foundation
import NIOHTTP1
import Testing

/// Live updates over a real server (server-sent events), and the bounded stores behind the
/// UI: sessions, log-in nonces, rate samples.
@Suite(.serialized) struct WebUILiveTests {
    /// Reads the stream until `text` has arrived (bounded), returning everything read.
    func read(_ body: inout AsyncThrowingStream<[UInt8], any Error>.AsyncIterator, until text: String, seen: inout String) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while !seen.contains(text) {
            guard ContinuousClock.now < deadline else { Issue.record("no \(text.debugDescription) within 5 s; read \(seen.debugDescription)"); return }
            guard let chunk = try await body.next() else { Issue.record("stream ended before \(text.debugDescription); read \(seen.debugDescription)"); return }
            seen += String(decoding: chunk, as: UTF8.self)
        }
    }

    @Test func pagesFollowChangesOverServerSentEventsUntilTheServerStops() async throws {
        let source = ScriptedSource()
        source.set(LoopFx.desired([LoopFx.spec("web")], commit: "c1"))
        let runtime = FakeRuntime(state: .none(project: "shop"))
        let loop = LoopFx.loop(source: source, runtime: runtime)
        await loop.syncOnce()
        var options = WebUI.Options()
        options.maxLiveClients = 2
        options.pollInterval = .milliseconds(20)
        let ui = WebUI(loop: loop, journal: nil, token: nil, git: nil, traffic: nil, options: options)
        let server = try await APIServer.start(host: "127.0.0.1", port: 0, router: APIRouter(loop: loop, journal: nil, token: nil, ui: ui))
        let work = Task { await ui.run() }
        defer { work.cancel() }
        let client = HTTPClient(.tcp(host: "127.0.0.1", port: server.port))

        // The page as rendered carries the version the follower's hello repeats.
        let page = try await client.send(.GET, "/", timeout: .seconds(5))
        #expect(String(decoding: page.body, as: UTF8.self).contains("<main id=\"main\" data-v=\"0\">"))
        let first = try await client.stream(.GET, "/ui/events")
        #expect(first.status == 200)
        var body = first.body.makeAsyncIterator()
        var seen = ""
        try await read(&body, until: "retry: 2000\nevent: hello\ndata: 0\n\n", seen: &seen)
        #expect(seen.hasPrefix("retry: 2000\nevent: hello\ndata: 0\n\n"))

        // A second follower fits; a third is told that every place is taken, to retry in
        // 5 s, and its stream ends (a 503 would make a browser give up for good).
        let second = try await client.stream(.GET, "/ui/events")
        #expect(second.status == 200)
        var secondBody = second.body.makeAsyncIterator()
        var secondSeen = ""
        try await read(&secondBody, until: "event: hello", seen: &secondSeen)
        let third = try await client.send(.GET, "/ui/events", timeout: .seconds(5))
        #expect(third.status == 200)
        #expect(String(decoding: third.body, as: UTF8.self) == "retry: 5000\nevent: full\ndata: at most 2 pages follow live updates; retrying in 5 s\n\n")
        let head = try await client.send(.HEAD, "/ui/events", timeout: .seconds(5))
        #expect(head.status == 200)
        #expect(ui.live.clientCount == 2, "a HEAD takes no place")

        // An instance dies: the change loop sees the new state and tells the follower.
        let victim = try await runtime.observe(project: "shop").services[0].instances[0].id
        await runtime.crash(victim)
        await loop.syncOnce()
        try await read(&body, until: "event: change\ndata: 1\n\n", seen: &seen)
        let fragment = try await client.send(.GET, "/services/web", timeout: .seconds(5))
        #expect(fragment.status == 200)

        // The server stops: every stream ends cleanly.
        await server.close()
        var ended = false
        let deadline = ContinuousClock.now + .seconds(5)
        while !ended && ContinuousClock.now < deadline {
            ended = try await body.next() == nil
        }
        #expect(ended, "the stream did not end after close")
        #expect(ui.live.subscribe() == nil, "no follower after shutdown")
    }

    @Test func aFollowerThatGoesAwayFreesItsPlace() async throws {
        let live = LiveUpdates(maxClients: 1)
        let server = try await HTTPServer.start(host: "127.0.0.1", port: 0) { _ in
            HTTPServer.Response(status: 200, contentType: "text/event-stream", body: [], stream: live.body())
        }
        defer { Task { await server.close() } }
        let client = HTTPClient(.tcp(host: "127.0.0.1", port: server.port))
        let reader = Task {
            let s = try await client.stream(.GET, "/")
            for try await _ in s.body {}
        }
        var count = 0
        for _ in 0..<250 where count == 0 {
            count = live.clientCount
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(count == 1)
        reader.cancel()
        for _ in 0..<250 where live.clientCount > 0 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(live.clientCount == 0, "the server noticed the client left")
        live.shutdown()
    }

    @Test func messagesAreServerSentEventText() {
        #expect(LiveUpdates.text(.change(7)) == "event: change\ndata: 7\n\n")
        #expect(LiveUpdates.text(.tick(3)) == "event: tick\ndata: 3\n\n")
        #expect(LiveUpdates.text(.ping) == ": ping\n\n")
    }

    @Test func sessionsExpireAndAreBounded() throws {
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let sessions = UISessions(idleTimeout: 60, maxAge: 300, maxSessions: 2)
        let (a, sa) = sessions.create(now: t0)
        #expect(a.count == 32 + 1 + 64)
        #expect(sessions.session(cookie: a, now: t0.addingTimeInterval(30))?.csrf == sa.csrf)
        // A validator off by one character, or no validator: nothing.
        #expect(sessions.session(cookie: String(a.dropLast()) + (a.last == "0" ? "1" : "0"), now: t0) == nil)
        #expect(sessions.session(cookie: String(a.prefix(32)), now: t0) == nil)
        // Used at 30 s, so alive at 80 s; idle for over 60 s: gone.
        #expect(sessions.session(cookie: a, now: t0.addingTimeInterval(80)) != nil)
        #expect(sessions.session(cookie: a, now: t0.addingTimeInterval(141)) == nil)
        // However often used, it ends after maxAge.
        let (b, _) = sessions.create(now: t0)
        for s in stride(from: 50.0, through: 300, by: 50) { #expect(sessions.session(cookie: b, now: t0.addingTimeInterval(s)) != nil) }
        #expect(sessions.session(cookie: b, now: t0.addingTimeInterval(301)) == nil)
        // At most two: the oldest goes first.
        let (c, _) = sessions.create(now: t0.addingTimeInterval(400))
        let (d, _) = sessions.create(now: t0.addingTimeInterval(401))
        let (e, _) = sessions.create(now: t0.addingTimeInterval(402))
        #expect(sessions.count == 2)
        #expect(sessions.session(cookie: c, now: t0.addingTimeInterval(403)) == nil)
        #expect(sessions.session(cookie: d, now: t0.addingTimeInterval(403)) != nil)
        #expect(sessions.session(cookie: e, now: t0.addingTimeInterval(403)) != nil)
        sessions.remove(cookie: d)
        #expect(sessions.session(cookie: d, now: t0.addingTimeInterval(403)) == nil)
    }

    @Test func logInNoncesAreOneTimeExpiringAndBounded() {
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let sessions = UISessions(maxNonces: 2, nonceLifetime: 600)
        let a = sessions.issueNonce(now: t0)
        #expect(a.count == 32)
        #expect(sessions.consumeNonce(a, now: t0.addingTimeInterval(10)))
        #expect(!sessions.consumeNonce(a, now: t0.addingTimeInterval(11)), "used up")
        let b = sessions.issueNonce(now: t0)
        #expect(!sessions.consumeNonce(b, now: t0.addingTimeInterval(601)), "expired")
        let c = sessions.issueNonce(now: t0), d = sessions.issueNonce(now: t0), e = sessions.issueNonce(now: t0)
        #expect(!sessions.consumeNonce(c, now: t0), "the oldest of three went when the third came")
        #expect(sessions.consumeNonce(d, now: t0))
        #expect(sessions.consumeNonce(e, now: t0))
        #expect(!sessions.consumeNonce("", now: t0))
    }

    @Test func ratesAndReplicasKeepTheNewestHourPerLiveService() {
        var ring = RingBuffer<Int>(capacity: 3)
        for i in 1...5 { ring.append(i) }
        #expect(ring.elements == [3, 4, 5])
        #expect(ring.last == 5)

        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let series = ServiceSeries(capacity: 3, epoch: t0)
        for i in 0..<4 {
            series.record(at: t0.addingTimeInterval(Double(i) * 5), ["web": (Double(i) * 1.5, i), "db": (nil, 1)], hasTraffic: true)
        }
        #expect(series.points("web").map(\.rate) == [1.5, 3, 4.5])
        #expect(series.points("web").map(\.replicas) == [1, 2, 3])
        #expect(series.points("web").map(\.time) == [t0.addingTimeInterval(5), t0.addingTimeInterval(10), t0.addingTimeInterval(15)])
        #expect(series.points("db").map(\.rate) == [nil, nil, nil])
        series.record(at: t0.addingTimeInterval(20), ["web": (nil, 3)], hasTraffic: false)
        #expect(series.points("db") == [], "a service gone from the sample loses its series")
        #expect(series.latest()["web"] == SeriesPoint(time: t0.addingTimeInterval(20), rate: nil, replicas: 3))
        #expect(!series.hasTraffic)
        #expect(series.sampleCount == 5)
    }

    @Test func constantTimeEqualityComparesWholeValues() {
        #expect(ConstantTime.equal("s3cret", "s3cret"))
        #expect(!ConstantTime.equal("s3cret", "s3creT"))
        #expect(!ConstantTime.equal("s3cret", "s3cret0"))
        #expect(!ConstantTime.equal("", "x"))
        #expect(ConstantTime.equal("", ""))
    }
}
