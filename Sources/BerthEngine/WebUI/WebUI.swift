public import BerthNet
public import BerthCore
import Foundation
import Synchronization

/// `berth watch`'s web UI, served by the API's server at `/`: the routes, the session and
/// CSRF checks, and the background work (rate samples, change detection, heartbeats).
///
/// | route | answer |
/// |---|---|
/// | `GET /` | the overview |
/// | `GET /services/NAME` | a service |
/// | `GET /plan` | the plan and the diff from the applied commit to the branch head |
/// | `GET /journal?service=&result=&limit=` | the journal |
/// | `GET /login`, `POST /login`, `POST /logout` | the API token for a session cookie, and back |
/// | `POST /sync` | sync now (a session and its CSRF token) |
/// | `GET /ui/app.css`, `/ui/app.js` | the only stylesheet and script |
/// | `GET /ui/events` | server-sent events: `hello`, `change`, `tick` |
///
/// A page asked with `X-Berth-Fragment: main` answers its `<main>` alone (what `app.js`
/// swaps in). Reading is open; every write needs a session, which needs the API token.
public final class WebUI: Sendable {
    public struct Options: Sendable {
        /// Pages following live updates at once.
        public var maxLiveClients = 32
        public var heartbeat: Duration = .seconds(15)
        /// How often the rate and replicas are sampled.
        public var sampleInterval: Duration = .seconds(5)
        /// How often, while a page follows, the loop's status is compared with the last.
        public var pollInterval: Duration = .milliseconds(250)
        /// Commits shown in a service's history.
        public var historyLimit = 10
        /// Reading needs a session too (watch listens beyond loopback without
        /// `--public-read`, `APIExposure.tokenReads`): every page but the log-in form and
        /// the assets sends a browser without a session to log in first.
        public var readsNeedSession = false
        public init() {}
    }

    public let loop: ReconcileLoop
    public let journal: Journal?
    let token: String?
    let git: (any UIGitReader)?
    let traffic: (any TrafficStatistics)?
    public let options: Options
    public let sessions = UISessions()
    public let live: LiveUpdates
    public let series: ServiceSeries
    let cookieName: String
    private let memo = Mutex(Memo())

    struct Memo {
        var fingerprint: Int?
        var lastSteps: (id: Int64, steps: [String: LastStep])?
        var appliedAt: [String: Date] = [:]
    }

    public init(
        loop: ReconcileLoop, journal: Journal?, token: String?, git: (any UIGitReader)?, traffic: (any TrafficStatistics)?,
        options: Options = Options()
    ) {
        self.loop = loop
        self.journal = journal
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
        self.git = git
        self.traffic = traffic
        self.options = options
        live = LiveUpdates(maxClients: options.maxLiveClients, heartbeat: options.heartbeat)
        let seconds = Double(options.sampleInterval.components.seconds) + Double(options.sampleInterval.components.attoseconds) / 1e18
        series = ServiceSeries(capacity: Int((Chart.window / max(0.1, seconds)).rounded(.up)))
        cookieName = UIHeaders.cookieName(project: loop.project)
    }

    /// Whether `path` is the UI's (everything that is not the API, `/healthz` or `/metrics`).
    public static func owns(_ path: String) -> Bool {
        path == "/" || path == "/plan" || path == "/journal" || path == "/login" || path == "/logout" || path == "/sync"
            || path == "/favicon.ico" || path.hasPrefix("/services/") || path.hasPrefix("/ui/")
    }

    // MARK: - Routes

    public func handle(_ request: APIRequest) async -> APIResponse {
        let now = Date()
        let method = request.method == "HEAD" ? "GET" : request.method
        let path = request.path
        if options.readsNeedSession, !Self.openWithoutSession.contains(path), !hasSession(request, now: now) {
            if method == "GET" && path != "/ui/events" {
                return redirect("/login?back=" + HTML.queryValue(UIHeaders.safeBack(request.uri)))
            }
            if path == "/ui/events" || method == "GET" {
                return APIResponse(
                    status: 401, contentType: "text/plain; charset=utf-8",
                    body: "this berth watch serves its pages to logged-in browsers only: log in at /login\n",
                    headers: UIHeaders.security)
            }
        }
        switch (method, path) {
        case ("GET", "/ui/app.css"): return asset(AppStyle.css, type: "text/css; charset=utf-8")
        case ("GET", "/ui/app.js"): return asset(AppScript.js, type: "text/javascript; charset=utf-8")
        case ("GET", "/ui/events"): return events(request)
        case ("GET", "/favicon.ico"): return APIResponse(status: 204, contentType: "image/x-icon", body: "", headers: UIHeaders.security)
        case ("GET", "/"), ("GET", "/plan"), ("GET", "/journal"), ("GET", "/login"):
            break
        case ("GET", _) where path.hasPrefix("/services/"):
            break
        case ("POST", "/login"), ("POST", "/logout"), ("POST", "/sync"):
            return await post(request, now: now)
        case (_, "/login"), (_, "/logout"), (_, "/sync"), (_, "/"), (_, "/plan"), (_, "/journal"), (_, "/ui/app.css"),
            (_, "/ui/app.js"), (_, "/ui/events"):
            let allowed = ["/login"].contains(path) ? "GET, HEAD, POST" : (["/logout", "/sync"].contains(path) ? "POST" : "GET, HEAD")
            return APIResponse(
                status: 405, contentType: "text/plain; charset=utf-8", body: "\(request.method) is not allowed on \(path); use \(allowed)\n",
                headers: UIHeaders.security.merging(["Allow": allowed]) { $1 })
        default:
            return await notFound(request, now: now)
        }
        let context = await pageContext(request, now: now)
        let fragment = request.header("X-Berth-Fragment") == "main"
        switch path {
        case "/": return await overview(context, fragment: fragment)
        case "/plan": return await plan(context, fragment: fragment)
        case "/journal": return await journalPage(request, context, fragment: fragment)
        case "/login": return loginForm(request, context, failed: false)
        default: return await service(request, context, fragment: fragment)
        }
    }

