import BerthCore
public import Foundation
import BerthNet

/// The UI's writes: log in (the API token for a session), log out, sync now. Each is a form
/// post that must come from this site (`isSameOrigin`) and carry its synchronizer token: the
/// log-in form a one-time nonce, the others the session's CSRF token (compared in constant
/// time). Without a configured token every write is refused and says how to enable it.
extension WebUI {
    func post(_ request: APIRequest, now: Date) async -> APIResponse {
        let path = request.path
        var context = await pageContext(request, now: now)
        context.path = "/"
        guard request.isSameOrigin else {
            return refusal(403, "Refused", "This form was posted from another site. Use the buttons of this page.", context)
        }
        guard let token else {
            return refusal(
                403, "Writes are disabled",
                "This berth watch has no API token: start it with BERTH_API_TOKEN set to enable Sync now.", context)
        }
        let form = request.formFields
        switch path {
        case "/login":
            let back = UIHeaders.safeBack(form["back"])
            guard sessions.consumeNonce(form["nonce"] ?? "", now: now) else {
                return refusal(
                    403, "Log-in form expired",
                    "This log-in form was used already, is over 10 minutes old, or was not made by this server. Open it again.",
                    context, link: ("/login?back=" + HTML.queryValue(back), "Log in again"))
            }
            guard ConstantTime.equal(form["token"] ?? "", token) else {
                // A wrong token costs the guesser time; the form is made afresh.
                try? await Task.sleep(for: .milliseconds(300))
                return loginForm(request, context, failed: true, back: back)
            }
            let (cookie, _) = sessions.create(now: now)
            let setCookie = UIHeaders.sessionCookie(
                name: cookieName, value: cookie, maxAge: Int(sessions.maxAge), secure: request.isHTTPS)
            return redirect(UIHeaders.withNotice(back, .loggedIn), headers: ["Set-Cookie": setCookie])
        case "/logout", "/sync":
            guard let cookie = request.cookie(cookieName), let session = sessions.session(cookie: cookie, now: now) else {
                return refusal(
                    403, "Log in first", "Sync now needs a session: log in with the API token (BERTH_API_TOKEN).", context,
                    link: ("/login", "Log in"))
            }
            guard ConstantTime.equal(form["csrf"].flatMap(CSRFMask.unmasked) ?? "", session.csrf) else {
                return refusal(403, "Refused", "The form's CSRF token does not match this session. Reload the page and try again.", context)
            }
            if path == "/logout" {
                sessions.remove(cookie: cookie)
                return redirect(
                    UIHeaders.withNotice("/", .loggedOut),
                    headers: ["Set-Cookie": UIHeaders.clearedCookie(name: cookieName, secure: request.isHTTPS)])
            }
            await loop.request(.manual, fetch: true)
            return redirect(UIHeaders.withNotice(UIHeaders.safeBack(form["back"]), .syncRequested))
        default:
            return await notFound(request, now: now)
        }
    }

    func redirect(_ location: String, headers: [String: String] = [:]) -> APIResponse {
        APIResponse(
            status: 303, contentType: "text/plain; charset=utf-8", body: "See \(location)\n",
            headers: UIHeaders.security.merging(headers.merging(["Location": location]) { $1 }) { $1 })
    }

    func refusal(_ status: Int, _ title: String, _ text: String, _ context: PageContext, link: (href: String, label: String)? = nil) -> APIResponse {
        html(LoginPage.message(title: title, text: text, context: context, link: link ?? ("/", "Back to the overview")), status: status)
    }
}

/// The UI's background work while `berth watch` runs.
extension WebUI {
    /// Samples rates and replicas, watches for changes while pages follow, and sends
    /// heartbeats, until the task is cancelled.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.sampleLoop() }
            group.addTask { await self.changeLoop() }
            group.addTask { await self.eventLoop() }
            group.addTask { await self.heartbeatLoop() }
            await group.waitForAll()
        }
    }

    /// Ends the live streams (the watch is stopping).
    public func shutdown() { live.shutdown() }

    /// One sample of every service: the balancer's request rate over the last 5 seconds (when
    /// a balancer answers within 2 s) and the ready replicas.
    public func sample(now: Date = Date()) async {
        var report: TrafficReport?
        if let traffic {
            report = try? await withThrowingTaskGroup(of: TrafficReport?.self) { group in
                group.addTask { try await traffic.traffic() }
                group.addTask {
                    try await Task.sleep(for: .seconds(2))
                    return nil
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                return first
            }
        }
        let status = await loop.status()
        var served: [String: ServiceTraffic] = [:]
        for t in report?.services ?? [] { served[t.service] = t }
        var values: [String: (rate: Double?, replicas: Int)] = [:]
        for s in status.report.services {
            // Nil for a service the balancer does not serve (no published port).
            values[s.name] = (served[s.name]?.requestsPerSecond(lastSeconds: 5), s.readyReplicas)
        }
        series.record(at: now, values, hasTraffic: report != nil)
        live.ticked()
    }

    func sampleLoop() async {
        while !Task.isCancelled {
            await sample()
            try? await Task.sleep(for: options.sampleInterval)
        }
    }

    /// While a page follows: the loop's status compared with the last every `pollInterval`.
    func changeLoop() async {
        while !Task.isCancelled {
            if live.clientCount > 0 { _ = await status() }
            try? await Task.sleep(for: options.pollInterval)
        }
    }

    /// Every event of a sync or a heal (the loop's event bus) is a moment the state may have
    /// changed: looked at at once, not at the next poll.
    func eventLoop() async {
        let bus = loop.events
        let (id, events) = bus.subscribe(bufferingPolicy: .bufferingNewest(1))
        defer { bus.cancel(id) }
        for await _ in events {
            if Task.isCancelled { return }
            if live.clientCount > 0 { _ = await status() }
        }
    }

    func heartbeatLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: options.heartbeat)
            live.ping()
        }
    }
}
