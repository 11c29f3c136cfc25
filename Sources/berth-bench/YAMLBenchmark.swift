import BerthTestSupport
import CYAML
import Foundation

/// `berth-bench yaml`: `berth validate` as a process (the shipped binary next to this one)
/// against a C program that reads the same files and pulls the same libyaml events (the
/// limit for anything built on libyaml), on four generated corpora: 5,000 service manifests
/// in 5,000 files and one ~50 MiB multi-document file, each written plainly and using
/// anchors, aliases and merge keys the way a real repository shares settings. Both are
/// timed with posix_spawn + wait4 in interleaved rounds; peak memory is the child's
/// `ru_maxrss`. Targets (issue 15): berth ≥ 0.6 of raw throughput, peak ≤ 4× the input.
///
/// Build both products as shipped (`make bench` does):
///   swift build -c release --static-swift-stdlib --product berth
///   swift build -c release --static-swift-stdlib --product berth-bench
///   .build/release/berth-bench yaml [--rounds N] [--keep] [--files N] [--mib N]
let yamlBenchmark = Benchmark(
    name: "yaml",
    summary: "berth validate (process) vs a C libyaml event loop on 4 corpora",
    run: YAMLBench.run)

enum YAMLBench {
    struct Corpus {
        var title: String
        var path: String
        var bytes: Int
        var documents: Int
    }

