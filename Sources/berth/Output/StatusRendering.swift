import BerthCore
import BerthDocker
import BerthEngine
import Foundation

/// `berth status` and the end of `berth apply`, for people: one aligned row per service,
/// sorted by name.
///
/// ```
/// SERVICE   IMAGE             REVISION    READY  SYNC    HEALTH   MESSAGE
/// booking   shop/booking:1.0  3e45ceb74b  2/2    Synced  Healthy  2 of 2 replicas ready
/// ```
enum StatusRendering {
    static func text(_ report: StatusReport, colour: Bool = false) -> String {
        if report.services.isEmpty {
            return SafeText.escaped("Project \(report.project): no services desired and nothing runs.") + "\n"
        }
        // A REPLICAS column only when a service is autoscaled: `4 (autoscaled 1–10, 183 req/s, target 50)`.
        let autoscaled = report.services.contains { $0.autoscale != nil }
        var header = ["SERVICE", "IMAGE", "REVISION", "READY", "SYNC", "HEALTH", "MESSAGE"]
        if autoscaled { header.insert("REPLICAS", at: 4) }
        var rows: [[String]] = [header]
        for s in report.services.sorted(by: { $0.name < $1.name }) {
            // Names, images and messages come from Docker's labels and probes: spelled out.
            var row = [
                s.name, s.image.isEmpty ? "-" : s.image, s.revision.isEmpty ? "-" : s.revision,
                "\(s.readyReplicas)/\(s.desiredReplicas)", s.sync.rawValue, s.health.rawValue, s.message,
            ]
            if autoscaled { row.insert(s.autoscale?.text ?? "\(s.desiredReplicas)", at: 4) }
            rows.append(row.map { SafeText.escaped($0) })
        }
        // SYNC and HEALTH coloured by their word (`Colour.status`); the header is bold.
        let sync = header.firstIndex(of: "SYNC")!, health = header.firstIndex(of: "HEALTH")!
        return table(rows) { row, column, cell in
            guard colour else { return cell }
            if row == 0 { return Colour.paint(cell, Colour.bold) }
            guard column == sync || column == health, let code = Colour.status(cell) else { return cell }
            return Colour.paint(cell, code)
        }
    }

    /// The Swarm's nodes and what of the project runs on each, sorted by hostname:
    ///
    /// ```
    /// NODE        ROLE     STATE  AVAILABILITY  ADDRESS       INSTANCES
    /// berthsw-n1  manager  ready  active        100.64.77.11  booking ×2, customer
    /// ```
    static func nodes(_ nodes: [SwarmNodeStatus], observed: ObservedState) -> String {
        var counts: [String: [String: Int]] = [:]
        for service in observed.services {
            for instance in service.instances { counts[instance.node ?? "", default: [:]][service.name, default: 0] += 1 }
        }
        var rows: [[String]] = [["NODE", "ROLE", "STATE", "AVAILABILITY", "ADDRESS", "INSTANCES"]]
        for node in nodes.sorted(by: { $0.hostname < $1.hostname }) {
            let here = counts[node.hostname] ?? [:]
            let instances = here.keys.sorted().map { here[$0]! > 1 ? "\($0) ×\(here[$0]!)" : $0 }.joined(separator: ", ")
            rows.append([
                node.hostname, node.role + (node.leader ? " (leader)" : ""), node.state, node.availability,
                node.address ?? "-", instances.isEmpty ? "-" : instances,
            ])
        }
        return table(rows)
    }

    /// Columns padded to their widest cell, two spaces apart; the last column unpadded.
    /// `paint` may wrap a cell (by row and column) in colour after its width is counted.
    static func table(_ rows: [[String]], paint: (Int, Int, String) -> String = { $2 }) -> String {
        let columns = rows.map(\.count).max() ?? 0
        var widths = Array(repeating: 0, count: columns)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        var out = ""
        for (r, row) in rows.enumerated() {
            var line = ""
            let last = row.lastIndex { !$0.isEmpty } ?? 0
            for (i, cell) in row.enumerated() where i <= last {
                line += paint(r, i, cell)
                if i < last { line += String(repeating: " ", count: widths[i] + 2 - cell.count) }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            out += line + "\n"
        }
        return out
    }
}
