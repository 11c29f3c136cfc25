import BerthCore
public import Foundation

/// The overview: what runs from which commit, what needs attention, and one row per
/// service. Kept small on purpose (optional end tags left out, green badges without a
/// class, long names cut with an ellipsis by CSS, their tooltip added by `app.js`): a row
/// of a typical service is about 200 bytes.
public enum OverviewPage {
    /// The whole page.
    public static func render(_ model: OverviewModel, context: PageContext) -> HTML {
        let ticks = model.services.contains { $0.autoscale != nil }
        return Layout.page(
            title: "Overview", context: context, section: .overview, main: main(model, now: context.now), ticks: ticks,
            toolbar: toolbar(model))
    }

    /// The filter above the table (outside `<main>`, so what is typed survives updates).
    static func toolbar(_ model: OverviewModel) -> HTML {
        guard model.services.count > 8 else { return "" }
        return """
            <div class="toolbar"><label>Filter <input id="filter" type="search" placeholder="service name" autocomplete="off"></label>\
            <label><input id="problems" type="checkbox"> only services that need attention</label></div>

            """
    }

    /// What `<main>` holds.
    public static func main(_ model: OverviewModel, now: Date) -> HTML {
        var out: HTML = summary(model, now: now)
        out += attention(model.attention, now: now)
        out += table(model.services, now: now)
        return out
    }

    static func summary(_ model: OverviewModel, now: Date) -> HTML {
        let s = model.summary
        var applied: HTML
        if let commit = s.appliedCommit {
            applied = "<code title=\"\(commit)\">\(UIFormat.shortCommit(commit))</code>"
            if let info = s.appliedCommitInfo {
                applied += " <span class=\"subject\" title=\"\(info.subject)\">\(info.subject)</span> <span class=\"muted\">by \(info.author)</span>"
            }
            if let at = s.appliedAt { applied += " <span class=\"muted\">applied \(UIFormat.timeWithTitle(at, now: now))</span>" }
        } else {
            applied = "<span class=\"muted\">nothing applied yet</span>"
        }
        var head: HTML = "<span class=\"muted\">not fetched yet</span>"
        if let h = s.headCommit {
            head = "<code title=\"\(h)\">\(UIFormat.shortCommit(h))</code>"
            if h == s.appliedCommit {
                head += " <span class=\"muted\">(applied)</span>"
            } else {
                head += " <a href=\"/plan\">see the diff and the plan</a>"
            }
        }
        var sync: HTML = "<span class=\"muted\">no sync yet</span>"
        if let last = s.lastSync {
            sync = "\(Badge.result(last.result)) <span class=\"muted\">\(last.trigger)</span>"
            if let ended = last.ended { sync += " \(UIFormat.timeWithTitle(ended, now: now))" }
            if let ms = last.durationMs { sync += " <span class=\"muted\">in \(UIFormat.duration(milliseconds: ms))</span>" }
            if last.steps > 0 { sync += " <span class=\"muted\">· \(UIFormat.count(last.steps, "step"))</span>" }
        }
        let next: HTML = s.nextSyncDue.map { UIFormat.timeWithTitle($0, now: now) } ?? "<span class=\"muted\">on the next trigger</span>"
        var counts: [HealthStatus: Int] = [:]
        for row in model.services { counts[row.health, default: 0] += 1 }
        let tally = HTML.join(
            HealthStatus.allCases.compactMap { h in counts[h].map { Badge.make("\($0) \(h.rawValue)", Badge.tone(h)) } },
            separator: " ")
        return """
            <section class="summary">
            <dl>
            <div><dt>Commit applied</dt><dd>\(applied)</dd></div>
            <div><dt>Branch head</dt><dd>\(head)</dd></div>
            <div><dt>Last sync</dt><dd>\(sync)</dd></div>
            <div><dt>Next sync</dt><dd>\(next)</dd></div>
            <div><dt>Services</dt><dd>\(model.services.count) · \(tally)</dd></div>
            </dl>
            </section>

            """
    }

    /// Detail lines shown under a banner before the rest fold into "N more".
    static let shownDetails = 3

