import Foundation

// `berth-bench git`: a generated repository of 10,000 commits over 500 manifest files
// (packed, with a commit-graph, no changed-path Bloom filters), and the real binaries
// timed side by side: `berth history SERVICE` vs `git log --format=%H -- FILE`, and
// `berth diff HEAD~100 HEAD` vs `git diff --stat HEAD~100 HEAD -- manifests`.
// `berth history` is measured cold (a fresh state folder each run: no history index, so
// every manifests tree is read) and warm (the index written by an earlier run). Process
// start-up (`berth --version` vs `git --version`) is printed as the floor.
// Build both products the same way; a shipped binary would use --static-swift-stdlib:
//   swift build -c release --static-swift-stdlib --product berth
//   swift build -c release --static-swift-stdlib --product berth-bench
// Options: --commits N, --files N, --runs N, --keep (leave the repository in place).

let gitBenchmark = Benchmark(
    name: "git",
    summary: "berth history / berth diff vs git log / git diff on 10,000 commits × 500 manifests",
    run: GitBench.run)

enum GitBench {
    static func run(_ args: [String]) throws {
        func option(_ name: String, _ fallback: Int) -> Int {
            guard let i = args.firstIndex(of: name), i + 1 < args.count, let v = Int(args[i + 1]) else { return fallback }
            return v
        }
        let commits = option("--commits", 10_000), files = option("--files", 500), runs = option("--runs", 7)
        let berth = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("berth").path
        guard FileManager.default.isExecutableFile(atPath: berth) else {
            Harness.fail("no berth binary next to berth-bench (\(berth)); run `swift build -c release --product berth` first")
        }
        let root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("berth-gitbench-\(UUID().uuidString)")
        let repo = root.appendingPathComponent("repo").path
        try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true)
        defer { if !args.contains("--keep") { try? FileManager.default.removeItem(at: root) } }

        print("git benchmark: generating \(commits) commits over \(files) manifests in \(repo)")
        let started = Date()
        let service = try generate(repo: repo, commits: commits, files: files)
        print(String(format: "  generated, packed and commit-graph written in %.1f s", Date().timeIntervalSince(started)))
        let file = "manifests/\(service).yaml"
        let touching = try shell(["git", "log", "--format=%H", "--", file], in: repo).split(separator: "\n").count
        print("  service \(service) (\(file)) changed in \(touching) commits")

        var env = ["HOME": root.path, "GIT_CONFIG_NOSYSTEM": "1", "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        env["BERTH_STATE_DIR"] = root.appendingPathComponent("state").path
        var coldRun = 0
        let cold: () -> [String: String] = {
            coldRun += 1
            var e = env
            e["BERTH_STATE_DIR"] = root.appendingPathComponent("cold-\(coldRun)").path
            return e
        }
        print("  medians of \(runs) runs (min–max), each a fresh process:")
        func report(_ name: String, _ t: Timing) {
            print(String(format: "  %@: %.1f ms (%.1f–%.1f)", name, t.median * 1000, t.min * 1000, t.max * 1000))
        }
        func ratio(_ b: Timing, _ g: Timing) {
            print(String(format: "    ratio berth/git = %.2f %@", b.median / g.median, b.median <= g.median ? "(target met)" : "(SLOWER than git)"))
        }
        let startB = try time([berth, "--version"], in: repo, env: { env }, runs: runs)
        let startG = try time(["git", "--version"], in: repo, env: { env }, runs: runs)
        report("start-up floor: berth --version", startB)
        report("start-up floor: git --version", startG)

        let gitLog = try time(["git", "log", "--format=%H", "--", file], in: repo, env: { env }, runs: runs)
        let historyCold = try time([berth, "history", service, "--format", "json"], in: repo, env: cold, runs: runs, warmUp: false)
        let historyWarm = try time([berth, "history", service, "--format", "json"], in: repo, env: { env }, runs: runs)
        report("git log --format=%H -- \(file)", gitLog)
        report("berth history \(service), cold (no index)", historyCold)
        ratio(historyCold, gitLog)
        report("berth history \(service), warm (history index)", historyWarm)
        ratio(historyWarm, gitLog)

        let gitDiff = try time(["git", "diff", "--stat", "HEAD~100", "HEAD", "--", "manifests"], in: repo, env: { env }, runs: runs)
        let berthDiff = try time([berth, "diff", "HEAD~100", "HEAD", "--format", "json"], in: repo, env: { env }, runs: runs)
        report("git diff --stat HEAD~100 HEAD -- manifests", gitDiff)
        report("berth diff HEAD~100 HEAD", berthDiff)
        ratio(berthDiff, gitDiff)
        print(String(format: "    berth diff minus its start-up floor: %.1f ms", (berthDiff.median - startB.median) * 1000))
    }

