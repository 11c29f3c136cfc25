import BerthCore
import BerthEngine
import BerthNet
import BerthTestSupport
import Foundation
import Testing

/// The web UI's routes over a real loop (a deterministic runtime) and a real journal:
/// headers, fragments, log-in, CSRF, Sync now, refusals.
@Suite struct WebUIRouteTests {
    static let csp =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

    struct Fixture {
        let ui: WebUI
        let router: APIRouter
        let loop: ReconcileLoop
        let journal: Journal
        let dir: TemporaryDirectory
        let source: ScriptedSource
    }

    func fixture(token: String?, readsNeedSession: Bool = false) async throws -> Fixture {
        let dir = try TemporaryDirectory(prefix: "berth-webui")
        let journal = try Journal(path: dir.path + "/journal.sqlite")
        let source = ScriptedSource()
        var web = LoopFx.spec("web", replicas: 2)
        web.env = ["API_TOKEN": "hunter2", "MODE": "live"]
        source.set(LoopFx.desired([web, LoopFx.spec("db")], commit: "c1"))
        let loop = LoopFx.loop(source: source, runtime: FakeRuntime(state: .none(project: "shop")), journal: journal)
        await loop.syncOnce()
        var options = WebUI.Options()
        options.readsNeedSession = readsNeedSession
        let ui = WebUI(loop: loop, journal: journal, token: token, git: nil, traffic: nil, options: options)
        return Fixture(
            ui: ui, router: APIRouter(loop: loop, journal: journal, token: token, ui: ui), loop: loop, journal: journal, dir: dir,
            source: source)
    }

    func get(_ f: Fixture, _ uri: String, headers: [(String, String)] = []) async -> APIResponse {
        await f.router.handle(APIRequest(method: "GET", uri: uri, headers: [("Host", "127.0.0.1:7420")] + headers))
    }

    func post(_ f: Fixture, _ uri: String, _ form: [(String, String)], headers: [(String, String)] = []) async -> APIResponse {
        let body = form.map { "\($0.0)=\(HTML.queryValue($0.1))" }.joined(separator: "&")
        return await f.router.handle(APIRequest(
            method: "POST", uri: uri,
            headers: [("Host", "127.0.0.1:7420"), ("Content-Type", "application/x-www-form-urlencoded")] + headers,
            body: Array(body.utf8)))
    }

    /// The value of `name="…" value="…"` in a page.
    func hidden(_ page: String, _ name: String) -> String? {
        guard let r = page.range(of: "name=\"\(name)\" value=\"") else { return nil }
        return String(page[r.upperBound...].prefix { $0 != "\"" })
    }

    @Test func everyPageIsServedWithTheSecurityHeadersAndNoInlineScript() async throws {
        let f = try await fixture(token: nil)
        defer { f.dir.remove() }
        for uri in ["/", "/services/web", "/plan", "/journal", "/journal?service=web&result=succeeded", "/login"] {
            let r = await get(f, uri)
            #expect(r.status == 200, "\(uri)")
            #expect(r.contentType == "text/html; charset=utf-8")
            #expect(r.headers["Content-Security-Policy"] == Self.csp)
            #expect(r.headers["X-Content-Type-Options"] == "nosniff")
            #expect(r.headers["Referrer-Policy"] == "same-origin")
            #expect(r.headers["X-Frame-Options"] == "DENY")
            #expect(r.headers["Cache-Control"] == "no-store")
            #expect(r.body.hasPrefix("<!doctype html>\n"))
            #expect(r.body.components(separatedBy: "<script").count == 2, "\(uri): one script, the external one")
            #expect(!r.body.contains(" style="), "\(uri)")
            #expect(!r.body.contains("hunter2"), "\(uri): a secret env value reached the page")
        }
        let css = await get(f, "/ui/app.css")
        #expect(css.status == 200 && css.contentType == "text/css; charset=utf-8" && css.headers["X-Content-Type-Options"] == "nosniff")
        let js = await get(f, "/ui/app.js")
        #expect(js.status == 200 && js.contentType == "text/javascript; charset=utf-8" && js.body.contains("new EventSource('/ui/events')"))
        let api = await get(f, "/api/v1/status")
        #expect(api.contentType == "application/json", "the API is still the API")
    }

    @Test func theServicePageShowsInstancesAndMasksSecrets() async throws {
        let f = try await fixture(token: nil)
        defer { f.dir.remove() }
        let page = await get(f, "/services/web").body
        #expect(page.contains("<h1 class=\"name\">web <span class=\"badges\"><b>Synced</b> <b>Healthy</b></span></h1>"))
        #expect(page.contains("<code>API_TOKEN=(sensitive)</code> <code>MODE=live</code>"))
        #expect(page.components(separatedBy: "<td><b>running</b>").count == 3, "two instances")
        #expect(page.contains("create <code>"), "the create step is a recent event")
        let missing = await get(f, "/services/nope")
        #expect(missing.status == 404)
        #expect(missing.body.contains("No service nope is desired or running in project shop."))
        let odd = await get(f, "/services/%3Cscript%3E")
        #expect(odd.status == 404)
        #expect(odd.body.contains("No service &lt;script&gt; is desired"))
    }

