import BerthCore
import BerthEngine
import BerthGit
import BerthTestSupport
import Foundation
import Testing

/// Issue 14's banner and the operator's controls, drawn from a real loop's state (a real
/// `ReconcileLoop`; git read by libgit2 where the banner names a file, line and column):
/// what needs attention and what an operator set, in `berth status`'s words, exact.
@Suite struct WebUIAttentionTests {
    static let mark = ControlMark(by: "ops@host", at: "2026-12-07T10:00:00Z")

    /// The overview's `<main>` as the page would show the loop's state now.
    static func overview(_ loop: ReconcileLoop, now: Date) async -> (OverviewModel, String) {
        let model = UISnapshot.overview(UISnapshot.Inputs(status: LoopState(await loop.status())), now: now)
        return (model, OverviewPage.main(model, now: now).text)
    }

    /// The service page's `<main>`.
    static func servicePage(_ name: String, _ loop: ReconcileLoop, now: Date) async throws -> String {
        var inputs = UISnapshot.Inputs(status: LoopState(await loop.status()))
        inputs.specs = await loop.lastGood?.services ?? [:]
        let model = try #require(UISnapshot.service(
            name, inputs, journal: [], series: [], hasTraffic: false, history: .unavailable("no git here"), historyLimit: 10,
            now: now))
        return ServicePage.main(model, now: now).text
    }

    static func banners(_ html: String) -> [String] {
        html.components(separatedBy: "\n").filter { $0.hasPrefix("<div class=\"banner") }
    }

    @Test func anInvalidCommitIsABannerWithItsFirstErrorAndTheLastGoodCommitUntilAFixIsCommitted() async throws {
        let repo = try GitRepoBuilder()
        defer { repo.cleanup() }
        try repo.write("manifests/web.yaml", GitRepoBuilder.service("web", image: "shop/web:1.0", replicas: 2))
        let good = try repo.commit("web")
        let provider = GitDesiredStateProvider(ref: "main", path: nil) { try GitRepository(path: repo.path) }
        let runtime = FakeRuntime(state: .none(project: "shop"))
        let clock = TestClock()
        let loop = ReconcileLoop(project: "shop", provider: provider, runtime: runtime, journal: nil, logger: LoopFx.quiet, now: { clock.now })
        await loop.syncOnce()
        #expect(Self.banners(await Self.overview(loop, now: clock.now).1) == [])

        // A value that is not a count: line 7, column 13 of manifests/web.yaml.
        try repo.write("manifests/web.yaml", GitRepoBuilder.service("web", image: "shop/web:1.1", replicas: 2).replacingOccurrences(of: "replicas: 2", with: "replicas: <b>two</b>"))
        let bad = try repo.commit("web: <b>two</b> replicas")
        await loop.request(.commit, fetch: true)
        await loop.syncOnce()
        let (model, html) = await Self.overview(loop, now: clock.now)
        #expect(model.attention.map(\.kind) == [.invalidCommit])
        #expect(Self.banners(html) == [
            "<div class=\"banner bad\" data-kind=\"invalidCommit\"><p>commit \(bad.prefix(7)) has 1 manifest error: held back until a commit fixes them; running \(good.prefix(7)), the last good commit</p><ul><li>manifests/web.yaml:7:13: error: spec.replicas: expected an integer, found &quot;&lt;b&gt;two&lt;/b&gt;&quot;</li></ul></div>",
        ])
        // The last good desired state keeps serving: no outage, nothing to prune.
        #expect(model.services.map { "\($0.name) \($0.image) \($0.readyReplicas)/\($0.desiredReplicas) \($0.sync.rawValue) \($0.health.rawValue)" }
            == ["web shop/web:1.0 2/2 Synced Healthy"])
        #expect(!html.contains("pruned"))

        // A fix: the banner is gone.
        try repo.write("manifests/web.yaml", GitRepoBuilder.service("web", image: "shop/web:1.1", replicas: 2))
        _ = try repo.commit("web: fixed")
        await loop.request(.commit, fetch: true)
        await loop.syncOnce()
        let (fixed, fixedHTML) = await Self.overview(loop, now: clock.now)
        #expect(fixed.attention.isEmpty)
        #expect(Self.banners(fixedHTML) == [])
        #expect(fixed.services.map(\.image) == ["shop/web:1.1"])
    }

    @Test func aWatchStartedOnAnInvalidCommitWithNothingAppliedShowsWhatRunsHeldBackNeverPruned() async throws {
        let source = ScriptedSource()
        let runtime = TestRuntime(delay: .milliseconds(1))
        await runtime.seed(LoopFx.spec("web", replicas: 2), count: 2)
        let error = Diagnostic(.error, file: "manifests/web.yaml", line: 7, column: 13, path: "spec.replicas", message: "expected an integer, found \"two\"")
        source.set(LoopFx.desired([], commit: "c2c2c2c2c2", errors: [error]))
        let clock = TestClock()
        let loop = ReconcileLoop(project: "shop", provider: source, runtime: runtime, journal: nil, logger: LoopFx.quiet, now: { clock.now })
        await loop.syncOnce()
        #expect(await runtime.instances(of: "web").count == 2, "nothing of an invalid commit is applied")
        let (model, html) = await Self.overview(loop, now: clock.now)
        let note = "commit c2c2c2c has 1 manifest error: held back as it runs until a commit fixes them"
        #expect(model.services.map { "\($0.name) \($0.readyReplicas)/\($0.desiredReplicas) \($0.health.rawValue) \($0.marks.map(\.rawValue)) \($0.statusMessage)" }
            == ["web 2/2 Healthy [\"invalid commit\"] 2 of 2 replicas ready; \(note)"])
        #expect(Self.banners(html).first?.hasPrefix("<div class=\"banner bad\" data-kind=\"invalidCommit\"><p>commit c2c2c2c has 1 manifest error: held back until a commit fixes them; nothing of git is applied yet, what runs is left as it is</p>") == true)
        #expect(!html.contains("pruned"))
        let page = try await Self.servicePage("web", loop, now: clock.now)
        #expect(page.contains("<ul class=\"notes\"><li>\(note)</li></ul>"))
        #expect(!page.contains("pruned"))
    }

    @Test func aRolledBackRolloutIsABannerInStatusWordsAndItsServiceServesHealthyHeldBack() async throws {
        let source = ScriptedSource()
        let runtime = TestRuntime(delay: .milliseconds(1))
        await runtime.seed(service("api", image: "shop/api:1.0", replicas: 2), count: 2)
        await runtime.script(neverHealthy: ["shop/api:2.0"])
        let clock = TestClock()
        let loop = ReconcileLoop(project: "shop", provider: source, runtime: runtime, journal: nil, logger: LoopFx.quiet, now: { clock.now })
        source.set(LoopFx.desired([service("api", image: "shop/api:2.0", replicas: 2)], commit: "c2c2c2c2c2"))
        await loop.syncOnce()
        let status = await loop.status()
        let held = try #require(status.heldBack.first)
        let old = service("api", image: "shop/api:1.0").revision.id
        let new = service("api", image: "shop/api:2.0").revision.id
        #expect(held.revision == new)
        let sentence = "rollout of \(new) (c2c2c2c) failed at 2027-01-15T08:00:00.000Z: \(RolloutReason.of(held.message)); held back until a newer commit"
        #expect(status.report.services.first?.message == "2 of 2 replicas ready; " + sentence, "berth status's words")

        let (model, html) = await Self.overview(loop, now: clock.now)
        #expect(Self.banners(html) == [
            "<div class=\"banner bad\" data-kind=\"heldBack\"><p><a href=\"/services/api\">api</a>: \(HTML(escaping: sentence).text)</p></div>",
        ])
        // Its row: what serves (1.0, Healthy, 2/2), the held-back badge and status's message; never an outage.
        #expect(model.services.count == 1)
        #expect(OverviewPage.row(model.services[0], now: clock.now).text
            == "<tr class=\"p\"><td><a href=\"/services/api\">api</a><td>shop/api:1.0<td>\(old)<td>2/2<td><td><b class=\"warn\">OutOfSync</b><td><b>Healthy</b> <b class=\"warn\">held back</b><small>\(HTML(escaping: "2 of 2 replicas ready; " + sentence).text)</small><td>started <time data-t=1767225600>379 d ago</time>\n")
        let page = try await Self.servicePage("api", loop, now: clock.now)
        #expect(page.contains("<h1 class=\"name\">api <span class=\"badges\"><b class=\"warn\">OutOfSync</b> <b>Healthy</b> <b class=\"warn\">held back</b></span></h1>\n<p class=\"message\">2 of 2 replicas ready</p>\n<ul class=\"notes\"><li>\(HTML(escaping: sentence).text)</li></ul>\n"))
        #expect(!page.contains("pruned"))
    }

    @Test func aCrashLoopInBackoffIsABannerWithItsNextRestart() async throws {
        let clock = TestClock()
        let (_, runtime, loop) = await LoopFx.webLoop(clock: clock)
        for _ in 0..<2 { try await LoopFx.crash("web", in: runtime, loop: loop) }
        clock.advance(4)
        let (model, html) = await Self.overview(loop, now: clock.now)
        #expect(model.attention.map(\.kind) == [.backoff])
        #expect(Self.banners(html) == [
            "<div class=\"banner warn\" data-kind=\"backoff\"><p><a href=\"/services/web\">web</a>: crash-loop backoff after 2 failures in a row; next restart (<time data-t=\"1800000010\" title=\"2027-01-15T08:00:10Z\">in 6 s</time>)</p></div>",
        ])
        #expect(OverviewPage.row(model.services[0], now: clock.now).text.hasSuffix("<td><b>Healthy</b> <b class=\"warn\">backoff</b><td>\n"))
    }

    @Test func theOperatorsControlsAreBadgesOnTheRowAndLinesOnTheServicePageInStatusWords() async throws {
        let folder = try TemporaryDirectory(prefix: "berth-ui-controls")
        defer { folder.remove() }
        let store = ControlsStore(stateDirectory: folder.path)
        let source = ScriptedSource()
        let runtime = TestRuntime(delay: .milliseconds(1))
        let booking = LoopFx.spec("booking", replicas: 1), customer = LoopFx.spec("customer", replicas: 1)
        let older = LoopFx.spec("booking", image: "shop/booking:0.9")
        try store.update {
            $0[service: "booking"].pin = Pin(spec: older, commit: "c0c0c0c0c0", gitRevision: booking.revision.id, mark: Self.mark)
            $0[service: "booking"].scale = ReplicaOverride(replicas: 3, gitSpec: booking, mark: Self.mark)
            $0[service: "customer"].suspended = Self.mark
        }
        let clock = TestClock()
        let loop = ReconcileLoop(
            project: "shop", provider: source, runtime: runtime, journal: nil, logger: LoopFx.quiet, controls: store, now: { clock.now })
        source.set(LoopFx.desired([booking, customer], commit: "c1"))
        await loop.syncOnce()

        let pinned = "pinned to revision \(older.revision.id) (c0c0c0c) by ops@host at 2026-12-07T10:00:00Z with berth rollback, until a commit changes its revision"
        let scaled = "scaled to 3 by ops@host at 2026-12-07T10:00:00Z with berth scale (git: 1), until a commit changes it"
        let suspended = "suspended by ops@host at 2026-12-07T10:00:00Z: berth watch leaves it alone until berth resume"
        let status = await loop.status().report
        #expect(status.services.map(\.message) == ["3 of 3 replicas ready; \(pinned); \(scaled)", "no instances running (1 desired); \(suspended)"], "berth status's words")

        let (model, html) = await Self.overview(loop, now: clock.now)
        #expect(Self.banners(html) == ["<div class=\"banner warn\" data-kind=\"unhealthy\"><p>1 service is Degraded or Missing: <a href=\"/services/customer\">customer</a></p></div>"])
        #expect(model.services.map(\.marks) == [[.pinned, .scaled], [.suspended]])
        let rows = model.services.map { OverviewPage.row($0, now: clock.now).text }
        #expect(rows[0].contains("<td><b>Healthy</b> <b class=\"info\">pinned</b> <b class=\"info\">scaled</b><small>3 of 3 replicas ready; \(pinned); \(scaled)</small><td>"))
        #expect(rows[1].contains("<td><b class=\"warn\">Missing</b> <b class=\"warn\">suspended</b><small>no instances running (1 desired); \(suspended)</small><td>"))
        let page = try await Self.servicePage("booking", loop, now: clock.now)
        #expect(page.contains("<span class=\"badges\"><b class=\"warn\">OutOfSync</b> <b>Healthy</b> <b class=\"info\">pinned</b> <b class=\"info\">scaled</b></span></h1>\n<p class=\"message\">3 of 3 replicas ready</p>\n<ul class=\"notes\"><li>\(pinned)</li><li>\(scaled)</li></ul>\n"))

        // The whole project suspended: a banner in status's words.
        try store.update { $0.suspended = Self.mark }
        let (_, suspendedHTML) = await Self.overview(loop, now: clock.now)
        #expect(Self.banners(suspendedHTML).first
            == "<div class=\"banner warn\" data-kind=\"suspended\"><p>project suspended by ops@host at 2026-12-07T10:00:00Z: berth watch leaves it alone until berth resume</p></div>")
    }
}

/// The reason inside a rollout failure message (`… failed (REASON): rolled back …`), as the
/// test expects status to quote it.
enum RolloutReason {
    static func of(_ message: String) -> String {
        guard let start = message.range(of: " failed ("), let end = message.range(of: "): ", range: start.upperBound..<message.endIndex)
        else { return message }
        return String(message[start.upperBound..<end.lowerBound])
    }
}
