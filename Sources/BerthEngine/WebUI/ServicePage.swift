import BerthCore
public import Foundation

/// A service: its state, spec (secret env values masked), request rate and replicas over
/// the last hour, instances, recent events, journal and desired-state history.
public enum ServicePage {
    public static func render(_ model: ServicePageModel, context: PageContext) -> HTML {
        Layout.page(
            title: model.row.name, context: context, section: .service, main: main(model, now: context.now), ticks: true)
    }

    public static func main(_ m: ServicePageModel, now: Date) -> HTML {
        let r = m.row
        let badges = Badge.sync(r.sync) + " " + Badge.health(r.health) + Badge.marks(r)
        var out: HTML = """
            <p class="crumbs"><a href="/">Overview</a> /</p>
            <h1 class="name">\(r.name) <span class="badges">\(badges)</span></h1>
            <p class="message">\(r.message)</p>

            """
        if !r.notes.isEmpty {
            // One line each, in `berth status`'s words (the end of its MESSAGE).
            out += "<ul class=\"notes\">" + HTML.join(r.notes.map { "<li>\($0)</li>" as HTML }) + "</ul>\n"
        }
        if let until = r.backoffUntil {
            out += "<div class=\"banner warn\"><p>Crash-looping: the next restart waits until \(UIFormat.timeWithTitle(until, now: now)).</p></div>\n"
        }
        out += facts(m)
        out += instances(m.instances, now: now)
        out += "<section><h2>Requests per second and ready replicas, last hour</h2>\n"
        out += Chart.render(m.series, now: now, hasTraffic: m.hasTraffic)
        out += "</section>\n"
        out += events(m.events, now: now)
        out += journal(m.journal, service: r.name, now: now)
        out += history(m)
        return out
    }

    static func facts(_ m: ServicePageModel) -> HTML {
        let r = m.row
        var rows: [HTML] = [
            "<div><dt>Image</dt><dd>\(r.image.isEmpty ? "—" : r.image)</dd></div>",
            "<div><dt>Revision</dt><dd><code>\(r.revision.isEmpty ? "—" : r.revision)</code></dd></div>",
            "<div><dt>Replicas</dt><dd>\(r.readyReplicas) ready of \(r.desiredReplicas) desired</dd></div>",
        ]
        if let a = r.autoscale {
            var text: HTML = "\(a.min)–\(a.max) replicas"
            if let target = a.targetRequestsPerSecond { text += ", target \(target) req/s per replica" }
            text += a.rate.map { ", now \(UIFormat.rate($0)) req/s" } ?? ", no rate yet"
            rows.append("<div><dt>Autoscale</dt><dd>\(text)</dd></div>")
        }
        if !m.dependsOn.isEmpty {
            let links = m.dependsOn.map { "<a href=\"/services/\(HTML.pathSegment($0))\">\($0)</a>" as HTML }
            rows.append("<div><dt>Depends on</dt><dd>\(HTML.join(links, separator: ", "))</dd></div>")
        }
        guard let spec = m.spec else {
            // Left out of an invalid commit, it is held back as it runs (its note says so), not pruned.
            if !r.marks.contains(.invalidCommit) {
                rows.append("<div><dt>Desired</dt><dd>not in the desired state: its instances would be pruned</dd></div>")
            }
            return "<section><dl class=\"facts\">\(rows)</dl></section>\n"
        }
        if !spec.ports.isEmpty {
            let ports = spec.ports.map { p -> HTML in
                p.publish.map { "\(p.containerPort) (published on \($0))" } ?? "\(p.containerPort)"
            }
            rows.append("<div><dt>Ports</dt><dd>\(HTML.join(ports, separator: ", "))</dd></div>")
        }
        if !spec.labels.isEmpty {
            let labels = spec.labels.keys.sorted().map { "<code>\($0)=\(spec.labels[$0]!)</code>" as HTML }
            rows.append("<div><dt>Labels</dt><dd>\(HTML.join(labels, separator: " "))</dd></div>")
        }
        if !spec.env.isEmpty {
            // Secret-bearing values never reach the page: BerthCore's one masking rule.
            let env = spec.env.keys.sorted().map { key -> HTML in
                "<code>\(key)=\(Secrets.display(envKey: key, value: spec.env[key]!))</code>"
            }
            rows.append("<div><dt>Environment</dt><dd>\(HTML.join(env, separator: " "))</dd></div>")
        }
        if let source = spec.source {
            rows.append("<div><dt>Declared in</dt><dd><code>\(source.description)</code></dd></div>")
        }
        return "<section><dl class=\"facts\">\(rows)</dl></section>\n"
    }

