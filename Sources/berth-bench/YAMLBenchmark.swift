import BerthTestSupport
import BerthCore
import BerthYAML
import CYAML
import Foundation

/// `berth-bench yaml`: parsing throughput and peak memory over two generated corpora —
/// 5,000 service manifests in 5,000 files, and one ~50 MiB multi-document file — for
/// (a) a plain libyaml event loop (the baseline), (b) BerthYAML node trees, and
/// (c) the full manifest load (`ManifestLoader.load`: every file parsed, decoded and checked,
/// then the checks across files — duplicate names, `dependsOn`, cycles, host ports). Each
/// phase runs in its own child
/// process so its VmHWM is its own.
let yamlBenchmark = Benchmark(
    name: "yaml",
    summary: "YAML parsing: raw libyaml vs BerthYAML trees vs ManifestLoader.load",
    run: YAMLBench.run,
    phases: [
        "raw": { try YAMLBench.phase(.raw, $0) },
        "tree": { try YAMLBench.phase(.tree, $0) },
        "manifest": { try YAMLBench.phase(.manifest, $0) },
    ])

enum YAMLBench {
    enum Phase: String, CaseIterable {
        case raw, tree, manifest
        var title: String {
            switch self {
            case .raw: "(a) libyaml event loop (baseline)"
            case .tree: "(b) BerthYAML node trees"
            case .manifest: "(c) ManifestLoader.load (full)"
            }
        }
    }

    static let serviceCount = 5_000
    static let bigFileBytes = 50 * 1_048_576

    static func run(_ args: [String]) throws {
        let root = FileManager.default.temporaryDirectory
            .appendingPathComponent("berth-bench-yaml-\(getpid())", isDirectory: true)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        // `--keep` leaves the corpus for profiling a phase by hand:
        // `perf record berth-bench --phase yaml.tree big DIR/all-services.yaml`.
        let keep = args.contains("--keep")
        // `--rounds N` (default 3): interleaved rounds of all phases; each phase keeps its best.
        let rounds = args.firstIndex(of: "--rounds").flatMap { args.indices.contains($0 + 1) ? Int(args[$0 + 1]) : nil } ?? 3
        defer { if !keep { try? FileManager.default.removeItem(at: root) } }
        let filesDir = root.appendingPathComponent("manifests", isDirectory: true)
        try FileManager.default.createDirectory(at: filesDir, withIntermediateDirectories: true)

        var generator = Generator(seed: 0x00B3_2714)
        var fileBytes = 0
        for i in 0..<serviceCount {
            let text = generator.service(index: i)
            fileBytes += text.utf8.count
            try Data(text.utf8).write(to: filesDir.appendingPathComponent(String(format: "svc-%05d.yaml", i)))
        }
        var big: [UInt8] = []
        big.reserveCapacity(bigFileBytes + 4096)
        var bigDocs = 0
        while big.count < bigFileBytes {
            if bigDocs > 0 { big.append(contentsOf: "---\n".utf8) }
            big.append(contentsOf: generator.service(index: bigDocs).utf8)
            bigDocs += 1
        }
        let bigFile = root.appendingPathComponent("all-services.yaml")
        try Data(big).write(to: bigFile)
        big = []

        print("berth-bench yaml — each phase in its own process: one warm-up pass, then the median of 5 (files) or 3 (one file) timed passes; best of \(rounds) interleaved rounds")
        print("corpus written to \(root.path)\(keep ? " (kept)" : " (removed afterwards)")")
        report(
            title: "\(serviceCount) files, \(mib(fileBytes)) MiB, \(serviceCount) documents",
            mode: "files", path: filesDir.path, inputBytes: fileBytes, rounds: rounds)
        report(
            title: "one file, \(mib(bigFileBytes)) MiB, \(bigDocs) documents",
            mode: "big", path: bigFile.path, inputBytes: bigFileBytes, rounds: rounds)
    }

