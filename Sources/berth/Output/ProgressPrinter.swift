import BerthCore
import BerthEngine
import Foundation
import Synchronization

/// Prints apply progress to standard error, one line per event, as it happens. On a
/// terminal (and not `TERM=dumb`) a live footer under the lines shows, per service with a
/// step under way, how many new instances are healthy: `… booking 1/3 healthy · gateway 0/2
/// healthy`; it is erased when the apply ends.
final class ProgressPrinter: Sendable {
    private struct State {
        /// Per service with a running step: healthy so far and the step's target.
        var active: [String: (healthy: Int, target: Int)] = [:]
        var footerShown = false
    }
    private let state = Mutex(State())
    let live: Bool
    /// Per service and action: how many new instances the step brings up.
    private let targets: [String: Int]

    init(plan: Plan, live: Bool = isatty(2) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb") {
        self.live = live
        var targets: [String: Int] = [:]
        for step in plan.steps {
            let n: Int
            switch step.action {
            case .create, .update: n = step.to?.replicas ?? 0
            case .scale: n = max(0, (step.to?.replicas ?? 0) - (step.from?.replicas ?? 0))
            case .heal: n = step.instances?.count ?? 0
            case .delete: n = 0
            }
            targets["\(step.service) \(step.action.rawValue)"] = n
        }
        self.targets = targets
    }

    func callAsFunction(_ event: ApplyEvent) {
        let text: String = state.withLock { s in
            switch event.kind {
            case .stepStarted(let action, _):
                s.active[event.service] = (0, targets["\(event.service) \(action.rawValue)"] ?? 0)
            case .healthy:
                if let a = s.active[event.service] { s.active[event.service] = (a.healthy + 1, a.target) }
            case .stepFinished:
                s.active[event.service] = nil
            default:
                break
            }
            // A line names services, images and engine messages: spelled out.
            let line = SafeText.escaped(event.line)
            guard live else { return line + "\n" }
            var out = s.footerShown ? "\r\u{1B}[K" : ""
            out += line + "\n"
            let footer = s.active.keys.sorted().map { name in
                let a = s.active[name]!
                let name = SafeText.escaped(name)
                return a.target > 0 ? "\(name) \(a.healthy)/\(a.target) healthy" : "\(name) …"
            }
            s.footerShown = !footer.isEmpty
            if !footer.isEmpty { out += "… " + footer.joined(separator: " · ") }
            return out
        }
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Prints a line that is not a step's event (above the footer, if one is shown).
    func print(_ line: String) {
        let text: String = state.withLock { s in
            guard live, s.footerShown else { return line + "\n" }
            s.footerShown = false
            return "\r\u{1B}[K" + line + "\n"
        }
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Erases the footer, if one is shown.
    func finish() {
        let shown = state.withLock { s in
            defer { s.footerShown = false }
            return s.footerShown
        }
        if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