    static func run(_ args: [String]) throws {
        func option(_ name: String, _ fallback: Int) -> Int {
            guard let i = args.firstIndex(of: name), i + 1 < args.count, let v = Int(args[i + 1]) else { return fallback }
            return v
        }
        let rounds = option("--rounds", 5), fileCount = option("--files", 5_000), bigBytes = option("--mib", 50) * 1_048_576
        let keep = args.contains("--keep")
        let berth = Harness.sibling("berth")
        let root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("berth-bench-yaml-\(getpid())")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { if !keep { try? FileManager.default.removeItem(at: root) } }

        guard let raw = try compileRawLoop(in: root.path) else {
            Harness.fail("no C compiler or libyaml headers: cannot build the raw libyaml program")
        }
        var corpora: [Corpus] = []
        for anchors in [false, true] {
            let style = anchors ? "anchors, aliases, merge keys" : "plain"
            let dir = root.appendingPathComponent(anchors ? "files-anchors" : "files-plain")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            var generator = Generator(seed: 0x00B3_2714, anchors: anchors)
            var bytes = 0
            for i in 0..<fileCount {
                let text = Array(generator.service(index: i).utf8)
                bytes += text.count
                try Data(text).write(to: dir.appendingPathComponent(String(format: "svc-%05d.yaml", i)))
            }
            corpora.append(Corpus(title: "\(fileCount) files, \(style)", path: dir.path, bytes: bytes, documents: fileCount))
        }
        for anchors in [false, true] {
            let style = anchors ? "anchors, aliases, merge keys" : "plain"
            var generator = Generator(seed: 0x00B3_2714, anchors: anchors)
            var big: [UInt8] = []
            big.reserveCapacity(bigBytes + 4096)
            var documents = 0
            while big.count < bigBytes {
                if documents > 0 { big.append(contentsOf: "---\n".utf8) }
                big.append(contentsOf: generator.service(index: documents).utf8)
                documents += 1
            }
            let file = root.appendingPathComponent(anchors ? "big-anchors.yaml" : "big-plain.yaml")
            try Data(big).write(to: file)
            corpora.append(Corpus(title: "one file, \(style)", path: file.path, bytes: big.count, documents: documents))
        }

        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
        print("berth-bench yaml: `berth validate PATH` vs a C program pulling the same libyaml events from the same files")
        print("  processes timed with posix_spawn + wait4, median of \(rounds) interleaved rounds (after one warm-up each); load average \(load)")
        print("  corpus in \(root.path)\(keep ? " (kept)" : " (removed afterwards)")")
        let env = ["PATH": "/usr/bin:/bin", "HOME": root.path, "NO_COLOR": "1"]
        let startUp = Harness.spawnTimed([berth, "--version"], in: root.path, env: env)
        print(String(format: "  berth --version: peak RSS %.1f MiB (the process's own floor)", Double(startUp.maxRSSKiB) / 1024))
        print("")
        print(
            Harness.pad("corpus", 38, left: true) + Harness.pad("MiB", 7) + Harness.pad("raw ms", 9) + Harness.pad("berth ms", 10)
                + Harness.pad("MiB/s", 8) + Harness.pad("vs raw", 8) + Harness.pad("target", 8)
                + Harness.pad("raw RSS", 10) + Harness.pad("berth RSS", 11) + Harness.pad("/input", 8) + Harness.pad("target", 8)
                + Harness.pad("raw cpu", 9) + Harness.pad("berth cpu", 11) + Harness.pad("cpu vs raw", 12))
        for corpus in corpora {
            let times = Harness.interleaved(
                [[raw, corpus.path], [berth, "validate", corpus.path]], in: root.path, env: env, runs: rounds)
            let (r, b) = (times[0], times[1])
            let mib = Double(corpus.bytes) / 1_048_576
            let ratio = r.median / b.median
            let peak = Double(b.maxRSSKiB) / 1024
            print(
                Harness.pad(corpus.title, 38, left: true) + Harness.pad(Harness.fmt(mib), 7)
                    + Harness.pad(Harness.fmt(r.median * 1000), 9) + Harness.pad(Harness.fmt(b.median * 1000), 10)
                    + Harness.pad(Harness.fmt(mib / b.median), 8) + Harness.pad(Harness.fmt(ratio, 2) + "×", 8)
                    + Harness.pad(ratio >= 0.6 ? "met" : "MISSED", 8)
                    + Harness.pad(Harness.fmt(Double(r.maxRSSKiB) / 1024) + " MiB", 10)
                    + Harness.pad(Harness.fmt(peak) + " MiB", 11) + Harness.pad(Harness.fmt(peak / mib, 2) + "×", 8)
                    + Harness.pad(peak / mib <= 4 ? "met" : "MISSED", 8)
                    + Harness.pad(Harness.fmt(r.cpu * 1000), 9) + Harness.pad(Harness.fmt(b.cpu * 1000), 11)
                    + Harness.pad(Harness.fmt(r.cpu / b.cpu, 2) + "×", 12))
        }
        print("  (vs raw = raw time / berth time, i.e. berth's throughput as a fraction of the C loop's;")
        print("   RSS = the process's peak resident memory, ru_maxrss; /input = berth's peak over the corpus size;")
        print("   cpu = median user + system time in ms; on a loaded machine wall time mostly measures the wait")
        print("   for a core, and cpu vs raw = raw cpu / berth cpu is the steadier figure)")
    }

