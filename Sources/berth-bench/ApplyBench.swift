import BerthTestSupport
import Foundation
import NIOConcurrencyHelpers

let applyBenchmark = Benchmark(
    name: "apply",
    summary: "berth apply of 10 replicas vs a docker run -d loop; scale 3 → 10 (same dockerd, one run)",
    run: ApplyBench.run)

/// `swift run -c release berth-bench apply [--rounds N]`
///
/// 1. From nothing: `berth apply --auto-approve` of one service with 10 replicas (it returns
///    when all 10 are healthy) against a shell loop of `docker run -d` of the same 10
///    containers on a fresh network (it returns when all 10 are started, health unknown).
///    Rounds alternate, so both see the same engine; medians and min–max are printed.
/// 2. Scale 3 → 10 with `berth apply`: time until the 7th new instance is started (all 10
///    running) and until apply returns (all 10 healthy), health interval 1 s as in PEERS.md.
/// Everything is removed afterwards by the `berth.project` label.
enum ApplyBench {
    static func run(_ args: [String]) throws {
        let rounds = args.firstIndex(of: "--rounds").flatMap { i in i + 1 < args.count ? Int(args[i + 1]) : nil } ?? 3
        let berth = try berthBinary()
        let docker = ["/usr/local/bin/docker", "/usr/bin/docker"].first { FileManager.default.isExecutableFile(atPath: $0) }
            ?? "docker"
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("berth-apply-bench-\(getpid())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }

        print("== apply: 10 replicas of shop/customer:1.0 from nothing, \(rounds) rounds (berth \(berth.path))")
        var berthTimes: [Double] = [], dockerTimes: [Double] = []
        for round in 1...rounds {
            // berth apply
            let project = "bench-apply-\(getpid())-\(round)"
            let repo = scratch.appendingPathComponent(project)
            try makeRepo(repo, replicas: 10, interval: "1s")
            defer { cleanup(project: project, docker: docker) }
            let t = try timed {
                let r = try runProcess(berth.path, ["apply", "--auto-approve", "--repo", repo.path, "--project", project])
                guard r.status == 0 else { throw BenchError("berth apply failed (\(r.status)): \(r.stderr)") }
            }
            berthTimes.append(t)

            // docker run -d × 10 in a shell loop, on a fresh network like berth's.
            let plain = "bench-docker-\(getpid())-\(round)"
            defer { cleanup(project: plain, docker: docker) }
            let script = """
                \(docker) network create --label berth.project=\(plain) berth-\(plain) >/dev/null
                for i in 1 2 3 4 5 6 7 8 9 10; do
                  \(docker) run -d --network berth-\(plain) --network-alias customer --label berth.project=\(plain) shop/customer:1.0 >/dev/null
                done
                """
            let d = try timed {
                let r = try runProcess("/bin/sh", ["-ec", script])
                guard r.status == 0 else { throw BenchError("docker run loop failed: \(r.stderr)") }
            }
            dockerTimes.append(d)
            print(String(format: "  round %d: berth apply %.2f s, docker run loop %.2f s", round, t, d))
        }
        let bm = median(berthTimes), dm = median(dockerTimes)
        print(String(format: "  berth apply (all 10 healthy):        median %.2f s (%.2f–%.2f)", bm, berthTimes.min()!, berthTimes.max()!))
        print(String(format: "  docker run -d loop (all 10 started): median %.2f s (%.2f–%.2f)", dm, dockerTimes.min()!, dockerTimes.max()!))
        print(String(format: "  ratio berth / docker: %.2f× (target ≤ 1.5×)", bm / dm))

        print("== scale 3 → 10 with berth apply (health interval 1s), \(rounds) rounds")
        var running: [Double] = [], healthy: [Double] = []
        for round in 1...rounds {
            let project = "bench-scale-\(getpid())-\(round)"
            let repo = scratch.appendingPathComponent(project)
            try makeRepo(repo, replicas: 3, interval: "1s")
            defer { cleanup(project: project, docker: docker) }
            let first = try runProcess(berth.path, ["apply", "--auto-approve", "--repo", repo.path, "--project", project])
            guard first.status == 0 else { throw BenchError("berth apply (3 replicas) failed: \(first.stderr)") }
            try writeManifest(repo, replicas: 10, interval: "1s")
            try git(repo, ["commit", "-qam", "scale to 10"])
            let (total, lines) = try runTimedLines(berth.path, ["apply", "--auto-approve", "--repo", repo.path, "--project", project])
            let starts = lines.filter { $0.line.contains("; waiting for health") }
            guard starts.count == 7 else { throw BenchError("expected 7 starts, saw \(starts.count): \(lines.map(\.line))") }
            running.append(starts.map(\.seconds).max()!)
            healthy.append(total)
            print(String(format: "  round %d: all 10 running %.2f s, all 10 healthy %.2f s", round, running.last!, total))
        }
        print(String(format: "  all 10 running: median %.2f s (%.2f–%.2f)", median(running), running.min()!, running.max()!))
        print(String(format: "  all 10 healthy: median %.2f s (%.2f–%.2f)", median(healthy), healthy.min()!, healthy.max()!))
    }

    // MARK: - Helpers

    struct BenchError: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    /// The release `berth` next to this executable; built first when missing.
    static func berthBinary() throws -> URL {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let binary = here.appendingPathComponent("berth")
        if !FileManager.default.isExecutableFile(atPath: binary.path) {
            print("building berth (swift build -c release --product berth)")
            let r = try runProcess("/usr/bin/env", ["swift", "build", "-c", "release", "--product", "berth"])
            guard r.status == 0 else { throw BenchError("could not build berth: \(r.stderr)") }
        }
        return binary
    }

    static func manifest(replicas: Int, interval: String) -> String {
        """
        apiVersion: berth/v1
        kind: Service
        metadata:
          name: customer
        spec:
          image: shop/customer:1.0
          replicas: \(replicas)
          ports:
            - containerPort: 8080
          health:
            http: {path: /healthz, port: 8080}
            interval: \(interval)
            timeout: 1s
            failureThreshold: 3
          stopGracePeriod: 2s

        """
    }

    static func writeManifest(_ repo: URL, replicas: Int, interval: String) throws {
        try manifest(replicas: replicas, interval: interval)
            .write(to: repo.appendingPathComponent("manifests/customer.yaml"), atomically: true, encoding: .utf8)
    }

    static func makeRepo(_ repo: URL, replicas: Int, interval: String) throws {
        try FileManager.default.createDirectory(at: repo.appendingPathComponent("manifests"), withIntermediateDirectories: true)
        try git(repo, ["init", "-q"])
        try writeManifest(repo, replicas: replicas, interval: interval)
        try git(repo, ["add", "-A"])
        try git(repo, ["commit", "-qm", "bench"])
    }

    static func git(_ repo: URL, _ args: [String]) throws {
        let r = try runProcess(
            "/usr/bin/git", ["-C", repo.path, "-c", "user.name=bench", "-c", "user.email=bench@berth.invalid"] + args)
        guard r.status == 0 else { throw BenchError("git \(args.joined(separator: " ")) failed: \(r.stderr)") }
    }

    static func cleanup(project: String, docker: String) {
        _ = try? runProcess("/bin/sh", ["-c", """
            ids=$(\(docker) ps -aq --filter label=berth.project=\(project)); [ -z "$ids" ] || \(docker) rm -f $ids >/dev/null
            \(docker) network rm berth-\(project) >/dev/null 2>&1 || true
            """])
    }

    static func timed(_ body: () throws -> Void) throws -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        try body()
        return seconds(clock.now - start)
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    static func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func runProcess(_ path: String, _ args: [String]) throws -> Output {
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        let r = try ProcessRunner.run(URL(fileURLWithPath: path), args, environment: env, timeout: .seconds(3600))
        return Output(status: r.status, stdout: r.stdout, stderr: r.stderr)
    }

    /// Runs a process and timestamps each line of its standard error as it arrives; returns
    /// the total time and the lines.
    static func runTimedLines(_ path: String, _ args: [String]) throws -> (Double, [(seconds: Double, line: String)]) {
        let clock = ContinuousClock()
        let start = clock.now
        let collected = NIOLockedValueBox<[(Double, String)]>([])
        let process = try ChildProcess(
            URL(fileURLWithPath: path), args,
            stderr: .lines { line in
                let at = seconds(clock.now - start)
                collected.withLockedValue { $0.append((at, line)) }
            })
        let status = process.wait(timeout: .seconds(3600))
        let total = seconds(clock.now - start)
        let lines = collected.withLockedValue { $0 }
        guard status == 0 else {
            throw BenchError("berth apply failed: \(lines.map(\.1).joined(separator: "\n"))")
        }
        return (total, lines.map { (seconds: $0.0, line: $0.1) })
    }
}