    /// What a browser without a session may load when reading needs one.
    static let openWithoutSession: Set<String> = ["/login", "/ui/app.css", "/ui/app.js", "/favicon.ico"]

    func hasSession(_ request: APIRequest, now: Date) -> Bool {
        guard let cookie = request.cookie(cookieName) else { return false }
        return sessions.session(cookie: cookie, now: now) != nil
    }

    func asset(_ text: String, type: String) -> APIResponse {
        var headers = UIHeaders.security
        headers["Cache-Control"] = "no-cache"
        return APIResponse(status: 200, contentType: type, body: text, headers: headers)
    }

    func html(_ page: HTML, status: Int = 200, headers: [String: String] = [:]) -> APIResponse {
        APIResponse(
            status: status, contentType: "text/html; charset=utf-8", body: page.text,
            headers: UIHeaders.security.merging(headers) { $1 })
    }

    func events(_ request: APIRequest) -> APIResponse {
        guard !live.isClosed else {
            return APIResponse(
                status: 503, contentType: "text/plain; charset=utf-8", body: "berth watch is stopping\n",
                headers: UIHeaders.security)
        }
        var headers = UIHeaders.security
        // nginx and other proxies must pass each event on at once.
        headers["X-Accel-Buffering"] = "no"
        // A HEAD gets the head alone (and no place among the followers).
        return APIResponse(
            status: 200, contentType: "text/event-stream; charset=utf-8", body: "", headers: headers,
            stream: request.method == "HEAD" ? nil : live.body())
    }

    /// Who is looking (from the session cookie), the page's path and notice, and the
    /// live-update version of the state the page will show.
    func pageContext(_ request: APIRequest, now: Date) async -> PageContext {
        var access = UIAccess.writesDisabled
        if token != nil {
            if let cookie = request.cookie(cookieName), let session = sessions.session(cookie: cookie, now: now) {
                access = .loggedIn(csrf: CSRFMask.masked(session.csrf))
            } else {
                access = .loggedOut
            }
        }
        let notice = request.query["notice"].flatMap(PageContext.Notice.init(rawValue:))
        return PageContext(project: loop.project, path: request.uri, access: access, notice: notice, now: now)
    }

    func notFound(_ request: APIRequest, now: Date) async -> APIResponse {
        let context = await pageContext(request, now: now)
        return html(
            LoginPage.message(
                title: "Not found", text: "Nothing here: \(request.path). The UI has an overview, a page per service, the plan and the journal.",
                context: context, link: ("/", "Go to the overview")), status: 404)
    }

    // MARK: - Pages

    /// The loop's status, its fingerprint noted (a change since the last look bumps the
    /// live version and tells the pages that follow).
    func status() async -> LoopState {
        let status = LoopState(await loop.status())
        note(UISnapshot.fingerprint(status))
        return status
    }

    func note(_ fingerprint: Int) {
        let changed = memo.withLock { m -> Bool in
            defer { m.fingerprint = fingerprint }
            return m.fingerprint != nil && m.fingerprint != fingerprint
        }
        if changed { live.changed() }
    }

    func inputs(_ status: LoopState) async -> UISnapshot.Inputs {
        var inputs = UISnapshot.Inputs(status: status)
        inputs.specs = await loop.lastGood?.services ?? [:]
        inputs.rates = series.latest().compactMapValues(\.rate)
        inputs.lastSteps = await lastSteps()
        inputs.nextSyncDue = await loop.nextSyncDue
        if let applied = status.lastAppliedCommit {
            inputs.appliedInfo = try? await git?.commitInfo(applied)
            inputs.appliedAt = await appliedAt(applied)
        }
        return inputs
    }

    func lastSteps() async -> [String: LastStep] {
        guard let journal, let id = try? await journal.lastID() else { return [:] }
        if let known = memo.withLock({ $0.lastSteps }), known.id == id { return known.steps }
        let steps = (try? await journal.lastSteps()) ?? [:]
        memo.withLock { $0.lastSteps = (id, steps) }
        return steps
    }