    /// The baseline program, built with `cc`: for each path, a file or a folder walked
    /// recursively (hidden entries skipped, `*.yaml` and `*.yml`), every file read whole
    /// and run through libyaml's event loop, each event deleted at once, nothing built.
    static func compileRawLoop(in directory: String) throws -> String? {
        try Harness.compileC(
            name: "yaml-raw", in: directory, flags: ["-lyaml"],
            source: """
                #include <yaml.h>
                #include <dirent.h>
                #include <fcntl.h>
                #include <stdio.h>
                #include <stdlib.h>
                #include <string.h>
                #include <sys/stat.h>
                #include <unistd.h>
                static long documents, events;
                static void parse(const char *path) {
                    int fd = open(path, O_RDONLY); struct stat st;
                    if (fd < 0 || fstat(fd, &st) < 0) { perror(path); exit(1); }
                    unsigned char *buf = malloc(st.st_size + 1); size_t done = 0;
                    while (done < (size_t)st.st_size) { ssize_t n = read(fd, buf + done, st.st_size - done); if (n <= 0) break; done += n; }
                    close(fd);
                    yaml_parser_t p; yaml_event_t e;
                    yaml_parser_initialize(&p); yaml_parser_set_input_string(&p, buf, done);
                    for (;;) {
                        if (!yaml_parser_parse(&p, &e)) { fprintf(stderr, "%s: libyaml error\\n", path); exit(1); }
                        yaml_event_type_t t = e.type; yaml_event_delete(&e); events++;
                        if (t == YAML_DOCUMENT_END_EVENT) documents++;
                        if (t == YAML_STREAM_END_EVENT) break;
                    }
                    yaml_parser_delete(&p); free(buf);
                }
                static int manifest(const char *name) {
                    size_t n = strlen(name);
                    return (n > 5 && !strcmp(name + n - 5, ".yaml")) || (n > 4 && !strcmp(name + n - 4, ".yml"));
                }
                static void walk(const char *path) {
                    DIR *d = opendir(path);
                    if (!d) { parse(path); return; }
                    struct dirent *ent; char child[4096];
                    while ((ent = readdir(d))) {
                        if (ent->d_name[0] == '.') continue;
                        snprintf(child, sizeof child, "%s/%s", path, ent->d_name);
                        if (ent->d_type == DT_DIR) walk(child); else if (manifest(ent->d_name)) parse(child);
                    }
                    closedir(d);
                }
                int main(int argc, char **argv) {
                    for (int i = 1; i < argc; i++) walk(argv[i]);
                    printf("%ld documents, %ld events\\n", documents, events);
                    return 0;
                }

                """)
    }

    /// The baseline in-process: libyaml's events over `bytes`, each deleted at once (the
    /// git benchmark's floor for parsing the blobs of a diff).
    static func rawEventLoop(_ bytes: [UInt8]) -> Int {
        var documents = 0
        bytes.withUnsafeBufferPointer { input in
            let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
            defer { parser.deallocate() }
            guard yaml_parser_initialize(parser) == 1 else { return }
            defer { yaml_parser_delete(parser) }
            yaml_parser_set_input_string(parser, input.baseAddress, input.count)
            let event = UnsafeMutablePointer<yaml_event_t>.allocate(capacity: 1)
            defer { event.deallocate() }
            while yaml_parser_parse(parser, event) == 1 {
                let type = event.pointee.type
                yaml_event_delete(event)
                if type == YAML_DOCUMENT_END_EVENT { documents += 1 }
                if type == YAML_STREAM_END_EVENT { break }
            }
        }
        return documents
    }
}

/// Realistic `berth/v1` Services, deterministic (SplitMix64). With `anchors`, each document
/// shares settings the way real repositories do: anchored values reused by alias, and
/// defaults merged in with `<<` (anchors reach within one document only).
struct Generator {
    var rng: SeededRandom
    var anchors: Bool
    var published = 0
    init(seed: UInt64, anchors: Bool = false) {
        rng = SeededRandom(seed: seed)
        self.anchors = anchors
    }

    mutating func int(_ n: Int) -> Int { rng.below(n) }
    mutating func pick<T>(_ xs: [T]) -> T { xs[int(xs.count)] }

    static let words = [
        "booking", "customer", "payment", "search", "catalog", "inventory", "shipping", "auth",
        "profile", "ledger", "invoice", "notify", "gateway", "report", "pricing", "review",
    ]
    static let teams = ["travel", "money", "platform", "growth", "core", "data"]