    /// Writes the repository with `git fast-import`; returns the benchmarked service's name.
    static func generate(repo: String, commits: Int, files: Int) throws -> String {
        var rng = SplitMix(seed: 42)
        var stream = ""
        stream.reserveCapacity(commits * 600)
        var versions = [Int](repeating: 0, count: files)
        var replicas = [Int](repeating: 2, count: files)
        func manifest(_ i: Int) -> String {
            let name = "svc-\(String(format: "%03d", i))"
            return """
                apiVersion: berth/v1
                kind: Service
                metadata:
                  name: \(name)
                  labels: {team: team-\(i % 17)}
                spec:
                  image: shop/\(name):1.\(versions[i]).0
                  replicas: \(replicas[i])
                  env:
                    LOG_LEVEL: info
                    UPSTREAM: "http://svc-\(String(format: "%03d", (i + 1) % files)):8080"
                  ports:
                    - containerPort: 8080
                  health:
                    http: {path: /healthz, port: 8080}
                    interval: 2s
                  update:
                    strategy: rolling
                    maxSurge: 1

                """
        }
        func data(_ text: String) -> String { "data \(text.utf8.count)\n\(text)\n" }
        var time = 1_700_000_000
        for c in 0..<commits {
            time += 600
            stream += "commit refs/heads/main\ncommitter Bench <bench@example.com> \(time) +0100\n"
            if c == 0 {
                stream += data("initial manifests")
                for i in 0..<files { stream += "M 100644 inline manifests/svc-\(String(format: "%03d", i)).yaml\n" + data(manifest(i)) }
            } else if c % 50 == 0 {
                stream += data("docs \(c)")
                stream += "M 100644 inline README.md\n" + data("revision \(c)\n")
            } else {
                let i = Int(rng.next() % UInt64(files))
                if rng.next() % 2 == 0 { versions[i] += 1 } else { replicas[i] = 1 + Int(rng.next() % 5) }
                let name = "svc-\(String(format: "%03d", i))"
                stream += data("change \(name) (\(c))")
                stream += "M 100644 inline manifests/\(name).yaml\n" + data(manifest(i))
            }
            stream += "\n"
        }
        _ = try shell(["git", "init", "-q", "-b", "main"], in: repo)
        _ = try shell(["git", "fast-import", "--quiet"], in: repo, input: Data(stream.utf8))
        _ = try shell(["git", "gc", "-q"], in: repo)
        _ = try shell(["git", "commit-graph", "write", "--reachable"], in: repo)
        return "svc-042"
    }

    struct Timing { var median: Double, min: Double, max: Double }

    static func time(_ command: [String], in directory: String, env: () -> [String: String], runs: Int, warmUp: Bool = true) throws -> Timing {
        if warmUp { _ = try shell(command, in: directory, env: env()) }  // page cache, indexes
        var samples: [Double] = []
        for _ in 0..<runs {
            let environment = env()
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try shell(command, in: directory, env: environment)
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        samples.sort()
        return Timing(median: samples[samples.count / 2], min: samples.first!, max: samples.last!)
    }

    @discardableResult
    static func shell(_ command: [String], in directory: String, env: [String: String]? = nil, input: Data? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0].hasPrefix("/") ? command[0] : "/usr/bin/env")
        process.arguments = command[0].hasPrefix("/") ? Array(command.dropFirst()) : command
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        if let env { process.environment = env }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.standardError
        let stdin = Pipe()
        process.standardInput = stdin
        try process.run()
        let writer = stdin.fileHandleForWriting
        if let input {
            Thread.detachNewThread {
                try? writer.write(contentsOf: input)
                try? writer.close()
            }
        } else {
            try writer.close()
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { Harness.fail("\(command.joined(separator: " ")) exited \(process.terminationStatus)") }
        return String(decoding: data, as: UTF8.self)
    }
}

/// A small deterministic PRNG (SplitMix64), so every run generates the same repository.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
