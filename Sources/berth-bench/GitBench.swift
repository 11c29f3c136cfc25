import BerthTestSupport
import Foundation

// `berth-bench git`: a generated repository of 10,000 commits over 500 manifest files
// (packed, with a commit-graph, no changed-path Bloom filters), and the real binaries
// timed side by side (targets of issues 3 and 15):
// - start-up: `berth --version` vs `git --version` (target: berth ≤ 5 ms);
// - `berth history SERVICE` vs `git log --format=%H -- FILE`, cold (a fresh state folder:
//   no history index, every manifests tree read) and warm (the index of an earlier run);
// - `berth diff HEAD~100 HEAD` vs `git diff --stat HEAD~100 HEAD -- manifests` (≤ 2×);
// - `berth validate --rev HEAD` vs `git cat-file --batch` reading the same 500 blobs by
//   `HEAD:manifests/FILE` (≤ 2×).
// Where a target cannot be met on Debian's libgit2 and libyaml, the floor is measured in
// the same run: C programs on the same libgit2 doing only what any implementation must
// (initialise, open, resolve, list; read the blobs) plus libyaml's bare event loop.
// Build both products the same way, as a shipped binary is built (static Swift runtime):
//   swift build -c release --static-swift-stdlib --product berth
//   swift build -c release --static-swift-stdlib --product berth-bench
//   .build/release/berth-bench git --runs 7
// (`make bench-git` does all three.) Each run is timed with posix_spawn + wait4 (wall and
// CPU time), the tools of a comparison in interleaved rounds.
// Options: --commits N, --files N, --runs N, --keep (leave the repository in place).

let gitBenchmark = Benchmark(
    name: "git",
    summary: "berth start-up, history, diff, validate --rev vs git on 10,000 commits × 500 manifests",
    run: GitBench.run)

enum GitBench {
    typealias Timing = Harness.Timing