    static func report(title: String, mode: String, path: String, inputBytes: Int, rounds: Int) {
        print("")
        print("corpus: \(title)")
        print(
            Harness.pad("phase", 36, left: true) + Harness.pad("MiB/s", 8) + Harness.pad("docs/s", 10)
                + Harness.pad("vs (a)", 8) + Harness.pad("peak RSS", 11) + Harness.pad("peak/input", 12)
                + Harness.pad("Δpeak/input", 13))
        // Phases run interleaved for `rounds` rounds (a b c a b c …) and each keeps its best
        // round, so a burst of load from other processes skews no single phase.
        var best: [Phase: PhaseResult] = [:]
        var failure: [Phase: String] = [:]
        for _ in 0..<rounds {
            for phase in Phase.allCases where failure[phase] == nil {
                let outcome: (result: PhaseResult?, why: String)
                do {
                    outcome = try Harness.runPhase("yaml.\(phase.rawValue)", [mode, path])
                } catch {
                    outcome = (nil, "\(error)")
                }
                guard let r = outcome.result else {
                    failure[phase] = outcome.why
                    continue
                }
                if let old = best[phase], old.seconds <= r.seconds {
                    best[phase]!.peakKiB = max(old.peakKiB, r.peakKiB)
                } else {
                    var r = r
                    r.peakKiB = max(r.peakKiB, best[phase]?.peakKiB ?? 0)
                    best[phase] = r
                }
            }
        }
        let baseline = best[.raw]?.mibPerSecond
        for phase in Phase.allCases {
            guard let r = best[phase] else {
                var note = "unavailable: the phase \(failure[phase] ?? "did not run")"
                if phase == .manifest { note += " (is ManifestLoader.load implemented in this build?)" }
                print(Harness.pad(phase.title, 36, left: true) + "  " + note)
                continue
            }
            let ratio = baseline.map { Harness.fmt(r.mibPerSecond / $0, 2) + "×" } ?? "-"
            let peakMiB = Double(r.peakKiB) / 1024
            let inputMiB = Double(inputBytes) / 1_048_576
            print(
                Harness.pad(phase.title, 36, left: true)
                    + Harness.pad(Harness.fmt(r.mibPerSecond), 8)
                    + Harness.pad(Harness.fmt(r.documentsPerSecond, 0), 10)
                    + Harness.pad(ratio, 8)
                    + Harness.pad(Harness.fmt(peakMiB) + " MiB", 11)
                    + Harness.pad(Harness.fmt(peakMiB / inputMiB, 2) + "×", 12)
                    + Harness.pad(Harness.fmt(Double(r.peakKiB - r.startKiB) / 1024 / inputMiB, 2) + "×", 13))
        }
        print("  (peak RSS = the child's VmHWM; Δpeak = VmHWM minus VmRSS before it read its input)")
    }

    static func mib(_ bytes: Int) -> String { Harness.fmt(Double(bytes) / 1_048_576) }

    // MARK: - Phases (in the child process)

    /// `--phase yaml.PHASE files|big PATH`
    static func phase(_ phase: Phase, _ args: [String]) throws -> PhaseResult {
        guard args.count == 2 else { Harness.fail("usage: --phase yaml.\(phase.rawValue) files|big PATH") }
        let inputs: [ManifestFile]
        if args[0] == "files" {
            let names = try FileManager.default.contentsOfDirectory(atPath: args[1]).sorted()
            inputs = try names.map { name in
                ManifestFile(path: "manifests/\(name)", bytes: try readFile(args[1] + "/" + name))
            }
        } else {
            inputs = [ManifestFile(path: "all-services.yaml", bytes: try readFile(args[1]))]
        }
        let bytes = inputs.reduce(0) { $0 + $1.bytes.count }
        let passes = args[0] == "files" ? 5 : 3
        var documents = 0
        var problems = 0
        let seconds: Double
        switch phase {
        case .raw:
            seconds = Harness.measure(passes: passes) {
                documents = 0
                for f in inputs { documents += rawEventLoop(f.bytes) }
            }
        case .tree:
            seconds = Harness.measure(passes: passes) {
                documents = 0
                problems = 0
                for f in inputs {
                    problems += YAML.parseDocuments(f.bytes) { doc in
                        if doc.root != nil { documents += 1 }
                    }.count
                }
            }
        case .manifest:
            seconds = Harness.measure(passes: passes) {
                let desired = ManifestLoader.load(inputs)
                documents = desired.services.count
                problems = desired.diagnostics.count
            }
        }
        if problems > 0 {
            FileHandle.standardError.write(Data("berth-bench: note: \(phase.rawValue) reported \(problems) diagnostics per pass on the generated corpus\n".utf8))
        }
        return PhaseResult(bytes: bytes, documents: documents, seconds: seconds, passes: passes)
    }