    @Test func aFragmentIsTheMainPartAlone() async throws {
        let f = try await fixture(token: nil)
        defer { f.dir.remove() }
        let whole = await get(f, "/")
        let part = await get(f, "/", headers: [("X-Berth-Fragment", "main")])
        #expect(part.status == 200)
        #expect(part.body.hasPrefix("<section class=\"summary\">"))
        #expect(!part.body.contains("<html"))
        #expect(whole.body.contains("<main id=\"main\" data-v=\"0\">\n" + part.body + "</main>"))
    }

    @Test func thePlanPageIsBerthPlansText() async throws {
        let f = try await fixture(token: nil)
        defer { f.dir.remove() }
        let page = await get(f, "/plan").body
        #expect(page.contains("<pre class=\"plan\">" + HTML.escape(PlanRendering.text(try await f.loop.currentPlan())) + "</pre>"))
        #expect(page.contains("The branch head is the applied commit (<code>c1</code>): nothing new to apply."))
    }

    @Test func theJournalFiltersByServiceAndResult() async throws {
        let f = try await fixture(token: nil)
        defer { f.dir.remove() }
        try await f.journal.append(JournalRecord(started: "2027-01-01T00:00:00.000Z", ended: "2027-01-01T00:00:01.500Z", commit: "c0", trigger: .manual, result: .failed, steps: [JournalStep(action: "update", service: "db", wave: 0, reason: "image changed", outcome: .failed, message: "<b>boom</b>", durationMs: 1500)]))
        let failed = await get(f, "/journal?result=failed").body
        #expect(failed.contains("<b class=\"bad\">failed</b>"))
        #expect(failed.contains("<small>&lt;b&gt;boom&lt;/b&gt;</small>"))
        #expect(!failed.contains("<b>succeeded</b><td>"))
        let web = await get(f, "/journal?service=web").body
        #expect(web.contains("<li class=\"hl\"><b>succeeded</b> create <a href=\"/services/web\">web</a>"))
        #expect(!web.contains("boom"))
    }

    @Test func withoutATokenEveryWriteIsRefusedAndSaysHowToEnableIt() async throws {
        let f = try await fixture(token: nil)
        defer { f.dir.remove() }
        let page = await get(f, "/").body
        #expect(page.contains("<button type=\"button\" disabled>Sync now</button><span class=\"hint\">Read-only: start berth watch with BERTH_API_TOKEN set to enable Sync now</span>"))
        f.source.set(LoopFx.desired([LoopFx.spec("web", replicas: 3)], commit: "c2"))
        let sync = await post(f, "/sync", [("csrf", "x")])
        #expect(sync.status == 403)
        #expect(sync.body.contains("This berth watch has no API token: start it with BERTH_API_TOKEN set to enable Sync now."))
        let login = await get(f, "/login").body
        #expect(login.contains("Writes are disabled: this berth watch has no API token."))
        await f.loop.syncOnce()
        #expect(await f.loop.status().desiredCommit == "c1", "nothing asked for a fetch")
    }

