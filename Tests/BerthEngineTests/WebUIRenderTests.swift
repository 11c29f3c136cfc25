import BerthCore
import BerthEngine
import Foundation
import Testing

/// The web UI's pure renderers: values in, exact HTML out; everything from git escaped.
@Suite struct WebUIRenderTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func context(_ access: UIAccess = .writesDisabled, path: String = "/") -> PageContext {
        PageContext(project: "shop", path: path, access: access, now: now)
    }

    static func row(_ name: String, health: HealthStatus = .healthy, sync: SyncStatus = .synced, ready: Int = 2, message: String = "2 of 2 replicas ready") -> ServiceRow {
        ServiceRow(
            name: name, image: "shop/\(name):1.0", revision: "3e45ceb74b", readyReplicas: ready, desiredReplicas: 2,
            sync: sync, health: health, message: message,
            lastChange: LastChange(what: "update", outcome: .succeeded, time: now.addingTimeInterval(-180)))
    }

    @Test func escapeTurnsEveryMarkupCharacterIntoAReference() {
        #expect(HTML.escape("<script>alert(\"x\") & 'y'</script>") == "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;")
        #expect(HTML.escape("booking") == "booking")
        #expect(HTML.escape("") == "")
        #expect(HTML.escape("café → ok") == "café → ok")
    }

    @Test func interpolatedStringsAreEscapedAndLiteralsAndHTMLAreNot() {
        let name = "\" onmouseover=\"alert(1)"
        let inner: HTML = "<em>\("a<b")</em>"
        let html: HTML = "<a title=\"\(name)\">\(inner)\(3)</a>"
        #expect(html.text == "<a title=\"&quot; onmouseover=&quot;alert(1)\"><em>a&lt;b</em>3</a>")
    }

    @Test func pathSegmentsCannotLeaveTheirSegment() {
        #expect(HTML.pathSegment("booking") == "booking")
        #expect(HTML.pathSegment("(strays)") == "%28strays%29")
        #expect(HTML.pathSegment("../../x?y#z") == "%2E%2E%2F%2E%2E%2Fx%3Fy%23z")
        #expect(HTML.queryValue("/services/a b?x=1") == "%2Fservices%2Fa%20b%3Fx%3D1")
        #expect(HTML.queryValue("v1.2") == "v1.2")
    }

    @Test func timesDurationsAndRatesReadAsAnOperatorExpects() {
        let now = Self.now
        #expect(UIFormat.relative(now, now: now) == "just now")
        #expect(UIFormat.relative(now.addingTimeInterval(-12), now: now) == "12 s ago")
        #expect(UIFormat.relative(now.addingTimeInterval(-180), now: now) == "3 min ago")
        #expect(UIFormat.relative(now.addingTimeInterval(-7300), now: now) == "2 h ago")
        #expect(UIFormat.relative(now.addingTimeInterval(-4 * 86_400), now: now) == "4 d ago")
        #expect(UIFormat.relative(now.addingTimeInterval(18), now: now) == "in 18 s")
        #expect(UIFormat.duration(milliseconds: 340) == "340 ms")
        #expect(UIFormat.duration(milliseconds: 2440) == "2.4 s")
        #expect(UIFormat.duration(milliseconds: 3000) == "3 s")
        #expect(UIFormat.duration(milliseconds: 72_000) == "1 min 12 s")
        #expect(UIFormat.rate(0) == "0")
        #expect(UIFormat.rate(0.44) == "0.4")
        #expect(UIFormat.rate(12.5) == "12.5")
        #expect(UIFormat.rate(40) == "40")
        #expect(UIFormat.rate(340.4) == "340")
        #expect(UIFormat.subject("\nfirst line\nsecond") == "first line")
    }

    @Test func anOverviewRowIsOneLineOfCompactMarkup() {
        let html = OverviewPage.row(Self.row("booking"), now: Self.now).text
        #expect(html == "<tr><td><a href=\"/services/booking\">booking</a><td>shop/booking:1.0<td>3e45ceb74b<td>2/2<td><td><b>Synced</b><td><b>Healthy</b><td>update <time data-t=1799999820>3 min ago</time>\n")
    }

    @Test func aRowThatNeedsAttentionIsMarkedAndSaysWhy() {
        var r = Self.row("gateway", health: .degraded, sync: .outOfSync, ready: 1, message: "1 of 2 replicas ready; gateway-1 exited with code 137")
        r.heldBack = true
        r.autoscale = AutoscaleInfo(min: 2, max: 10, targetRequestsPerSecond: 50, rate: 37.25)
        let html = OverviewPage.row(r, now: Self.now).text
        #expect(html == "<tr class=\"p\"><td><a href=\"/services/gateway\">gateway</a><td>shop/gateway:1.0<td>3e45ceb74b<td><span class=\"short\">1/2</span><td>2–10 · 37.3 req/s<td><b class=\"warn\">OutOfSync</b><td><b class=\"bad\">Degraded</b> <b class=\"warn\">held back</b><small>1 of 2 replicas ready; gateway-1 exited with code 137</small><td>update <time data-t=1799999820>3 min ago</time>\n")
    }

    @Test func longNamesAreSentOnceTheTooltipIsTheScripts() {
        let long = String(repeating: "a", count: 60)
        let html = OverviewPage.row(Self.row(long), now: Self.now).text
        #expect(html.hasPrefix("<tr><td><a href=\"/services/\(long)\">\(long)</a><td>shop/\(long):1.0<td>"))
        #expect(html.components(separatedBy: long).count == 4, "the name in the link, its text and the image: nothing else")
    }

    @Test func aCommitMessageWithMarkupShowsAsText() {
        let model = OverviewModel(
            summary: LoopSummary(
                appliedCommit: "0123456789abcdef0123456789abcdef01234567",
                appliedCommitInfo: CommitInfo(id: "0123456789abcdef0123456789abcdef01234567", subject: "<script>alert(1)</script>", author: "Eve <img src=x onerror=alert(2)>", date: nil),
                headCommit: "0123456789abcdef0123456789abcdef01234567"),
            attention: [], services: [Self.row("booking")])
        let page = OverviewPage.render(model, context: Self.context()).text
        #expect(page.contains("<span class=\"subject\" title=\"&lt;script&gt;alert(1)&lt;/script&gt;\">&lt;script&gt;alert(1)&lt;/script&gt;</span> <span class=\"muted\">by Eve &lt;img src=x onerror=alert(2)&gt;</span>"))
        #expect(!page.contains("<script>alert"))
        #expect(!page.contains("<img"))
        // The page's only script is the external one; no inline script, style or handler.
        #expect(page.components(separatedBy: "<script").count == 2)
        #expect(page.contains("<script src=\"/ui/app.js\" defer></script>"))
        #expect(!page.contains(" style="))
        #expect(!page.contains(" onerror=\""))
    }

    @Test func theButtonsSayHowToEnableWritesOrCarryTheCSRFToken() {
        #expect(Layout.actions(Self.context(.writesDisabled)).text == "<button type=\"button\" disabled>Sync now</button><span class=\"hint\">Read-only: start berth watch with BERTH_API_TOKEN set to enable Sync now</span>")
        #expect(Layout.actions(Self.context(.loggedOut, path: "/services/web?x=1")).text == "<a class=\"btn\" href=\"/login?back=%2Fservices%2Fweb%3Fx%3D1\">Log in to sync</a>")
        #expect(Layout.actions(Self.context(.loggedIn(csrf: "abc123"), path: "/plan")).text == "<form method=\"post\" action=\"/sync\"><input type=\"hidden\" name=\"csrf\" value=\"abc123\"><input type=\"hidden\" name=\"back\" value=\"/plan\"><button type=\"submit\" class=\"primary\">Sync now</button></form><form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"abc123\"><button type=\"submit\" class=\"link\">Log out</button></form>")
    }

    @Test func theBannerListsWhatNeedsAttentionWorstFirst() {
        let report = StatusReport(
            desired: DesiredState(services: ["web": ServiceSpec(name: "web", image: "shop/web:1.0", replicas: 1)], commit: "c2"),
            observed: ObservedState(project: "shop"))
        let status = LoopState(
            report: report, desiredCommit: "aaaaaaa1111", newestCommit: "bbbbbbb2222", lastAppliedCommit: "aaaaaaa1111",
            invalid: .init(commit: "bbbbbbb2222", errors: ["manifests/web.yaml:3:5: error: spec.replicas: expected an integer, found \"three\""]),
            backoff: [.init(service: "web", failures: 3, retryAt: Self.now.addingTimeInterval(40))],
            heldBack: [.init(service: "web", revision: "r2", commit: "ccccccc3333", message: "not healthy before the deadline", outcome: .rolledBack)])
        let items = UISnapshot.attention(UISnapshot.Inputs(status: status), now: Self.now)
        #expect(items.map(\.kind) == [.invalidCommit, .heldBack, .backoff, .unhealthy])
        #expect(items[0].title == "commit bbbbbbb has 1 manifest error: held back until a commit fixes them; running aaaaaaa, the last good commit")
        #expect(items[0].details == ["manifests/web.yaml:3:5: error: spec.replicas: expected an integer, found \"three\""])
        #expect(items[1].subject == "web")
        #expect(items[1].title == "rollout of r2 (ccccccc) failed: not healthy before the deadline; held back until a newer commit")
        #expect(items[2].subject == "web")
        #expect(items[2].title == "crash-loop backoff after 3 failures in a row; next restart")
        #expect(items[2].time == Self.now.addingTimeInterval(40))
        #expect(items[3].title == "1 service is Degraded or Missing:")
        let html = OverviewPage.attention(items, now: Self.now).text
        #expect(html.contains("<div class=\"banner bad\" data-kind=\"invalidCommit\"><p>commit bbbbbbb has 1 manifest error: held back until a commit fixes them; running aaaaaaa, the last good commit</p><ul><li>manifests/web.yaml:3:5: error: spec.replicas: expected an integer, found &quot;three&quot;</li></ul></div>"))
        #expect(html.contains("<div class=\"banner warn\" data-kind=\"backoff\"><p><a href=\"/services/web\">web</a>: crash-loop backoff after 3 failures in a row; next restart (<time data-t=\"1800000040\" title=\"2027-01-15T08:00:40Z\">in 40 s</time>)</p></div>"))
    }

    @Test func theServicePageMasksSecretsAndShowsNodesOnlyWhenKnown() {
        var spec = ServiceSpec(name: "api", image: "shop/api:2.0", replicas: 2)
        spec.env = ["DB_PASSWORD": "hunter2", "MODE": "<live>"]
        spec.labels = ["team": "a&b"]
        let instance = InstanceRow(id: "0123456789abcdef", state: .running, health: "healthy", revision: "r1", restarts: 1, created: Self.now.addingTimeInterval(-60), lastProbe: "pass", lastProbeTime: Self.now)
        var model = ServicePageModel(
            row: Self.row("api"), spec: spec, dependsOn: ["db"], instances: [instance], events: [], journal: [], series: [],
            hasTraffic: false, history: .text("commit 1\n    <b>bold</b>\n"), historyLimit: 10)
        var html = ServicePage.main(model, now: Self.now).text
        #expect(html.contains("<code>DB_PASSWORD=(sensitive)</code> <code>MODE=&lt;live&gt;</code>"))
        #expect(!html.contains("hunter2"))
        #expect(html.contains("<code>team=a&amp;b</code>"))
        #expect(html.contains("<pre class=\"history\">commit 1\n    &lt;b&gt;bold&lt;/b&gt;\n</pre>"))
        #expect(!html.contains("<th>Node"))
        #expect(html.contains("<tr><td><code title=\"0123456789abcdef\">0123456789ab</code><td><b>running</b><td>healthy<td><code>r1</code><td>1<td><time data-t=\"1799999940\" title=\"2027-01-15T07:59:00Z\">1 min ago</time><td class=\"probe\"><b>pass</b> <span class=\"muted\"><time data-t=1800000000>just now</time></span>\n"))
        model.instances[0].node = "node-2"
        html = ServicePage.main(model, now: Self.now).text
        #expect(html.contains("<th>Instance<th>Node<th>State"))
        #expect(html.contains("<td>node-2<td>"))
        // Drained by hand in berth proxy: said on its row, with since when.
        model.instances[0].drainedByHand = Self.now.addingTimeInterval(-120)
        html = ServicePage.main(model, now: Self.now).text
        #expect(html.contains(
            "<td><b>running</b> <b class=\"bad\">drained by hand</b> <span class=\"muted\">since <time data-t=\"1799999880\" title=\"2027-01-15T07:58:00Z\">2 min ago</time></span><td>healthy"))
    }

    @Test func theChartDrawsRateAndReplicasInFifteenSecondBuckets() {
        let now = Self.now
        let points = [
            SeriesPoint(time: now.addingTimeInterval(-30), rate: 10, replicas: 2),
            SeriesPoint(time: now.addingTimeInterval(-15), rate: 20, replicas: 3),
            SeriesPoint(time: now, rate: nil, replicas: 3),
        ]
        let svg = Chart.render(points, now: now, hasTraffic: true).text
        #expect(svg.contains("<path class=\"reps\" d=\"M750.1 88.8H753V63.2H756\"/>"))
        #expect(svg.contains("<path class=\"rate\" d=\"M750.1 76L753 12\"/>"))
        #expect(svg.contains("requests/s (left, now 20)"))
        #expect(svg.contains("ready replicas (right, now 3)"))
        #expect(Chart.render([], now: now, hasTraffic: true).text.contains("No samples yet"))
    }

    @Test func theJournalFilterKeepsItsChoices() {
        let model = JournalPageModel(records: [], service: "web", result: .failed, limit: 100, services: ["api", "web"])
        let html = JournalPage.main(model, now: Self.now).text
        #expect(html.contains("<option value=\"web\" selected>web</option>"))
        #expect(html.contains("<option value=\"failed\" selected>failed</option>"))
        #expect(html.contains("<p class=\"empty\">No sync matches these filters.</p>"))
    }
}
