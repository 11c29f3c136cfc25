import BerthCore
import BerthDocker
import BerthTestSupport
import Foundation
import Testing

/// A Berth project on the 3-node Swarm driven through the `berth` binary: a git repository
/// of manifests, a state folder, the environment that points Berth at the cluster's manager
/// (`BERTH_RUNTIME=swarm`, `DOCKER_HOST`), and a cleanup that removes the project's services
/// and network and stops any process it started, whatever the test left.
final class SwarmShop: @unchecked Sendable {  // used from one test at a time
    let cluster: SwarmCluster
    let runtime: SwarmRuntime
    let project: String
    let repo: GitRepoBuilder
    let scratch: TemporaryDirectory
    var environment: [String: String]
    private var processes: [ChildProcess] = []

    init(_ prefix: String) async throws {
        cluster = try SwarmSuite.cluster
        runtime = try await SwarmRuntime.connect(environment: ["DOCKER_HOST": cluster.managerHost])
        project = "\(prefix)-\(String(UInt32.random(in: 0...UInt32.max) % 0xFFFFFF, radix: 16))"
        repo = try GitRepoBuilder()
        scratch = try TemporaryDirectory(prefix: "berth-swarm-\(prefix)")
        var environment = ProcessInfo.processInfo.environment
        environment["DOCKER_HOST"] = cluster.managerHost
        environment["BERTH_RUNTIME"] = "swarm"
        environment["NO_COLOR"] = "1"
        environment["XDG_STATE_HOME"] = scratch.path
        self.environment = environment
    }

    var stateDir: String { "\(scratch.path)/berth/\(project)" }

    /// A manifest under manifests/NAME.yaml; `spec` is the YAML under `spec:` (indented by
    /// two spaces), after the image.
    func service(_ name: String, image: String, replicas: Int, spec extra: String = "") throws {
        try repo.write(
            "manifests/\(name).yaml",
            "apiVersion: berth/v1\nkind: Service\nmetadata:\n  name: \(name)\nspec:\n  image: \(image)\n  replicas: \(replicas)\n"
                + extra)
    }

    /// The health check and update policy the tests use: fast probes, start-first.
    static func fastHealth(port: Int = 8080, failureThreshold: Int = 2) -> String {
        """
          health:
            http: {path: /healthz, port: \(port)}
            interval: 250ms
            timeout: 1s
            failureThreshold: \(failureThreshold)
          update: {strategy: rolling, maxSurge: 1, maxUnavailable: 0, progressDeadline: 60s, onFailure: rollback}
          stopGracePeriod: 2s

        """
    }

    @discardableResult
    func commit(_ message: String) throws -> String { try repo.commit(message) }

    /// `berth ARGS --repo … --project …` against the cluster.
    func berth(_ arguments: [String], timeout: Duration = .seconds(300)) throws -> ProcessResult {
        try ProcessRunner.berth(
            arguments + ["--repo", repo.path, "--project", project], environment: environment, timeout: timeout)
    }

    func apply(_ extra: [String] = []) throws -> ProcessResult {
        try berth(["apply", "--auto-approve"] + extra)
    }

    func status() throws -> SwarmSuite.StatusCommandTests.Document {
        let r = try berth(["status", "--format", "json"])
        guard r.status == 0 || r.status == 1 else { throw TestFailure("berth status: \(r.stderr)") }
        return try JSONDecoder().decode(SwarmSuite.StatusCommandTests.Document.self, from: Data(r.stdout.utf8))
    }

    /// The records of `berth journal --format json` (the watch's), newest first.
    func journal() throws -> [[String: Any]] {
        let r = try berth(["journal", "--state-dir", stateDir, "--format", "json", "--limit", "100"])
        guard r.status == 0 else { throw TestFailure("berth journal: \(r.stderr)") }
        let document = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        return document?["records"] as? [[String: Any]] ?? []
    }

    /// `name sync health ready/desired` per service.
    func summary() throws -> [String] {
        try status().services.map { "\($0.name) \($0.sync) \($0.health) \($0.readyReplicas)/\($0.desiredReplicas)" }
    }

    /// Starts a process (killed by `cleanup`).
    func start(_ arguments: [String], log: String) throws -> ChildProcess {
        let process = try ChildProcess(
            try ProcessRunner.berthExecutable(), arguments, environment: environment,
            stderr: .file("\(scratch.path)/\(log)"))
        processes.append(process)
        return process
    }

    /// `berth proxy --runtime swarm` for the project, on loopback.
    func startProxy() throws -> ChildProcess {
        try start(["proxy", "--project", project, "--state-dir", stateDir, "--bind", "127.0.0.1"], log: "proxy.log")
    }

    func log(_ name: String) -> String {
        (try? String(contentsOfFile: "\(scratch.path)/\(name)", encoding: .utf8)) ?? ""
    }

    /// The project's running tasks as Berth observes them.
    func instances(_ service: String) async throws -> [Instance] {
        try await runtime.observe(project: project).service(service)?.instances ?? []
    }

    func cleanup() {
        for process in processes { _ = process.terminate(SIGTERM, grace: .seconds(10)) }
        processes = []
        SwarmSuite.SwarmRuntimeTests.cleanup(project)
        repo.cleanup()
        scratch.remove()
    }
}

/// The first and last index of lines of `text` with `prefix`.
func lineIndex(_ text: String, first prefix: String) -> Int? {
    text.split(separator: "\n").firstIndex { $0.hasPrefix(prefix) }
}

func lineIndex(_ text: String, last prefix: String) -> Int? {
    text.split(separator: "\n").lastIndex { $0.hasPrefix(prefix) }
}