    static func instances(_ rows: [InstanceRow], now: Date) -> HTML {
        var out: HTML = "<section><h2>Instances</h2>\n"
        guard !rows.isEmpty else { return out + "<p class=\"empty\">No instance runs.</p></section>\n" }
        let nodes = rows.contains { $0.node != nil }
        out += "<table class=\"instances\">\n<thead><tr><th>Instance"
        if nodes { out += "<th>Node" }
        out += "<th>State<th>Health<th>Revision<th>Restarts<th>Age<th>Last probe</tr></thead>\n<tbody>\n"
        for i in rows {
            out += "<tr><td><code title=\"\(i.id)\">\(UIFormat.shortID(i.id))</code>"
            if nodes { out += "<td>\(i.node ?? "—")" }
            var state = Badge.state(i.state)
            if i.state == .exited, let code = i.exitCode { state += " <span class=\"muted\">code \(code)</span>" }
            if let since = i.drainedByHand {
                state += " \(Badge.make("drained by hand", .bad)) <span class=\"muted\">since \(UIFormat.timeWithTitle(since, now: now))</span>"
            }
            out += "<td>\(state)<td>\(i.health)<td><code>\(i.revision)</code><td>\(i.restarts)"
            out += "<td>\(i.created.map { UIFormat.timeWithTitle($0, now: now) } ?? "—")"
            if let probe = i.lastProbe {
                let tone: Badge.Tone = probe == "pass" ? .ok : .bad
                out += "<td class=\"probe\">\(Badge.make(probe == "pass" ? "pass" : "fail", tone))"
                if probe != "pass" { out += " <span title=\"\(probe)\">\(probe)</span>" }
                if let t = i.lastProbeTime { out += " <span class=\"muted\">\(UIFormat.time(t, now: now))</span>" }
                out += "\n"
            } else {
                out += "<td class=\"muted\">no probe yet\n"
            }
        }
        return out + "</tbody>\n</table>\n</section>\n"
    }

    static func events(_ events: [ServiceEvent], now: Date) -> HTML {
        var out: HTML = "<section><h2>Recent events</h2>\n"
        guard !events.isEmpty else {
            return out + "<p class=\"empty\">No heal, scale or rollout of this service in the journal.</p></section>\n"
        }
        out += "<table class=\"events\">\n<thead><tr><th>When<th>What<th>Outcome<th>Why<th>Took</tr></thead>\n<tbody>\n"
        for e in events {
            let when: HTML = e.time.map { UIFormat.timeWithTitle($0, now: now) } ?? "—"
            var why: HTML = "\(e.reason)"
            if !e.message.isEmpty { why += "<small>\(e.message)</small>" }
            out += "<tr><td>\(when)<td>\(e.action)\(e.revision.map { " <code>\($0)</code>" as HTML } ?? "")<td>\(Badge.outcome(e.outcome))<td>\(why)<td>\(UIFormat.duration(milliseconds: e.durationMs))\n"
        }
        return out + "</tbody>\n</table>\n</section>\n"
    }

    static func journal(_ records: [JournalRecord], service: String, now: Date) -> HTML {
        var out: HTML = "<section><h2>Journal <a class=\"more\" href=\"/journal?service=\(HTML.queryValue(service))\">all syncs of \(service)</a></h2>\n"
        guard !records.isEmpty else { return out + "<p class=\"empty\">No sync has touched this service yet.</p></section>\n" }
        out += JournalPage.table(records, highlight: service, now: now)
        return out + "</section>\n"
    }

    static func history(_ m: ServicePageModel) -> HTML {
        var out: HTML = "<section><h2>Desired-state history <span class=\"muted\">as <code>berth history \(m.row.name) --limit \(m.historyLimit)</code> prints it</span></h2>\n"
        switch m.history {
        case .text(let text): out += "<pre class=\"history\">\(text)</pre>\n"
        case .unavailable(let why): out += "<p class=\"empty\">\(why)</p>\n"
        }
        return out + "</section>\n"
    }
}