    /// A whole file straight into one `[UInt8]` (no intermediate `Data` copy, so the peak
    /// memory we measure is the parser's, not the reader's).
    static func readFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path]) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw CocoaError(.fileReadUnknown, userInfo: [NSFilePathErrorKey: path]) }
        let size = Int(st.st_size)
        var failed = false
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buf, count in
            var done = 0
            while done < size {
                let n = read(fd, buf.baseAddress! + done, size - done)
                if n <= 0 { failed = n < 0; break }
                done += n
            }
            count = done
        }
        if failed { throw CocoaError(.fileReadUnknown, userInfo: [NSFilePathErrorKey: path]) }
        return bytes
    }

    /// The baseline: libyaml's events, each deleted at once, nothing built.
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

/// Realistic `berth/v1` Services, deterministic (SplitMix64).
struct Generator {
    var rng: SeededRandom
    var published = 0
    init(seed: UInt64) { rng = SeededRandom(seed: seed) }

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
        var s = "# \(name): owned by \(team)\n"
        s += "apiVersion: berth/v1\nkind: Service\nmetadata:\n  name: \(name)\n"
        s += "  labels: {team: \(team), tier: \(pick(["web", "api", "worker"]))}\n"
        s += "spec:\n  image: registry.local/\(team)/\(Generator.words[i % Generator.words.count]):\(int(4)).\(int(20)).\(int(10))\n"
        s += "  replicas: \(int(6))\n"
        if int(2) == 0 {
            s += "  command: [\"/bin/httpd\", \"-f\", \"-p\", \"\(port)\", \"-h\", \"/www\"]\n"
        }
        s += "  env:\n    LOG_LEVEL: \(pick(["info", "debug", "warn"]))\n    PORT: \"\(port)\"\n"
        for k in 0..<(2 + int(5)) {
            switch k % 3 {
            case 0: s += "    UPSTREAM_\(k)_URL: \"http://\(pick(Generator.words))-\(int(max(1, i + 1))):8080/v\(int(3))\"\n"
            case 1: s += "    FEATURE_\(k): \(pick(["\"on\"", "\"off\"", "'true'", "\"42\""]))\n"
            default: s += "    DESCRIPTION_\(k): \"service \(name) — \(pick(Generator.teams)) edition, №\(k)\"\n"
            }
        }
        s += "  ports:\n    - containerPort: \(port)\n"
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
        switch int(3) {
        case 0: s += "    http: {path: /healthz, port: \(port)}\n"
        case 1: s += "    tcp: {port: \(port)}\n"
        default: s += "    exec: {command: [\"/bin/sh\", \"-c\", \"test -f /tmp/ready\"]}\n"
        }
        s += "    interval: \(pick(["2s", "5s", "500ms"]))\n    timeout: 1s\n    startPeriod: 0s\n    failureThreshold: 3\n"
        s += "  update:\n    strategy: \(pick(["rolling", "rolling", "recreate"]))\n"
        s += "    maxSurge: \(pick(["1", "\"25%\"", "2"]))\n    maxUnavailable: 0\n"
        s += "    progressDeadline: 120s\n    onFailure: \(pick(["rollback", "pause"]))\n"
        s += "  stopGracePeriod: 10s\n  restart: \(pick(["always", "on-failure"]))\n"
        s += "  resources: {cpus: \(pick(["0.5", "1", "0.25"])), memory: \(pick(["256Mi", "1Gi", "512M"]))}\n"
        if int(4) == 0 {
            s += "  autoscale: {min: 2, max: 10, targetRequestsPerSecond: 50, scaleDownDelay: 60s}\n"
        }
        return s
    }
}
