import BerthCore
public import Foundation

/// The plan page: what the loop would do now, as `berth plan` prints it, and the diff
/// between the applied commit and the branch head, as `berth diff` prints it (the same
/// renderers: `PlanRendering`, `RevisionDiff.text`).
public enum PlanPage {
    public static func render(_ model: PlanPageModel, context: PageContext) -> HTML {
        Layout.page(title: "Plan", context: context, section: .plan, main: main(model))
    }

    public static func main(_ m: PlanPageModel) -> HTML {
        var out: HTML = "<h1>Plan</h1>\n<section><h2>What the loop would do now <span class=\"muted\">as <code>berth plan</code> prints it</span></h2>\n"
        out += block(m.plan, class: "plan")
        out += "</section>\n<section><h2>Applied commit → branch head <span class=\"muted\">as <code>berth diff</code> prints it</span></h2>\n"
        switch (m.appliedCommit, m.headCommit, m.diff) {
        case (_, _, let diff?):
            out += block(diff, class: "diff")
        case (nil, _, nil):
            out += "<p class=\"empty\">Nothing has been applied yet: there is no applied commit to compare with.</p>\n"
        case (let applied?, _, nil):
            out += "<p class=\"empty\">The branch head is the applied commit (<code>\(UIFormat.shortCommit(applied))</code>): nothing new to apply.</p>\n"
        }
        return out + "</section>\n"
    }

    static func block(_ value: TextOrError, class name: String) -> HTML {
        switch value {
        case .text(let text): "<pre class=\"\(name)\">\(text)</pre>\n"
        case .unavailable(let why): "<p class=\"banner warn\">\(why)</p>\n"
        }
    }
}

/// The journal: every sync, newest first, filterable by service and result (a plain GET
/// form, so a filtered view is a link).
public enum JournalPage {
    public static func render(_ model: JournalPageModel, context: PageContext) -> HTML {
        Layout.page(title: "Journal", context: context, section: .journal, main: main(model, now: context.now))
    }

    public static func main(_ m: JournalPageModel, now: Date) -> HTML {
        var out: HTML = "<h1>Journal</h1>\n" + filters(m)
        if let error = m.error { return out + "<p class=\"banner bad\">\(error)</p>\n" }
        guard !m.records.isEmpty else {
            return out + "<p class=\"empty\">No sync matches\(m.service == nil && m.result == nil ? "" : " these filters").</p>\n"
        }
        out += table(m.records, highlight: m.service, now: now)
        if m.records.count >= m.limit {
            out += "<p class=\"muted\">Showing the newest \(m.limit); <code>berth journal</code> lists more.</p>\n"
        }
        return out
    }

    static func filters(_ m: JournalPageModel) -> HTML {
        var services: HTML = "<option value=\"\">all services</option>"
        for name in m.services {
            services += name == m.service
                ? "<option value=\"\(name)\" selected>\(name)</option>" : "<option value=\"\(name)\">\(name)</option>"
        }
        if let s = m.service, !m.services.contains(s) { services += "<option value=\"\(s)\" selected>\(s)</option>" }
        var results: HTML = "<option value=\"\">any result</option>"
        for r in SyncResult.allCases {
            results += r == m.result
                ? "<option value=\"\(r.rawValue)\" selected>\(r.rawValue)</option>"
                : "<option value=\"\(r.rawValue)\">\(r.rawValue)</option>"
        }
        return """
            <form class="filters" method="get" action="/journal">\
            <label>Service <select name="service">\(services)</select></label> \
            <label>Result <select name="result">\(results)</select></label> \
            <button type="submit">Filter</button></form>

            """
    }

    /// One row per sync (when, trigger, result, duration, commit) and under it one line per
    /// step; the steps of `highlight` are marked.
    public static func table(_ records: [JournalRecord], highlight: String?, now: Date) -> HTML {
        var out: HTML = "<table class=\"journal\">\n<thead><tr><th>#<th>Started<th>Trigger<th>Result<th>Took<th>Commit<th>Steps</tr></thead>\n<tbody>\n"
        for r in records {
            let started = Timestamp.date(r.started)
            let took: HTML = {
                guard let a = started, let b = Timestamp.date(r.ended) else { return "—" }
                return "\(UIFormat.duration(milliseconds: max(0, Int((b.timeIntervalSince(a) * 1000).rounded()))))"
            }()
            let commit: HTML = r.commit.map { "<code title=\"\($0)\">\(UIFormat.shortCommit($0))</code>" } ?? "—"
            var steps: HTML = ""
            for s in r.steps {
                let mark: HTML = s.service == highlight ? " class=\"hl\"" : ""
                steps += "<li\(mark)>\(Badge.outcome(s.outcome)) \(s.action) <a href=\"/services/\(HTML.pathSegment(s.service))\">\(s.service)</a>"
                steps += " <span class=\"muted\">\(s.reason) · \(UIFormat.duration(milliseconds: s.durationMs))</span>"
                if !s.message.isEmpty { steps += "<small>\(s.message)</small>" }
                steps += "</li>"
            }
            for e in r.errors { steps += "<li class=\"err\">\(e)</li>" }
            let list: HTML = steps.text.isEmpty ? "<span class=\"muted\">nothing to do</span>" : "<ul>\(steps)</ul>"
            let when: HTML = started.map { UIFormat.timeWithTitle($0, now: now) } ?? "\(r.started)"
            out += "<tr><td>\(Int(r.id))<td>\(when)<td>\(r.trigger.rawValue)<td>\(Badge.result(r.result))<td>\(took)<td>\(commit)<td>\(list)\n"
        }
        return out + "</tbody>\n</table>\n"
    }
}

/// The log-in form (the API token for a session cookie) and the short pages of refusals.
public enum LoginPage {
    public static func render(context: PageContext, tokenConfigured: Bool, nonce: String, back: String, failed: Bool) -> HTML {
        var main: HTML = "<h1>Log in</h1>\n"
        guard tokenConfigured else {
            main += """
                <p class="banner warn">Writes are disabled: this berth watch has no API token. Start it with \
                <code>BERTH_API_TOKEN</code> set (a long random value, e.g. from <code>openssl rand -hex 32</code>) \
                to enable Sync now.</p>

                """
            return Layout.page(title: "Log in", context: context, section: .login, main: main)
        }
        if failed { main += "<p class=\"banner bad\" role=\"alert\">That token does not match BERTH_API_TOKEN.</p>\n" }
        main += """
            <form class="login" method="post" action="/login">
            <input type="hidden" name="nonce" value="\(nonce)">
            <input type="hidden" name="back" value="\(back)">
            <label for="token">API token <span class="muted">(the value of BERTH_API_TOKEN)</span></label>
            <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
            <button type="submit" class="primary">Log in</button>
            <p class="muted">The token is checked once and never stored in the browser: you get a session cookie \
            (HttpOnly, SameSite=Strict) that expires after an hour without use.</p>
            </form>

            """
        return Layout.page(title: "Log in", context: context, section: .login, main: main)
    }

    /// A refusal or an error, as a page (status set by the caller).
    public static func message(title: String, text: String, context: PageContext, link: (href: String, label: String)? = nil) -> HTML {
        var main: HTML = "<h1>\(title)</h1>\n<p class=\"banner warn\">\(text)</p>\n"
        if let link { main += "<p><a href=\"\(link.href)\">\(link.label)</a></p>\n" }
        return Layout.page(title: title, context: context, section: .login, main: main)
    }
}