    func appliedAt(_ commit: String) async -> Date? {
        if let known = memo.withLock({ $0.appliedAt[commit] }) { return known }
        guard let journal, let text = try? await journal.firstSuccess(commit: commit), let date = Timestamp.date(text) else {
            return nil
        }
        memo.withLock { m in
            if m.appliedAt.count > 64 { m.appliedAt = [:] }
            m.appliedAt[commit] = date
        }
        return date
    }

    func overview(_ context: PageContext, fragment: Bool) async -> APIResponse {
        let status = await status()
        var context = context
        context.version = live.version
        let model = UISnapshot.overview(await inputs(status), now: context.now)
        return html(fragment ? OverviewPage.main(model, now: context.now) : OverviewPage.render(model, context: context))
    }

    func service(_ request: APIRequest, _ context: PageContext, fragment: Bool) async -> APIResponse {
        let segment = String(request.path.dropFirst("/services/".count))
        let name = segment.removingPercentEncoding ?? segment
        let status = await status()
        var context = context
        context.version = live.version
        let inputs = await inputs(status)
        let records = (try? await journal?.records(service: name, limit: 20)) ?? []
        var history = TextOrError.unavailable("The history needs git, which this berth watch does not read.")
        if let git, let head = status.newestCommit ?? status.desiredCommit {
            do {
                let entries = try await git.history(service: name, head: head, limit: options.historyLimit)
                history = .text(HistoryText.text(entries, service: name))
            } catch {
                history = .unavailable("The history cannot be read from git: \(error)")
            }
        } else if git != nil {
            history = .unavailable("No commit has been read from git yet.")
        }
        guard let model = UISnapshot.service(
            name, inputs, journal: records, series: series.points(name), hasTraffic: series.hasTraffic,
            history: history, historyLimit: options.historyLimit, now: context.now)
        else {
            return html(
                LoginPage.message(
                    title: "No such service", text: "No service \(name) is desired or running in project \(loop.project).",
                    context: context, link: ("/", "Go to the overview")), status: 404)
        }
        return html(fragment ? ServicePage.main(model, now: context.now) : ServicePage.render(model, context: context))
    }

    func plan(_ context: PageContext, fragment: Bool) async -> APIResponse {
        let status = await status()
        var context = context
        context.version = live.version
        let planText: TextOrError
        do {
            planText = .text(PlanRendering.text(try await loop.currentPlan()))
        } catch {
            planText = .unavailable("The loop cannot plan now: \(error)")
        }
        var diff: TextOrError?
        if let applied = status.lastAppliedCommit, let head = status.newestCommit, applied != head {
            if let git {
                do {
                    let d = try await git.diff(from: applied, to: head)
                    let errors = d.diagnostics.filter { $0.severity == .error }
                    diff = errors.isEmpty
                        ? .text(d.text)
                        : .text(
                            d.diagnostics.map(\.rendered).joined(separator: "\n")
                                + "\nerror: the manifests changed between \(UIFormat.shortCommit(applied)) and \(UIFormat.shortCommit(head)) have \(UIFormat.count(errors.count, "error")); fix them to see the diff\n")
                } catch {
                    diff = .unavailable("The diff cannot be read from git: \(error)")
                }
            } else {
                diff = .unavailable("The diff needs git, which this berth watch does not read.")
            }
        }
        let model = PlanPageModel(plan: planText, appliedCommit: status.lastAppliedCommit, headCommit: status.newestCommit, diff: diff)
        return html(fragment ? PlanPage.main(model) : PlanPage.render(model, context: context))
    }

    func journalPage(_ request: APIRequest, _ context: PageContext, fragment: Bool) async -> APIResponse {
        let q = request.query
        let service = q["service"].flatMap { $0.isEmpty ? nil : $0 }
        let result = q["result"].flatMap { $0.isEmpty ? nil : SyncResult(rawValue: $0) }
        let limit = min(500, max(1, q["limit"].flatMap { Int($0) } ?? 100))
        let status = await status()
        var context = context
        context.version = live.version
        var model = JournalPageModel(
            records: [], service: service, result: result, limit: limit, services: status.report.services.map(\.name))
        if let journal {
            do {
                model.records = try await journal.records(service: service, result: result, limit: limit)
            } catch {
                model.error = "The journal cannot be read: \(error)"
            }
        } else {
            model.error = "This berth watch runs without a journal."
        }
        return html(fragment ? JournalPage.main(model, now: context.now) : JournalPage.render(model, context: context))
    }

    func loginForm(_ request: APIRequest, _ context: PageContext, failed: Bool, back: String? = nil) -> APIResponse {
        let back = UIHeaders.safeBack(back ?? request.query["back"])
        let page = LoginPage.render(
            context: context, tokenConfigured: token != nil, nonce: sessions.issueNonce(now: context.now), back: back,
            failed: failed)
        return html(page, status: failed ? 401 : 200)
    }
}
