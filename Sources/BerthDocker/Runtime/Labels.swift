import Foundation
public import BerthCore

/// The label and naming scheme: everything Berth knows about a container is on the
/// container, so observed state is rebuilt from labels alone after any crash.
public enum BerthLabel {
    public static let project = "berth.project"
    public static let service = "berth.service"
    public static let revision = "berth.revision"
    public static let commit = "berth.commit"
    /// The service's health check as JSON, so any later run can probe without the manifest.
    public static let health = "berth.health"
    /// The service's stopGracePeriod in milliseconds, so an orphan is stopped as gently as
    /// its manifest asked.
    public static let stopGrace = "berth.stop-grace-ms"
    /// The service's ports as JSON (`[{"containerPort":8080,"publish":8081}]`), so
    /// `berth proxy` knows which host ports to serve and where to forward them.
    public static let ports = "berth.ports"

    /// The labels of one instance of `request`.
    public static func labels(for request: InstanceRequest) -> [String: String] {
        var labels = request.spec.labels
        labels[project] = request.project
        labels[service] = request.spec.name
        labels[revision] = request.spec.revision.id
        labels[commit] = request.commit ?? ""
        labels[stopGrace] = "\(request.spec.stopGracePeriod.milliseconds)"
        if !request.spec.ports.isEmpty {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            let sorted = request.spec.ports.sorted { ($0.containerPort, $0.publish ?? 0) < ($1.containerPort, $1.publish ?? 0) }
            labels[ports] = String(decoding: try! encoder.encode(sorted), as: UTF8.self)
        }
        if let check = request.spec.health {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            labels[health] = String(decoding: try! encoder.encode(check), as: UTF8.self)
        }
        return labels
    }

    /// The ports recorded on a container (empty when none or unreadable).
    public static func portSpecs(_ labels: [String: String]) -> [PortSpec] {
        guard let text = labels[ports] else { return [] }
        return (try? JSONDecoder().decode([PortSpec].self, from: Data(text.utf8))) ?? []
    }

    public static func healthCheck(_ labels: [String: String]) -> HealthCheck? {
        guard let text = labels[health] else { return nil }
        return try? JSONDecoder().decode(HealthCheck.self, from: Data(text.utf8))
    }
}

/// Names of the things Berth creates in Docker.
public enum BerthNaming {
    /// The project's bridge network.
    public static func network(project: String) -> String { "berth-\(project)" }

    /// `<project>-<service>-<revision>-<6 hex>`: readable in `docker ps`, unique per instance.
    public static func container(project: String, service: String, revision: Revision) -> String {
        let suffix = (0..<6).map { _ in String(UInt8.random(in: 0..<16), radix: 16) }.joined()
        return "\(project)-\(service)-\(revision.id)-\(suffix)"
    }
}
