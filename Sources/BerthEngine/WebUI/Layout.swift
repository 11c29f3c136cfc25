import Foundation
public import BerthCore

/// The shell every page shares: head, top bar (project, navigation, live indicator, the
/// write buttons), the notice, and `<main id="main">`, which `app.js` replaces with a fresh
/// copy (`X-Berth-Fragment: main`) when the server says something changed.
public enum Layout {
    public enum Section: String, Sendable, CaseIterable {
        case overview, service, plan, journal, login
    }

    /// The whole document.
    /// - Parameter ticks: the page also follows the request-rate samples (it shows rates).
    /// The log-in page and the short message pages do not follow live updates (a refresh
    /// would wipe what is being typed).
    public static func page(title: String, context: PageContext, section: Section, main: HTML, ticks: Bool = false, toolbar: HTML = "") -> HTML {
        let nav: [(Section, String, String)] = [(.overview, "/", "Overview"), (.plan, "/plan", "Plan"), (.journal, "/journal", "Journal")]
        let links = nav.map { item -> HTML in
            let current = item.0 == section || (item.0 == .overview && section == .service)
            return current
                ? "<a href=\"\(item.1)\" class=\"on\" aria-current=\"page\">\(item.2)</a>"
                : "<a href=\"\(item.1)\">\(item.2)</a>"
        }
        let notice: HTML = context.notice.map { "<p class=\"notice\" role=\"status\">\($0.sentence)</p>" } ?? ""
        return """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title) · \(context.project) · Berth</title>
            <link rel="stylesheet" href="/ui/app.css">
            <script src="/ui/app.js" defer></script>
            </head>
            <body data-ticks="\(ticks ? "1" : "0")" data-live="\(section == .login ? "0" : "1")">
            <header class="top">
            <a class="brand" href="/">Berth</a>
            <span class="project" title="project">\(context.project)</span>
            <nav>\(links)</nav>
            <span id="live" class="live off" title="Live updates from berth watch">not live</span>
            <div class="actions">\(actions(context))</div>
            </header>
            <div id="notice">\(notice)</div>
            \(toolbar)<main id="main" data-v="\(context.version)">
            \(main)</main>
            </body>
            </html>

            """
    }

    /// Sync now (and log out) with a session; a log-in link without one; disabled buttons
    /// that say how to enable them when no token is configured.
    public static func actions(_ context: PageContext) -> HTML {
        switch context.access {
        case .writesDisabled:
            return """
                <button type="button" disabled>Sync now</button>\
                <span class="hint">Read-only: start berth watch with BERTH_API_TOKEN set to enable Sync now</span>
                """
        case .loggedOut:
            return "<a class=\"btn\" href=\"/login?back=\(HTML.queryValue(context.path))\">Log in to sync</a>"
        case .loggedIn(let csrf):
            return """
                <form method="post" action="/sync"><input type="hidden" name="csrf" value="\(csrf)">\
                <input type="hidden" name="back" value="\(context.path)">\
                <button type="submit" class="primary">Sync now</button></form>\
                <form method="post" action="/logout"><input type="hidden" name="csrf" value="\(csrf)">\
                <button type="submit" class="link">Log out</button></form>
                """
        }
    }

    /// The `<main>` part alone, as `app.js` asks for it.
    public static func fragment(_ main: HTML) -> HTML { main }
}

/// The badges: one word, one colour, the same everywhere (green good, blue moving, amber
/// look soon, red act now, grey nothing to do). A `<b>` is a badge, green unless its class
/// says otherwise (the good case is the common one: 1,000 rows save 22 KB).
public enum Badge {
    public enum Tone: String, Sendable { case ok, info, warn, bad, mute }

    public static func make(_ text: String, _ tone: Tone) -> HTML {
        tone == .ok ? "<b>\(text)</b>" : "<b class=\"\(tone.rawValue)\">\(text)</b>"
    }

    /// A row's marks and backoff, each after a space: amber when the loop holds it back or
    /// leaves it alone, blue for an operator's pin or count.
    public static func marks(_ r: ServiceRow) -> HTML {
        var out: HTML = ""
        for mark in r.marks {
            let tone: Tone = mark == .pinned || mark == .scaled ? .info : .warn
            out += " " + make(mark.rawValue, tone)
        }
        if r.backoffUntil != nil { out += " " + make("backoff", .warn) }
        return out
    }

    public static func sync(_ s: SyncStatus) -> HTML {
        s == .synced ? "<b>Synced</b>" : "<b class=\"warn\">OutOfSync</b>"
    }

    public static func health(_ h: HealthStatus) -> HTML {
        switch h {
        case .healthy: "<b>Healthy</b>"
        case .progressing: "<b class=\"info\">Progressing</b>"
        case .missing: "<b class=\"warn\">Missing</b>"
        case .degraded: "<b class=\"bad\">Degraded</b>"
        }
    }

    public static func tone(_ h: HealthStatus) -> Tone {
        switch h {
        case .healthy: .ok
        case .progressing: .info
        case .missing: .warn
        case .degraded: .bad
        }
    }

    public static func result(_ r: SyncResult) -> HTML {
        switch r {
        case .succeeded: make("succeeded", .ok)
        case .partial: make("partial", .warn)
        case .rolledBack: make("rolledBack", .bad)
        case .failed: make("failed", .bad)
        case .invalid: make("invalid", .bad)
        case .error: make("error", .bad)
        }
    }

    public static func outcome(_ o: JournalOutcome) -> HTML {
        switch o {
        case .succeeded: make("succeeded", .ok)
        case .failed: make("failed", .bad)
        case .rolledBack: make("rolledBack", .bad)
        case .paused: make("paused", .warn)
        case .skipped: make("skipped", .mute)
        }
    }

    public static func state(_ s: Instance.State) -> HTML {
        switch s {
        case .running: make("running", .ok)
        case .starting: make("starting", .info)
        case .unhealthy: make("unhealthy", .bad)
        case .exited: make("exited", .bad)
        }
    }
}