    static func run(_ args: [String]) throws {
        func option(_ name: String, _ fallback: Int) -> Int {
            guard let i = args.firstIndex(of: name), i + 1 < args.count, let v = Int(args[i + 1]) else { return fallback }
            return v
        }
        let commits = option("--commits", 10_000), files = option("--files", 500), runs = option("--runs", 7)
        let berth = Harness.sibling("berth")
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
        env["BERTH_CACHE_DIR"] = root.appendingPathComponent("state").path
        var coldRun = 0
        let base = env
        let cold: () -> [String: String] = {
            coldRun += 1
            var e = base
            e["BERTH_CACHE_DIR"] = root.appendingPathComponent("cold-\(coldRun)").path
            return e
        }
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
        print("  medians of \(runs) interleaved runs (min–max) and median CPU time, each a fresh process; load average \(load):")
        func report(_ name: String, _ t: Timing) {
            print(String(format: "  %@: %.1f ms (%.1f–%.1f), cpu %.1f ms", name, t.median * 1000, t.min * 1000, t.max * 1000, t.cpu * 1000))
        }
        func ratio(_ b: Timing, _ g: Timing, target: Double) {
            let r = b.median / g.median
            print(String(format: "    ratio berth/git = %.2f (target ≤ %.1f: %@)", r, target, r <= target ? "met" : "MISSED"))
        }
        let floors = try Floors(in: root.path)
        // Each group is timed in interleaved rounds (one run of each command per round), so
        // a change in the machine's load hits the tools of a comparison alike.
        var startCommands = [Harness.Command([berth, "--version"], env: env), Harness.Command(["git", "--version"], env: env)]
        if let hello = floors.hello {
            startCommands.append(Harness.Command([hello], env: env))
            if let linked = floors.linked { startCommands.append(Harness.Command([linked], env: env)) }
        }
        let start = Harness.interleaved(startCommands, in: repo, runs: runs)
        report("berth --version", start[0])
        report("git --version", start[1])
        print(String(format: "    berth start-up %.1f ms (target ≤ 5 ms: %@)", start[0].median * 1000, start[0].median <= 0.005 ? "met" : "MISSED"))
        if start.count > 2 { report("floor: a C program that prints one line (process creation and exit)", start[2]) }
        if start.count > 3 {
            report("floor: the same C program linked with berth's shared libraries (libgit2 and what it loads, libyaml, sqlite, libstdc++)", start[3])
            print(String(format: "    libraries floor %.1f ms (cpu %.1f ms); berth = floor + %.1f ms (cpu + %.1f ms)",
                start[3].median * 1000, start[3].cpu * 1000, (start[0].median - start[3].median) * 1000, (start[0].cpu - start[3].cpu) * 1000))
        }

        // The warm run's index is written by its warm-up run.
        let history = Harness.interleaved([
            Harness.Command(["git", "log", "--format=%H", "--", file], env: env),
            Harness.Command([berth, "history", service, "--format", "json"], env: cold(), warmUp: false),
            Harness.Command([berth, "history", service, "--format", "json"], env: env),
        ], in: repo, runs: runs)
        let (gitLog, historyCold, historyWarm) = (history[0], history[1], history[2])
        report("git log --format=%H -- \(file)", gitLog)
        report("berth history \(service), cold (no index)", historyCold)
        ratio(historyCold, gitLog, target: 1)
        report("berth history \(service), warm (history index)", historyWarm)
        ratio(historyWarm, gitLog, target: 1)

        var diffCommands = [
            Harness.Command(["git", "diff", "--stat", "HEAD~100", "HEAD", "--", "manifests"], env: env),
            Harness.Command([berth, "diff", "HEAD~100", "HEAD", "--format", "json"], env: env),
        ]
        if let floor = floors.diff { diffCommands.append(Harness.Command([floor, "HEAD~100", "HEAD"], env: env)) }
        let diff = Harness.interleaved(diffCommands, in: repo, runs: runs)
        report("git diff --stat HEAD~100 HEAD -- manifests", diff[0])
        report("berth diff HEAD~100 HEAD", diff[1])
        ratio(diff[1], diff[0], target: 2)
        if diff.count > 2 {
            report("floor: C on the same libgit2 + libyaml: open, resolve, diff the trees, parse both sides of each changed manifest", diff[2])
            print(String(format: "    floor = %.2f× git; berth = %.2f× the floor", diff[2].median / diff[0].median, diff[1].median / diff[2].median))
        }

        // `git cat-file --batch` reads the same blobs by revision and path (resolving HEAD
        // and walking the tree each time: what `ls-tree | cat-file --batch` does, in one process).
        let names = try shell(["git", "ls-tree", "--name-only", "HEAD", "manifests/"], in: repo).split(separator: "\n")
        let batch = root.appendingPathComponent("cat-file-input").path
        try names.map { "HEAD:\($0)\n" }.joined().write(toFile: batch, atomically: true, encoding: .utf8)
        var validateCommands = [
            Harness.Command(["git", "cat-file", "--batch"], env: env, stdin: batch),
            Harness.Command([berth, "validate", "--rev", "HEAD"], env: env),
        ]
        if let floor = floors.read { validateCommands.append(Harness.Command([floor, "HEAD", "manifests"], env: env)) }
        let validate = Harness.interleaved(validateCommands, in: repo, runs: runs)
        report("git cat-file --batch (\(names.count) × HEAD:manifests/FILE)", validate[0])
        report("berth validate --rev HEAD", validate[1])
        ratio(validate[1], validate[0], target: 2)
        if validate.count > 2 {
            report("floor: C on the same libgit2 + libyaml: open, resolve, list, read and parse every manifest", validate[2])
            print(String(format: "    floor = %.2f× git; berth = %.2f× the floor", validate[2].median / validate[0].median, validate[1].median / validate[2].median))
        }
    }

    /// The C programs that give the floors, built with `cc` on the machine's libgit2 and
    /// libyaml (nil where they cannot be built). libgit2 loads the system's certificate
    /// bundle at initialisation unless told otherwise; they skip it as Berth does.
    struct Floors {
        var hello: String?
        /// `hello` linked with the shared libraries berth needs (as berth is: loaded and
        /// relocated at start, none of them called): what any program on Debian's libgit2
        /// pays before its `main`.
        var linked: String?
        var diff: String?
        var read: String?

