import BerthTestSupport
import Foundation

// `berth-bench git`: a generated repository of 10,000 commits over 500 manifest files
// (packed, with a commit-graph, no changed-path Bloom filters), and the real binaries
// timed side by side: `berth history SERVICE` vs `git log --format=%H -- FILE`, and
// `berth diff HEAD~100 HEAD` vs `git diff --stat HEAD~100 HEAD -- manifests`.
// `berth history` is measured cold (a fresh state folder each run: no history index, so
// every manifests tree is read) and warm (the index written by an earlier run). Process
// start-up (`berth --version` vs `git --version`) is printed as the floor.
// Build both products the same way, as a shipped binary is built (static Swift runtime):
//   swift build -c release --static-swift-stdlib --product berth
//   swift build -c release --static-swift-stdlib --product berth-bench
//   .build/release/berth-bench git --runs 7
// (`make bench-git` does all three.) Each run is timed with posix_spawn + wait4 (wall and
// CPU time), the tools of a comparison in interleaved rounds.
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
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
        print("  medians of \(runs) interleaved runs (min–max) and median CPU time, each a fresh process; load average \(load):")
        func report(_ name: String, _ t: Timing) {
            print(String(format: "  %@: %.1f ms (%.1f–%.1f), cpu %.1f ms", name, t.median * 1000, t.min * 1000, t.max * 1000, t.cpu * 1000))
        }
        func ratio(_ b: Timing, _ g: Timing) {
            print(String(format: "    ratio berth/git = %.2f %@", b.median / g.median, b.median <= g.median ? "(target met)" : "(SLOWER than git)"))
        }
        // Each group is timed in interleaved rounds (one run of each command per round), so
        // a change in the machine's load hits the tools of a comparison alike.
        let start = try interleaved([
            ([berth, "--version"], { env }, true), (["git", "--version"], { env }, true),
        ], in: repo, runs: runs)
        let (startB, startG) = (start[0], start[1])
        report("start-up floor: berth --version", startB)
        report("start-up floor: git --version", startG)

        // The warm run's index is written by its warm-up run.
        let history = try interleaved([
            (["git", "log", "--format=%H", "--", file], { env }, true),
            ([berth, "history", service, "--format", "json"], cold, false),
            ([berth, "history", service, "--format", "json"], { env }, true),
        ], in: repo, runs: runs)
        let (gitLog, historyCold, historyWarm) = (history[0], history[1], history[2])
        report("git log --format=%H -- \(file)", gitLog)
        report("berth history \(service), cold (no index)", historyCold)
        ratio(historyCold, gitLog)
        report("berth history \(service), warm (history index)", historyWarm)
        ratio(historyWarm, gitLog)

        let diff = try interleaved([
            (["git", "diff", "--stat", "HEAD~100", "HEAD", "--", "manifests"], { env }, true),
            ([berth, "diff", "HEAD~100", "HEAD", "--format", "json"], { env }, true),
            ([berth, "diff", "HEAD", "HEAD", "--format", "json"], { env }, true),
        ], in: repo, runs: runs)
        let (gitDiff, berthDiff, berthSame) = (diff[0], diff[1], diff[2])
        report("git diff --stat HEAD~100 HEAD -- manifests", gitDiff)
        report("berth diff HEAD~100 HEAD", berthDiff)
        ratio(berthDiff, gitDiff)
        // What no program on this libgit2 and libyaml can go below: a C program that loads
        // and initialises libgit2 (certificates deferred, as Berth does), opens the
        // repository, resolves both revisions and lists the manifests that differ — no blob
        // read, nothing parsed — plus libyaml's bare event loop over the blobs a diff of
        // desired state must parse (both sides of every changed manifest).
        report("berth diff HEAD HEAD (no blob read: start-up, open, resolve)", berthSame)
        let blobs = try changedBlobs(repo: repo, from: "HEAD~100", to: "HEAD")
        let bytes = blobs.reduce(0) { $0 + $1.count }
        var best = Double.infinity
        for _ in 0..<max(runs, 5) {
            let start = DispatchTime.now().uptimeNanoseconds
            var documents = 0
            for blob in blobs { documents += YAMLBench.rawEventLoop(blob) }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            precondition(documents == blobs.count)
        }
        print(String(format: "  libyaml's bare event loop over the %d blobs that differ (%.0f KiB, both sides): %.1f ms (best of %d)", blobs.count, Double(bytes) / 1024, best * 1000, max(runs, 5)))
        if let floor = try compileLibgit2Floor(in: root.path) {
            let t = try interleaved([([floor, "HEAD~100", "HEAD"], { env }, true)], in: repo, runs: runs)[0]
            report("C program on the same libgit2: init, open, resolve, list changed manifests (no blob read)", t)
            print(String(format: "    floor for a libgit2 + libyaml diff = %.1f + %.1f = %.1f ms = %.2f× git diff --stat", t.median * 1000, best * 1000, (t.median + best) * 1000, (t.median + best) / gitDiff.median))
        } else {
            print("  (no C compiler or libgit2 headers: the libgit2 floor is not measured)")
        }
    }

    /// Builds the floor program of the diff comparison with `cc`; nil when it cannot.
    static func compileLibgit2Floor(in directory: String) throws -> String? {
        guard let cc = ["/usr/bin/cc", "/usr/bin/gcc", "/usr/bin/clang"].first(where: FileManager.default.isExecutableFile) else { return nil }
        let source = directory + "/libgit2-floor.c", binary = directory + "/libgit2-floor"
        try """
            #include <git2.h>
            #include <stdio.h>
            /* Certificates deferred as Berth does: mbedTLS's parse of the system bundle is skipped. */
            int mbedtls_x509_crt_parse_file(void *chain, const char *path) { (void)chain; (void)path; return 0; }
            int main(int argc, char **argv) {
                git_repository *repo; git_object *a, *b; git_tree *ta, *tb; git_diff *diff;
                git_diff_options o = GIT_DIFF_OPTIONS_INIT;
                char *paths[] = {"manifests"};
                if (argc < 3) return 2;
                git_libgit2_init();
                if (git_repository_open(&repo, ".") < 0) return 1;
                if (git_revparse_single(&a, repo, argv[1]) < 0 || git_revparse_single(&b, repo, argv[2]) < 0) return 1;
                if (git_commit_tree(&ta, (git_commit *)a) < 0 || git_commit_tree(&tb, (git_commit *)b) < 0) return 1;
                o.pathspec.strings = paths; o.pathspec.count = 1;
                if (git_diff_tree_to_tree(&diff, repo, ta, tb, &o) < 0) return 1;
                printf("%zu\\n", git_diff_num_deltas(diff));
                return 0;
            }

            """.write(toFile: source, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: cc)
        p.arguments = ["-O2", source, "-o", binary, "-lgit2"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus == 0 ? binary : nil
    }

    /// Both sides' blobs of every manifest that differs between two revisions.
    static func changedBlobs(repo: String, from: String, to: String) throws -> [[UInt8]] {
        let raw = try shell(["git", "diff", "--raw", "--no-abbrev", from, to, "--", "manifests"], in: repo)
        var ids: [String] = []
        for line in raw.split(separator: "\n") {
            // :100644 100644 <old> <new> M\tpath
            let fields = line.split(separator: " ")
            guard fields.count >= 4 else { continue }
            for id in [fields[2], fields[3]] where !id.allSatisfy({ $0 == "0" }) { ids.append(String(id)) }
        }
        return try ids.map { id in Array(try shell(["git", "cat-file", "blob", id], in: repo).utf8) }
    }

    /// Writes the repository with `git fast-import`; returns the benchmarked service's name.
    static func generate(repo: String, commits: Int, files: Int) throws -> String {
        var rng = SeededRandom(seed: 42)  // SplitMix64: every run generates the same repository
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

    /// Wall-clock median, min and max, and the median CPU time (user + system, all threads:
    /// steadier than wall-clock on a loaded machine, but it counts a second thread's work).
    struct Timing { var median: Double, min: Double, max: Double, cpu: Double }

    /// Times the commands in `runs` rounds, each round running every command once in turn;
    /// those with `warmUp` run once untimed first (page cache, indexes).
    static func interleaved(_ commands: [(command: [String], env: () -> [String: String], warmUp: Bool)], in directory: String, runs: Int) throws -> [Timing] {
        for c in commands where c.warmUp { _ = try shell(c.command, in: directory, env: c.env()) }
        var wall = [[Double]](repeating: [], count: commands.count)
        var cpu = [[Double]](repeating: [], count: commands.count)
        for _ in 0..<runs {
            for (i, c) in commands.enumerated() {
                let (w, used) = spawnTimed(c.command, in: directory, env: c.env())
                wall[i].append(w)
                cpu[i].append(used)
            }
        }
        return commands.indices.map { i in
            let w = wall[i].sorted(), u = cpu[i].sorted()
            return Timing(median: w[w.count / 2], min: w.first!, max: w.last!, cpu: u[u.count / 2])
        }
    }

    /// Wall time and CPU time of one run, output to /dev/null: posix_spawn and wait4, nothing else
    /// (Foundation's `Process.waitUntilExit` polls a run loop every 50 ms on Linux, which
    /// rounds short runs up to ~50 ms).
    static func spawnTimed(_ command: [String], in directory: String, env: [String: String]) -> (wall: Double, cpu: Double) {
        let path = command[0].hasPrefix("/") ? command[0] : (["/usr/bin/", "/bin/", "/usr/local/bin/"].map { $0 + command[0] }
            .first { FileManager.default.isExecutableFile(atPath: $0) } ?? command[0])
        let previous = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(directory)
        defer { FileManager.default.changeCurrentDirectoryPath(previous) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        let argv = command.map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let start = DispatchTime.now().uptimeNanoseconds
        let rc = posix_spawn(&pid, path, &actions, nil, argv, envp)
        guard rc == 0 else { Harness.fail("cannot start \(path): error \(rc)") }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        guard status == 0 else { Harness.fail("\(command.joined(separator: " ")) exited with status \(status)") }
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return (elapsed, seconds(usage.ru_utime) + seconds(usage.ru_stime))
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