    @Test func logInTradesTheTokenForASessionWhoseFormsCarryACSRFToken() async throws {
        let f = try await fixture(token: "s3cret-token")
        defer { f.dir.remove() }
        // Logged out: a link to log in; a sync is refused.
        #expect(await get(f, "/").body.contains("<a class=\"btn\" href=\"/login?back=%2F\">Log in to sync</a>"))
        #expect(await post(f, "/sync", [("csrf", "x")]).status == 403)

        // A wrong token: 401 and a fresh form.
        var form = await get(f, "/login?back=/services/web").body
        var nonce = try #require(hidden(form, "nonce"))
        #expect(hidden(form, "back") == "/services/web")
        let wrong = await post(f, "/login", [("nonce", nonce), ("token", "s3cret-tokeN"), ("back", "/services/web")])
        #expect(wrong.status == 401)
        #expect(wrong.body.contains("That token does not match BERTH_API_TOKEN."))
        #expect(wrong.headers["Set-Cookie"] == nil)
        // The nonce was used up.
        let replay = await post(f, "/login", [("nonce", nonce), ("token", "s3cret-token")])
        #expect(replay.status == 403)
        #expect(replay.headers["Set-Cookie"] == nil)

        form = await get(f, "/login?back=/services/web").body
        nonce = try #require(hidden(form, "nonce"))
        let ok = await post(f, "/login", [("nonce", nonce), ("token", "s3cret-token"), ("back", "/services/web")])
        #expect(ok.status == 303)
        #expect(ok.headers["Location"] == "/services/web?notice=logged-in")
        let setCookie = try #require(ok.headers["Set-Cookie"])
        #expect(setCookie.hasPrefix("berth_session_shop="))
        #expect(setCookie.hasSuffix("; Path=/; Max-Age=43200; HttpOnly; SameSite=Strict"))
        let cookie = String(setCookie.prefix { $0 != ";" })

        // Logged in: the page's forms carry the session's CSRF token.
        let page = await get(f, "/services/web?notice=logged-in", headers: [("Cookie", "other=1; " + cookie)]).body
        #expect(page.contains("<p class=\"notice\" role=\"status\">Logged in: Sync now is enabled in this browser.</p>"))
        let csrf = try #require(hidden(page, "csrf"))
        #expect(csrf.count == 128, "32 bytes of pad, 32 of the masked token, in hex")
        // Masked afresh on every page (so a compressed page cannot give it away): another
        // load carries other bytes for the same token, and either is accepted below.
        let again = try #require(hidden(await get(f, "/plan", headers: [("Cookie", cookie)]).body, "csrf"))
        #expect(again.count == 128)
        #expect(again != csrf)

        // A new commit that only a sync with a fetch picks up.
        f.source.set(LoopFx.desired([LoopFx.spec("web", replicas: 3), LoopFx.spec("db")], commit: "c2"))
        // The session without its CSRF token, or another site's form: refused.
        let tampered = String(csrf.dropLast()) + (csrf.hasSuffix("0") ? "1" : "0")
        #expect(await post(f, "/sync", [("csrf", tampered), ("back", "/")], headers: [("Cookie", cookie)]).status == 403)
        #expect(await post(f, "/sync", [("csrf", "not hex"), ("back", "/")], headers: [("Cookie", cookie)]).status == 403)
        #expect(await post(f, "/sync", [("csrf", csrf)], headers: [("Cookie", cookie), ("Origin", "http://evil.example")]).status == 403)
        #expect(await post(f, "/sync", [("csrf", csrf)], headers: [("Cookie", cookie), ("Sec-Fetch-Site", "cross-site")]).status == 403)
        await f.loop.syncOnce()
        #expect(await f.loop.status().desiredCommit == "c1", "no refused post asked for a fetch")
        // The right token: a sync is requested, and back to the page.
        let sync = await post(f, "/sync", [("csrf", csrf), ("back", "/plan")], headers: [("Cookie", cookie), ("Origin", "http://127.0.0.1:7420")])
        #expect(sync.status == 303)
        #expect(sync.headers["Location"] == "/plan?notice=sync-requested")
        await f.loop.syncOnce()
        #expect(await f.loop.status().desiredCommit == "c2", "Sync now fetched the new commit")
        let redirect = await post(f, "/sync", [("csrf", again), ("back", "//evil.example/x")], headers: [("Cookie", cookie)])
        #expect(redirect.headers["Location"] == "/?notice=sync-requested", "a redirect never leaves the site")

        // Log out: the session ends.
        let out = await post(f, "/logout", [("csrf", csrf)], headers: [("Cookie", cookie)])
        #expect(out.status == 303)
        #expect(out.headers["Set-Cookie"] == "berth_session_shop=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict")
        #expect(await post(f, "/sync", [("csrf", csrf)], headers: [("Cookie", cookie)]).status == 403)
        #expect(f.ui.sessions.count == 0)
    }

    @Test func beyondLoopbackEveryPageNeedsASession() async throws {
        let f = try await fixture(token: "s3cret-token", readsNeedSession: true)
        defer { f.dir.remove() }
        for uri in ["/", "/services/web?x=1", "/plan", "/journal"] {
            let r = await get(f, uri)
            #expect(r.status == 303, "\(uri)")
            #expect(r.headers["Location"] == "/login?back=" + HTML.queryValue(uri))
            #expect(r.body == "See /login?back=" + HTML.queryValue(uri) + "\n", "nothing of the project is shown")
        }
        #expect(await get(f, "/ui/events").status == 401)
        #expect(await get(f, "/ui/app.css").status == 200)
        let form = await get(f, "/login?back=/plan")
        #expect(form.status == 200)
        let nonce = try #require(hidden(form.body, "nonce"))
        let ok = await post(f, "/login", [("nonce", nonce), ("token", "s3cret-token"), ("back", "/plan")])
        #expect(ok.headers["Location"] == "/plan?notice=logged-in")
        let cookie = String(try #require(ok.headers["Set-Cookie"]).prefix { $0 != ";" })
        let page = await get(f, "/plan", headers: [("Cookie", cookie)])
        #expect(page.status == 200)
        #expect(page.body.contains("<pre class=\"plan\">"))
    }

    @Test func methodsAndUnknownPaths() async throws {
        let f = try await fixture(token: "t")
        defer { f.dir.remove() }
        let get = await get(f, "/sync")
        #expect(get.status == 405)
        #expect(get.headers["Allow"] == "POST")
        let put = await f.router.handle(APIRequest(method: "PUT", uri: "/"))
        #expect(put.status == 405)
        #expect(put.headers["Allow"] == "GET, HEAD")
        let missing = await self.get(f, "/ui/nothing")
        #expect(missing.status == 404)
        #expect(missing.headers["Content-Security-Policy"] == Self.csp)
    }
}