    mutating func service(index i: Int) -> String {
        let name = "\(Generator.words[i % Generator.words.count])-\(i)"
        let team = pick(Generator.teams)
        let port = pick([8080, 8000, 9090, 3000])
        let a = anchors
        var s = "# \(name): owned by \(team)\n"
        s += "apiVersion: berth/v1\nkind: Service\nmetadata:\n  name: \(name)\n"
        s += "  labels: \(a ? "&labels " : ""){team: \(team), tier: \(pick(["web", "api", "worker"]))}\n"
        s += "spec:\n  image: registry.local/\(team)/\(Generator.words[i % Generator.words.count]):\(int(4)).\(int(20)).\(int(10))\n"
        s += "  replicas: \(int(6))\n"
        if int(2) == 0 {
            s += "  command: [\"/bin/httpd\", \"-f\", \"-p\", \"\(port)\", \"-h\", \"/www\"]\n"
        }
        s += "  env:\n"
        if a { s += "    <<: &common {LOG_LEVEL: \(pick(["info", "debug", "warn"])), REGION: eu-west-1, TRACING: \"off\"}\n" }
        else { s += "    LOG_LEVEL: \(pick(["info", "debug", "warn"]))\n    REGION: eu-west-1\n    TRACING: \"off\"\n" }
        s += "    PORT: \"\(port)\"\n"
        for k in 0..<(2 + int(5)) {
            switch k % 3 {
            case 0: s += "    UPSTREAM_\(k)_URL: \"http://\(pick(Generator.words))-\(int(max(1, i + 1))):8080/v\(int(3))\"\n"
            case 1: s += "    FEATURE_\(k): \(pick(["\"on\"", "\"off\"", "'true'", "\"42\""]))\n"
            default: s += "    DESCRIPTION_\(k): \"service \(name) — \(pick(Generator.teams)) edition, №\(k)\"\n"
            }
        }
        s += "  ports:\n    - containerPort: \(a ? "&cport " : "")\(port)\n"
        // Host ports are unique across the corpus (10000 + one per publishing service: about
        // 20,000 of 60,000 services publish one, so they stay below 65536), and dependsOn
        // names an earlier service: the corpus is valid, checks across files included.
        if int(3) == 0 {
            s += "      publish: \(10_000 + published)\n"
            published += 1
        }
        if i > 0, int(2) == 0 {
            let j = int(i)
            s += "  dependsOn: [\(Generator.words[j % Generator.words.count])-\(j)]\n"
        }
        s += "  health:\n"
        if a { s += "    <<: &timing {interval: \(pick(["2s", "5s", "500ms"])), timeout: 1s, startPeriod: 0s, failureThreshold: 3}\n" }
        switch int(3) {
        case 0: s += "    http: {path: /healthz, port: \(a ? "*cport" : "\(port)")}\n"
        case 1: s += "    tcp: {port: \(a ? "*cport" : "\(port)")}\n"
        default: s += "    exec: {command: [\"/bin/sh\", \"-c\", \"test -f /tmp/ready\"]}\n"
        }
        if !a { s += "    interval: \(pick(["2s", "5s", "500ms"]))\n    timeout: 1s\n    startPeriod: 0s\n    failureThreshold: 3\n" }
        let strategy = pick(["rolling", "rolling", "recreate"])
        let surge = pick(["1", "\"25%\"", "2"])
        let onFailure = pick(["rollback", "pause"])
        if a {
            s += "  update:\n    <<: [&rolling {strategy: \(strategy), maxSurge: \(surge), maxUnavailable: 0}, {progressDeadline: 120s, onFailure: \(onFailure)}]\n"
        } else {
            s += "  update:\n    strategy: \(strategy)\n"
            s += "    maxSurge: \(surge)\n    maxUnavailable: 0\n"
            s += "    progressDeadline: 120s\n    onFailure: \(onFailure)\n"
        }
        s += "  stopGracePeriod: \(a ? "&grace " : "")10s\n  restart: \(pick(["always", "on-failure"]))\n"
        s += "  resources: {cpus: \(pick(["0.5", "1", "0.25"])), memory: \(pick(["256Mi", "1Gi", "512M"]))}\n"
        if int(4) == 0 {
            s += "  autoscale: {min: 2, max: 10, targetRequestsPerSecond: 50, scaleDownDelay: \(a ? "*grace" : "60s")}\n"
        }
        return s
    }
}
