/// `berth plan` output for people (text; also the web UI's plan page), CI (JSON:
/// `Plan.jsonText()`) and pull requests (markdown). Every format prints exactly the `Plan`
/// value; env values are masked by the planner already (`Secrets`), and nothing else a
/// step shows carries env. In text and
/// markdown every line is passed through `SafeText` (names, images, ids and env values come
/// from git, Docker or a file: none may print a line of its own or a terminal escape).
///
/// Symbols (ASCII on purpose, so they survive any terminal, log and CI viewer):
/// `+` create, `~` update, `>` scale, `!` heal, `-` delete.
public enum PlanRendering {
    public static func symbol(_ action: PlanStep.Action) -> String {
        switch action {
        case .create: "+"
        case .update: "~"
        case .scale: ">"
        case .heal: "!"
        case .delete: "-"
        }
    }

    public static let noChanges = "No changes. Desired state matches what runs."

    /// Said instead of `noChanges`, or after the summary, when the desired state has errors.
    public static func incomplete(_ plan: Plan, empty: Bool) -> String {
        let n = plan.desiredErrors
        let errors = "The desired state has \(n) error\(n == 1 ? "" : "s")"
        return empty
            ? "No changes for the services that loaded. \(errors): the services that did not load are left as they run."
            : "\(errors): the services that did not load are left as they run, and nothing is pruned."
    }

    public static func shortCommit(_ revision: String?) -> String {
        revision.map { String($0.prefix(7)) } ?? "(no commit)"
    }

    /// What the step changes, old → new, without the reason.
    public static func change(_ step: PlanStep) -> String {
        let from = step.from, to = step.to
        func replicas(_ n: Int) -> String { "\(n) replica\(n == 1 ? "" : "s")" }
        switch step.action {
        case .create:
            return "\(replicas(to?.replicas ?? 0)) of \(to?.image ?? "")"
        case .update:
            var parts: [String] = []
            if let from, let to {
                parts.append("revision \(from.revision) → \(to.revision)")
                if from.replicas != to.replicas { parts.append("\(from.replicas) → \(replicas(to.replicas))") }
            }
            if let s = step.strategy { parts.append(s.description) }
            return parts.joined(separator: ", ")
        case .scale:
            return "\(from?.replicas ?? 0) → \(replicas(to?.replicas ?? 0)) of \(to?.image ?? "")"
                + stopping(step.instances)
        case .heal:
            return "replace " + (step.instances ?? []).joined(separator: ", ")
        case .delete:
            return "remove " + (step.instances ?? []).joined(separator: ", ")
        }
    }

    private static func stopping(_ ids: [String]?) -> String {
        guard let ids, !ids.isEmpty else { return "" }
        return " (stop " + ids.joined(separator: ", ") + ")"
    }

    /// `KEY=value, …` sorted by key; values are already masked.
    public static func envLine(_ step: PlanStep) -> String? {
        guard step.action == .create, let env = step.to?.env, !env.isEmpty else { return nil }
        return env.keys.sorted().map { "\($0)=\(env[$0]!)" }.joined(separator: ", ")
    }

    // MARK: - Text

    public static func text(_ plan: Plan) -> String {
        func safe(_ s: String) -> String { SafeText.escaped(s) }
        // The prune setting on the first line: a plan read without it is not what watch does.
        let prune = plan.prune.map { " (prune: \($0 ? "on" : "off"))" } ?? ""
        var out = safe("Berth plan for project \(plan.project) at commit \(shortCommit(plan.revision))") + prune + "\n\n"
        if plan.steps.isEmpty {
            out += (plan.desiredErrors > 0 ? incomplete(plan, empty: true) : noChanges) + "\n"
        } else {
            let used = PlanStep.Action.allCases.filter { a in plan.steps.contains { $0.action == a } }
            out += "Symbols: " + used.map { "\(symbol($0)) \($0.rawValue)" }.joined(separator: ", ") + "\n"
            let services = plan.steps.map { safe($0.service) }
            let serviceWidth = services.map(\.count).max() ?? 0
            let actionWidth = used.map(\.rawValue.count).max() ?? 0
            var wave = -1
            for (step, name) in zip(plan.steps, services) {
                if step.wave != wave {
                    wave = step.wave
                    out += "\nwave \(wave):\n"
                }
                let action = step.action.rawValue.padded(actionWidth)
                out += "  \(symbol(step.action)) \(action) \(name.padded(serviceWidth))  \(safe(change(step)))  # \(safe(step.reason))\n"
                if let env = envLine(step) {
                    out += "    " + String(repeating: " ", count: actionWidth + serviceWidth + 3) + "env: \(safe(env))\n"
                }
            }
            out += "\n" + plan.summary.sentence + "\n"
            if plan.desiredErrors > 0 { out += incomplete(plan, empty: false) + "\n" }
        }
        if !plan.notes.isEmpty {
            out += "\nNot changed:\n"
            for note in plan.notes { out += "  " + safe("\(note.service): \(note.message)") + "\n" }
        }
        return out
    }

    // MARK: - Markdown

    public static func markdown(_ plan: Plan) -> String {
        var out = "### Berth plan for `\(cell(plan.project))` at `\(cell(shortCommit(plan.revision)))`\n\n"
        if plan.steps.isEmpty {
            out += (plan.desiredErrors > 0 ? incomplete(plan, empty: true) : noChanges) + "\n"
        } else {
            out += "| | Action | Service | Change | Why | Wave |\n"
            out += "|:-:|---|---|---|---|--:|\n"
            for step in plan.steps {
                var change = cell(change(step))
                if let env = envLine(step) { change += "<br>env: " + cell(env) }
                out += "| `\(symbol(step.action))` | \(step.action.rawValue) | `\(cell(step.service))` | \(change) "
                    + "| \(cell(step.reason)) | \(step.wave) |\n"
            }
            out += "\n**\(plan.summary.sentence)**\n"
            if plan.desiredErrors > 0 { out += "\n" + incomplete(plan, empty: false) + "\n" }
        }
        if !plan.notes.isEmpty {
            out += "\n**Not changed:**\n\n"
            for note in plan.notes { out += "- `\(cell(note.service))`: \(cell(note.message))\n" }
        }
        return out
    }

    /// A table cell: pipes escaped, HTML-significant characters escaped, control characters
    /// (line breaks included) spelled out.
    public static func cell(_ s: String) -> String {
        var out = ""
        for c in SafeText.escaped(s) {
            switch c {
            case "|": out += "\\|"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            default: out.append(c)
            }
        }
        return out
    }
}

extension String {
    fileprivate func padded(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