        init(in directory: String) throws {
            hello = try Harness.compileC(name: "hello", in: directory, flags: [], source: "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n")
            linked = try Harness.compileC(
                name: "hello-linked", in: directory, flags: ["-Wl,--no-as-needed", "-lgit2", "-lyaml", "-lsqlite3", "-lstdc++", "-lm"],
                source: "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n")
            let common = """
                #include <git2.h>
                #include <yaml.h>
                #include <stdio.h>
                #include <string.h>
                /* Certificates deferred as Berth does: mbedTLS's parse of the system bundle is skipped. */
                int mbedtls_x509_crt_parse_file(void *chain, const char *path) { (void)chain; (void)path; return 0; }
                static long documents;
                static void parse(const void *bytes, size_t size) {
                    yaml_parser_t p; yaml_event_t e;
                    yaml_parser_initialize(&p); yaml_parser_set_input_string(&p, bytes, size);
                    for (;;) {
                        if (!yaml_parser_parse(&p, &e)) break;
                        yaml_event_type_t t = e.type; yaml_event_delete(&e);
                        if (t == YAML_DOCUMENT_END_EVENT) documents++;
                        if (t == YAML_STREAM_END_EVENT) break;
                    }
                    yaml_parser_delete(&p);
                }
                static void parse_blob(git_repository *repo, const git_oid *id) {
                    git_blob *blob;
                    if (git_oid_is_zero(id) || git_blob_lookup(&blob, repo, id) < 0) return;
                    parse(git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
                    git_blob_free(blob);
                }

                """
            diff = try Harness.compileC(name: "floor-diff", in: directory, flags: ["-lgit2", "-lyaml"], source: common + """
                static int each(const git_diff_delta *d, float progress, void *repo) {
                    (void)progress; parse_blob(repo, &d->old_file.id); parse_blob(repo, &d->new_file.id); return 0;
                }
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
                    git_diff_foreach(diff, each, NULL, NULL, NULL, repo);
                    printf("%zu changed, %ld documents\\n", git_diff_num_deltas(diff), documents);
                    return 0;
                }

                """)
            read = try Harness.compileC(name: "floor-read", in: directory, flags: ["-lgit2", "-lyaml"], source: common + """
                static int each(const char *root, const git_tree_entry *entry, void *repo) {
                    (void)root;
                    if (git_tree_entry_type(entry) == GIT_OBJECT_BLOB) parse_blob(repo, git_tree_entry_id(entry));
                    return 0;
                }
                int main(int argc, char **argv) {
                    git_repository *repo; git_object *commit; git_tree *tree, *sub; git_tree_entry *folder;
                    if (argc < 3) return 2;
                    git_libgit2_init();
                    if (git_repository_open(&repo, ".") < 0) return 1;
                    if (git_revparse_single(&commit, repo, argv[1]) < 0) return 1;
                    if (git_commit_tree(&tree, (git_commit *)commit) < 0) return 1;
                    if (git_tree_entry_bypath(&folder, tree, argv[2]) < 0) return 1;
                    if (git_tree_lookup(&sub, repo, git_tree_entry_id(folder)) < 0) return 1;
                    git_tree_walk(sub, GIT_TREEWALK_PRE, each, repo);
                    printf("%ld documents\\n", documents);
                    return 0;
                }

                """)
        }
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

    @discardableResult
    static func shell(_ command: [String], in directory: String, env: [String: String]? = nil, input: Data? = nil) throws -> String {
        let absolute = command[0].hasPrefix("/")
        let result = try ProcessRunner.runRaw(
            URL(fileURLWithPath: absolute ? command[0] : "/usr/bin/env"), absolute ? Array(command.dropFirst()) : command,
            in: URL(fileURLWithPath: directory), environment: env, stdin: input, timeout: .seconds(3600))
        FileHandle.standardError.write(result.stderr)
        guard result.status == 0 else { Harness.fail("\(command.joined(separator: " ")) exited \(result.status)") }
        return String(decoding: result.stdout, as: UTF8.self)
    }
}
