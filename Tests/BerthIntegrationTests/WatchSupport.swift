import BerthTestSupport
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Runs a command to completion; stdout (trimmed) and the exit status.
@discardableResult
func sh(_ arguments: [String], allowFailure: Bool = true) throws -> (out: String, status: Int32) {
    let r = try ProcessRunner.program(arguments)
    return (r.stdout.trimmingCharacters(in: .whitespacesAndNewlines), r.status)
}

enum Docker {
    /// Ids of the project's running containers (of one service when given), sorted.
    static func running(_ project: String, service: String? = nil) throws -> [String] {
        var args = ["docker", "ps", "-q", "--no-trunc", "--filter", "label=berth.project=\(project)", "--filter", "status=running"]
        if let service { args += ["--filter", "label=berth.service=\(service)"] }
        return try sh(args).out.split(separator: "\n").map(String.init).sorted()
    }

    static func all(_ project: String) throws -> [String] {
        try sh(["docker", "ps", "-aq", "--no-trunc", "--filter", "label=berth.project=\(project)"]).out
            .split(separator: "\n").map(String.init).sorted()
    }

    /// Removes every container and the network of `project`.
    static func clean(_ project: String) {
        if let ids = try? all(project), !ids.isEmpty { _ = try? sh(["docker", "rm", "-f"] + ids) }
        _ = try? sh(["docker", "network", "rm", "berth-\(project)"])
    }
}

/// Polls `condition` every 100 ms until it holds or `seconds` pass; returns whether it held.
func eventually(within seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.1)
    }
    return try condition()
}

/// A git repository of manifests plus a `berth watch` child process on it, with a unique
/// project; `stop()` SIGTERMs the watch and removes the containers, network and folders.
final class WatchHarness: @unchecked Sendable {  // used from one test at a time
    let repo: GitRepoBuilder
    let project: String
    let state: TemporaryDirectory
    var process: ChildProcess?
    var logPath: String { state.path + "/watch.log" }
    var port = 0

    static var binary: URL { Bundle.main.bundleURL.appendingPathComponent("berth") }

    init() throws {
        repo = try GitRepoBuilder()
        state = try TemporaryDirectory(prefix: "berth-watch-test")
        project = "wt" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
    }

    static func service(_ name: String, replicas: Int, image: String = "shop/customer:1.0", startPeriod: String = "0s", extra: String = "") -> String {
        if startPeriod == "none" {
            return """
            apiVersion: berth/v1
            kind: Service
            metadata: {name: \(name)}
            spec:
              image: \(image)
              replicas: \(replicas)
              stopGracePeriod: 1s
            \(extra)
            """
        }
        return """
        apiVersion: berth/v1
        kind: Service
        metadata: {name: \(name)}
        spec:
          image: \(image)
          replicas: \(replicas)
          health:
            http: {path: /healthz, port: 8080}
            interval: 1s
            startPeriod: \(startPeriod)
          stopGracePeriod: 1s
        \(extra)
        """
    }

    @discardableResult
    func commit(_ files: [String: String], _ message: String) throws -> String {
        for (path, text) in files.sorted(by: { $0.key < $1.key }) { try repo.write(path, text) }
        return try repo.commit(message)
    }

    /// Starts `berth watch` and waits until its API answers.
    func start(
        interval: String = "1s", token: String? = "test-token", listen: String = "127.0.0.1:0", extraArguments: [String] = [],
        environment extra: [String: String] = [:], prlimit: String? = nil
    ) throws {
        var env = ProcessInfo.processInfo.environment
        env["BERTH_API_TOKEN"] = token
        if token == nil { env.removeValue(forKey: "BERTH_API_TOKEN") }
        env.merge(extra) { _, new in new }
        let arguments = [
            "watch", "--repo", repo.path, "--project", project, "--interval", interval, "--state-dir", state.path,
            "--listen", listen,
        ] + extraArguments
        // `prlimit`: run under `prlimit --nofile=SOFT:HARD` (which execs berth: same pid).
        process = try ChildProcess(
            prlimit == nil ? Self.binary : URL(fileURLWithPath: "/usr/bin/prlimit"),
            prlimit.map { ["--nofile=\($0)", "--", Self.binary.path] + arguments } ?? arguments,
            environment: env, stderr: .file(logPath))  // a fresh log per start: tests read this watch's lines
        let found = eventually(within: 20) {
            guard let text = try? String(contentsOfFile: logPath, encoding: .utf8),
                  let line = text.split(separator: "\n").last(where: { $0.contains("API listening") }),
                  let address = line.range(of: "http.address="),
                  let range = line[address.upperBound...].range(of: ":")
            else { return false }
            port = Int(line[range.upperBound...].prefix { $0.isNumber }) ?? 0
            return port > 0
        }
        if !found { throw HarnessError(message: "berth watch did not start; log:\n\(log())") }
    }

    func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// SIGTERM (bounded wait, then SIGKILL); returns the exit status.
    @discardableResult
    func terminate(signal: Int32 = SIGTERM) -> Int32? {
        guard let p = process else { return nil }
        process = nil
        return p.terminate(signal, grace: .seconds(15))
    }

    func stop() {
        terminate()
        Docker.clean(project)
        repo.cleanup()
        state.remove()
    }

    /// An HTTP request to the watch's API: status code and body.
    func http(_ method: String, _ path: String, token: String? = nil) throws -> (status: Int, body: String) {
        var args = ["curl", "-s", "-m", "10", "-o", "-", "-w", "\n%{http_code}", "-X", method]
        if let token { args += ["-H", "Authorization: Bearer \(token)"] }
        args.append("http://127.0.0.1:\(port)\(path)")
        let out = try sh(args).out
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.last ?? "") ?? 0
        return (status, lines.dropLast().joined(separator: "\n"))
    }

    func json(_ path: String) throws -> [String: Any] {
        let body = try http("GET", path).body
        return (try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:]
    }

    /// `berth journal --format json` for this project.
    func journal() throws -> [[String: Any]] {
        let out = try sh([Self.binary.path, "journal", "--project", project, "--state-dir", state.path, "--format", "json", "--limit", "100"]).out
        let doc = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]
        return doc?["records"] as? [[String: Any]] ?? []
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
