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
    /// The whole spec the instance was started from (JSON, sorted keys), so a rollback can
    /// start the previous revision again; `env` with its values emptied (labels travel in
    /// every `docker events` payload), which `recordedSpec(_:environment:)` fills back in
    /// from the container's own environment.
    public static let spec = "berth.spec"
    /// The service's `dependsOn`, sorted and comma-separated (absent when empty), so pruned
    /// services can be deleted in reverse dependency order without their manifests.
    public static let dependsOn = "berth.depends-on"
    /// On a named volume: its name in the manifests (the volume is `<project>_<name>`).
    public static let volume = "berth.volume"
    /// The image the instance runs, by digest (`repo@sha256:…`), or the image id
    /// (`sha256:…`) for an image that came from no registry: what really ran, for audits.
    public static let imageDigest = "berth.image-digest"

    /// The labels of one instance of `request`.
    public static func labels(for request: InstanceRequest) -> [String: String] {
        var labels = request.spec.labels
        labels[project] = request.project
        labels[service] = request.spec.name
        labels[revision] = request.spec.revision.id
        labels[commit] = request.commit ?? ""
        labels[stopGrace] = "\(request.spec.stopGracePeriod.milliseconds)"
        var recorded = request.spec
        recorded.source = nil
        recorded.env = recorded.env.mapValues { _ in "" }
        let specEncoder = JSONEncoder()
        specEncoder.outputFormatting = .sortedKeys
        labels[spec] = String(decoding: try! specEncoder.encode(recorded), as: UTF8.self)
        if !request.spec.dependsOn.isEmpty { labels[dependsOn] = request.spec.dependsOn.sorted().joined(separator: ",") }
        if let check = request.spec.health {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            labels[health] = String(decoding: try! encoder.encode(check), as: UTF8.self)
        }
        return labels
    }

    /// The spec read back from `labels` (nil when absent or unreadable), its env values
    /// taken from `environment` (the container's `Config.Env`, `KEY=value` lines; the last
    /// one of a key wins, as in Docker).
    public static func recordedSpec(_ labels: [String: String], environment: [String] = []) -> ServiceSpec? {
        guard let text = labels[spec],
            var recorded = try? JSONDecoder().decode(ServiceSpec.self, from: Data(text.utf8))
        else { return nil }
        var values: [String: String] = [:]
        for line in environment {
            guard let eq = line.firstIndex(of: "=") else { continue }
            values[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        for key in recorded.env.keys {
            if let value = values[key] { recorded.env[key] = value }
        }
        return recorded
    }

    /// The `dependsOn` list read back from `labels`.
    public static func dependencies(_ labels: [String: String]) -> [String] {
        (labels[dependsOn] ?? "").split(separator: ",").map(String.init)
    }

    /// The health check read back from `labels`.
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