    public static func attention(_ items: [Attention], now: Date) -> HTML {
        guard !items.isEmpty else { return "" }
        var out: HTML = "<section class=\"attention\" aria-label=\"Needs attention\">\n"
        for (index, item) in items.enumerated() {
            var services: HTML = ""
            if !item.services.isEmpty {
                let shown = item.services.prefix(12).map { "<a href=\"/services/\(HTML.pathSegment($0))\">\($0)</a>" as HTML }
                services = " " + HTML.join(Array(shown), separator: ", ")
                if item.services.count > 12 { services += " and \(item.services.count - 12) more" }
            }
            let time: HTML = item.time.map { " (\(UIFormat.timeWithTitle($0, now: now)))" } ?? ""
            let subject: HTML = item.subject.map { "<a href=\"/services/\(HTML.pathSegment($0))\">\($0)</a>: " } ?? ""
            var details: HTML = ""
            if !item.details.isEmpty {
                let lines = item.details.map { "<li>\($0)</li>" as HTML }
                details = "<ul>" + HTML.join(Array(lines.prefix(shownDetails))) + "</ul>"
                if lines.count > shownDetails {
                    // An id that stays the same across updates keeps it open (app.js).
                    details += "<details id=\"more-\(item.kind.rawValue)-\(index)\"><summary>\(lines.count - shownDetails) more</summary><ul>"
                        + HTML.join(Array(lines.dropFirst(shownDetails))) + "</ul></details>"
                }
            }
            out += """
                <div class="banner \(item.isSevere ? "bad" : "warn")" data-kind="\(item.kind.rawValue)"><p>\(subject)\(item.title)\(services)\(time)</p>\(details)</div>

                """
        }
        return out + "</section>\n"
    }

    static func table(_ rows: [ServiceRow], now: Date) -> HTML {
        guard !rows.isEmpty else {
            return "<p class=\"empty\">No services: the desired state is empty and nothing of this project runs.</p>\n"
        }
        var out: HTML = """
            <table class="services">
            <thead><tr><th>Service<th>Image<th>Revision<th>Replicas<th>Autoscale<th>Sync<th>Health<th>Last change</tr></thead>
            <tbody>

            """
        for row in rows { out += self.row(row, now: now) }
        return out + "</tbody>\n</table>\n<p id=\"nomatch\" class=\"empty\" hidden>No service matches the filter.</p>\n"
    }

    /// One row. A cell too narrow for its text ends in an ellipsis; `app.js` gives it a
    /// tooltip with the whole text when the pointer is on it (no `title` sent per row).
    public static func row(_ r: ServiceRow, now: Date) -> HTML {
        let name: HTML = "<a href=\"/services/\(HTML.pathSegment(r.name))\">\(r.name)</a>"
        let image: HTML = "<td>\(r.image)"
        var health = Badge.health(r.health) + Badge.marks(r)
        // Status's MESSAGE when the service is not healthy or runs other than git says.
        if (r.health != .healthy && !r.message.isEmpty) || !r.notes.isEmpty { health += "<small>\(r.statusMessage)</small>" }
        let replicas: HTML = r.readyReplicas == r.desiredReplicas
            ? "\(r.readyReplicas)/\(r.desiredReplicas)" : "<span class=\"short\">\(r.readyReplicas)/\(r.desiredReplicas)</span>"
        var autoscale: HTML = ""
        if let a = r.autoscale {
            autoscale = "\(a.min)–\(a.max)"
            if let rate = a.rate { autoscale += " · \(UIFormat.rate(rate)) req/s" }
        }
        var change: HTML = ""
        if let c = r.lastChange {
            change = "\(c.what) \(UIFormat.time(c.time, now: now))"
            if let o = c.outcome, o != .succeeded { change += " " + Badge.outcome(o) }
        }
        let open: HTML = r.needsAttention ? "<tr class=\"p\">" : "<tr>"
        return "\(open)<td>\(name)\(image)<td>\(r.revision)<td>\(replicas)<td>\(autoscale)<td>\(Badge.sync(r.sync))<td>\(health)<td>\(change)\n"
    }
}
