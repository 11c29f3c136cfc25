import BerthCore
import BerthDocker
import BerthTestSupport
import Foundation
import Testing

/// One test's world: a real git repository in a temporary folder, a unique Berth project on
/// the real dockerd, and the built `berth` binary. `cleanup()` removes the project's
/// containers and network (by the `berth.project` label), the repository and the state
/// folder (`XDG_STATE_HOME` of every command it runs: the lease and the journal).
final class Shop: @unchecked Sendable {  // used by one test at a time
    let repo: GitRepoBuilder
    let project: String
    let runtime: DockerRuntime
    let state: TemporaryDirectory

    init(_ hint: String) async throws {
        // Connect first: if Docker does not answer, no repository is left behind.
        runtime = try await DockerRuntime.connect()
        project = "bi-\(hint)-\(String(UInt32.random(in: 0...UInt32.max) % 0xFFFFFF, radix: 16))"
        repo = try GitRepoBuilder()
        state = try TemporaryDirectory(prefix: "berth-state")
    }

    /// Synchronous, so it can run in `defer`: `docker rm -f` every container of the project,
    /// remove its network and the repository.
    func cleanup() {
        let ids = (try? docker(["ps", "-aq", "--filter", "label=berth.project=\(project)"]).stdout) ?? ""
        let list = ids.split(separator: "\n").map(String.init)
        if !list.isEmpty { _ = try? docker(["rm", "-f"] + list) }
        let networks = (try? docker(["network", "ls", "-q", "--filter", "label=berth.project=\(project)"]).stdout) ?? ""
        for network in networks.split(separator: "\n") { _ = try? docker(["network", "rm", String(network)]) }
        _ = try? docker(["network", "rm", BerthNaming.network(project: project)])
        let volumes = ((try? docker(["volume", "ls", "-q", "--filter", "label=berth.project=\(project)"]).stdout) ?? "")
            .split(separator: "\n").map(String.init)
        if !volumes.isEmpty { _ = try? docker(["volume", "rm", "-f"] + volumes) }
        repo.cleanup()
        state.remove()
    }

    /// What `cleanup` could not remove (checked at the end of every test).
    func leftovers() throws -> String {
        try docker(["ps", "-aq", "--filter", "label=berth.project=\(project)"]).stdout
            + (try docker(["network", "ls", "-q", "--filter", "name=^\(BerthNaming.network(project: project))$"]).stdout)
            + (try docker(["volume", "ls", "-q", "--filter", "label=berth.project=\(project)"]).stdout)
    }

    /// Writes `manifests/NAME.yaml` for a service with fast health checks.
    func service(
        _ name: String, image: String, replicas: Int, dependsOn: [String] = [], env: [String: String] = [:],
        interval: String = "200ms", deadline: String = "10s", maxSurge: Int = 1, maxUnavailable: Int = 0,
        command: [String] = []
    ) throws {
        var yaml = """
            apiVersion: berth/v1
            kind: Service
            metadata:
              name: \(name)
            spec:
              image: \(image)
              replicas: \(replicas)

            """
        if !dependsOn.isEmpty { yaml += "  dependsOn: [\(dependsOn.joined(separator: ", "))]\n" }
        if !command.isEmpty {
            yaml += "  command:\n" + command.map { "    - '\($0.replacingOccurrences(of: "'", with: "''"))'\n" }.joined()
        }
        if !env.isEmpty {
            yaml += "  env:\n" + env.keys.sorted().map { "    \($0): \"\(env[$0]!)\"\n" }.joined()
        }
        yaml += """
              ports:
                - containerPort: 8080
              health:
                http: {path: /healthz, port: 8080}
                interval: \(interval)
                timeout: 1s
                failureThreshold: 2
              update:
                strategy: rolling
                maxSurge: \(maxSurge)
                maxUnavailable: \(maxUnavailable)
                progressDeadline: \(deadline)
                onFailure: rollback
              stopGracePeriod: 2s

            """
        try repo.write("manifests/\(name).yaml", yaml)
    }

    @discardableResult
    func commit(_ message: String) throws -> String { try repo.commit(message) }

    var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        env["XDG_STATE_HOME"] = state.path
        return env
    }

    /// `berth COMMAND --repo REPO --project PROJECT ARGS...`
    func berth(_ command: String, _ arguments: [String] = [], environment extra: [String: String] = [:]) throws
        -> ProcessResult
    {
        try ProcessRunner.berth(
            [command, "--repo", repo.path, "--project", project] + arguments,
            environment: environment.merging(extra) { $1 })
    }

    func apply(_ arguments: [String] = [], environment extra: [String: String] = [:]) throws -> ProcessResult {
        try berth("apply", ["--auto-approve"] + arguments, environment: extra)
    }

    /// `berth status --format json`, decoded.
    func status() throws -> StatusDocument {
        let r = try berth("status", ["--format", "json"])
        guard r.status == 0 else { throw TestFailure("berth status failed: \(r.stderr)") }
        return try JSONDecoder().decode(StatusDocument.self, from: Data(r.stdout.utf8))
    }

    /// The project's containers as Docker lists them, with their state and labels.
    func containers(_ service: String? = nil) async throws -> [Engine.ContainerSummary] {
        var labels = [BerthLabel.project: project]
        if let service { labels[BerthLabel.service] = service }
        return try await runtime.client.listContainers(labels: labels)
    }
}

struct StatusDocument: Decodable, Equatable {
    struct Service: Decodable, Equatable {
        struct Instance: Decodable, Equatable {
            var id: String
            var revision: String
            var state: String
            var image: String?
        }
        var name: String
        var image: String
        var revision: String
        var desiredReplicas: Int
        var readyReplicas: Int
        var instances: [Instance]
        var sync: String
        var health: String
    }
    var formatVersion: Int
    var project: String
    var services: [Service]

    func service(_ name: String) -> Service? { services.first { $0.name == name } }
    /// `name sync health ready/desired`, one per service.
    var summary: [String] {
        services.map { "\($0.name) \($0.sync) \($0.health) \($0.readyReplicas)/\($0.desiredReplicas)" }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

@discardableResult
func docker(_ arguments: [String]) throws -> ProcessResult {
    try ProcessRunner.run(URL(fileURLWithPath: "/usr/local/bin/docker").resolvingDockerCLI, arguments)
}

extension URL {
    /// The docker CLI: /usr/local/bin/docker, else /usr/bin/docker.
    var resolvingDockerCLI: URL {
        FileManager.default.isExecutableFile(atPath: path) ? self : URL(fileURLWithPath: "/usr/bin/docker")
    }
}

/// Lines of `text` that start with `prefix`.
func lines(_ text: String, startingWith prefix: String) -> [String] {
    text.split(separator: "\n").map(String.init).filter { $0.hasPrefix(prefix) }
}
