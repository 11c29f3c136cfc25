import BerthTestSupport
import Foundation

/// One benchmark: `run` is what `berth-bench NAME` does; `phases` are the pieces it runs
/// in child processes (`berth-bench --phase NAME.PHASE ARGS...`).
struct Benchmark: Sendable {
    var name: String
    var summary: String
    var run: @Sendable ([String]) throws -> Void
    var phases: [String: @Sendable ([String]) throws -> PhaseResult] = [:]
}

/// What a child process reports back: work done, time, and its memory.
struct PhaseResult {
    var bytes: Int
    var documents: Int
    /// Median seconds of one pass over all the input.
    var seconds: Double
    var passes: Int
    /// VmRSS when the phase started (before reading input) and VmHWM at its end, in KiB.
    var startKiB: Int = 0
    var peakKiB: Int = 0

    var line: String {
        "RESULT bytes=\(bytes) documents=\(documents) seconds=\(seconds) passes=\(passes) startKiB=\(startKiB) peakKiB=\(peakKiB)"
    }

    init(bytes: Int, documents: Int, seconds: Double, passes: Int) {
        self.bytes = bytes
        self.documents = documents
        self.seconds = seconds
        self.passes = passes
    }

    init?(line: String) {
        guard line.hasPrefix("RESULT ") else { return nil }
        var fields: [String: String] = [:]
        for part in line.dropFirst(7).split(separator: " ") {
            let kv = part.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { fields[String(kv[0])] = String(kv[1]) }
        }
        guard let b = fields["bytes"].flatMap(Int.init), let d = fields["documents"].flatMap(Int.init),
            let s = fields["seconds"].flatMap(Double.init), let p = fields["passes"].flatMap(Int.init)
        else { return nil }
        self.init(bytes: b, documents: d, seconds: s, passes: p)
        startKiB = fields["startKiB"].flatMap(Int.init) ?? 0
        peakKiB = fields["peakKiB"].flatMap(Int.init) ?? 0
    }

    var mibPerSecond: Double { Double(bytes) / 1_048_576 / seconds }
    var documentsPerSecond: Double { Double(documents) / seconds }
}

enum Harness {
    static func main(_ benchmarks: [Benchmark]) {
        var args = Array(CommandLine.arguments.dropFirst())
        do {
            if args.first == "--phase", args.count >= 2 {
                let full = args[1]
                let parts = full.split(separator: ".", maxSplits: 1).map(String.init)
                guard parts.count == 2, let bench = benchmarks.first(where: { $0.name == parts[0] }),
                    let phase = bench.phases[parts[1]]
                else { fail("unknown phase \(full)") }
                let start = memoryKiB("VmRSS")
                var result = try phase(Array(args.dropFirst(2)))
                result.startKiB = start
                result.peakKiB = memoryKiB("VmHWM")
                print(result.line)
                return
            }
            defer { Measurer.removeDirectory() }
            let name = args.isEmpty ? "all" : args.removeFirst()
            switch name {
            case "list", "-h", "--help":
                print("usage: berth-bench [all|\(benchmarks.map(\.name).joined(separator: "|"))]")
                for b in benchmarks { print("  \(b.name.padding(toLength: 8, withPad: " ", startingAt: 0)) \(b.summary)") }
            case "all":
                for b in benchmarks { try b.run(args) }
            default:
                guard let b = benchmarks.first(where: { $0.name == name }) else {
                    fail("unknown benchmark \"\(name)\"; try: all, \(benchmarks.map(\.name).joined(separator: ", "))")
                }
                try b.run(args)
            }
        } catch {
            fail("\(error)")
        }
    }

    static func fail(_ message: String) -> Never {
        Measurer.removeDirectory()
        FileHandle.standardError.write(Data("berth-bench: error: \(message)\n".utf8))
        exit(1)
    }

    /// A line of /proc/self/status (`VmHWM`, `VmRSS`) in KiB; 0 where there is no /proc.
    static func memoryKiB(_ field: String) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
            let digits = line.split(separator: " ").dropFirst().first ?? ""
            return Int(digits) ?? 0
        }
        return 0
    }

    /// Runs `berth-bench --phase PHASE ARGS...` and returns its result, or nil when the
    /// child failed (its stderr went through; the exit status is in `why`).
    static func runPhase(_ phase: String, _ args: [String]) throws -> (result: PhaseResult?, why: String) {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_BACKTRACE"] = "enable=no"  // a failing phase is reported in one line
        let run = try ProcessRunner.run(
            URL(fileURLWithPath: exe), ["--phase", phase] + args, environment: environment, timeout: .seconds(3 * 3600))
        let text = run.stdout
        let errText = run.stderr
        for line in errText.split(separator: "\n") where !line.isEmpty && run.status == 0 {
            FileHandle.standardError.write(Data("  \(line)\n".utf8))
        }
        let firstError = errText.split(separator: "\n").first { $0.contains("rror") }.map { ": " + $0 } ?? ""
        let result = text.split(separator: "\n").lazy.compactMap { PhaseResult(line: String($0)) }.first
        let why: String
        if run.signalled {
            why = "crashed (signal \(run.status))\(firstError)"
        } else {
            why = "exit status \(run.status)\(firstError)"
        }
        return (run.status == 0 && !run.signalled ? result : nil, why)
    }

    /// Times `pass` once to warm up, then `passes` times; the median in seconds.
    static func measure(passes: Int, _ pass: () -> Void) -> Double {
        pass()
        let clock = ContinuousClock()
        var times: [Double] = []
        for _ in 0..<passes {
            let d = clock.measure(pass)
            times.append(Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
        }
        times.sort()
        return times[times.count / 2]
    }

    static func fmt(_ v: Double, _ digits: Int = 1) -> String {
        String(format: "%.\(digits)f", v)
    }

    static func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, n - s.count))
        return left ? s + fill : fill + s
    }

    // MARK: Timing other processes

    /// An executable built next to this one (`berth`), or a failure that says how to build it.
    static func sibling(_ name: String) -> String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let path = URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            fail("no \(name) binary next to berth-bench (\(path)); run `swift build -c release --static-swift-stdlib --product \(name)` first")
        }
        return path
    }

    /// One run of a process: wall time, CPU time (user + system, all threads) and peak
    /// resident memory (`ru_maxrss`).
    struct Run {
        var wall: Double
        var cpu: Double
        var maxRSSKiB: Int
    }

    /// Wall-clock median, min and max, the median CPU time, and the largest peak memory.
    struct Timing {
        var median: Double, min: Double, max: Double, cpu: Double
        var maxRSSKiB: Int
    }

    /// Runs `command` once with stdout on /dev/null and stdin from `stdin` (stderr passes
    /// through); a non-zero exit ends the benchmark.
    ///
    /// Through a small C program (`measurer`) when one can be built: it forks, execs the
    /// command and reads wall time, CPU time and peak memory with wait4. A child started by
    /// this process directly would report this process's own peak memory: the kernel keeps
    /// the larger of the parent's and the child's high-water marks across posix_spawn's
    /// shared-memory exec. Without a compiler: posix_spawn + wait4 here, and no peak memory.
    static func spawnTimed(_ command: [String], in directory: String, env: [String: String], stdin: String = "/dev/null") -> Run {
        let path = command[0].hasPrefix("/") ? command[0] : (["/usr/bin/", "/bin/", "/usr/local/bin/"].map { $0 + command[0] }
            .first { FileManager.default.isExecutableFile(atPath: $0) } ?? command[0])
        let previous = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(directory)
        defer { FileManager.default.changeCurrentDirectoryPath(previous) }
        let measurer = Measurer.shared.path
        let argv = ((measurer.map { [$0, stdin] } ?? []) + [path] + command.dropFirst()).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var fds: [Int32] = [-1, -1]
        if measurer != nil {
            guard pipe(&fds) == 0 else { fail("pipe: error \(errno)") }
            posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
            posix_spawn_file_actions_addclose(&actions, fds[0])
            posix_spawn_file_actions_addclose(&actions, fds[1])
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        var pid: pid_t = 0
        let start = DispatchTime.now().uptimeNanoseconds
        let rc = posix_spawn(&pid, argv[0]!, &actions, nil, argv, envp)
        guard rc == 0 else { fail("cannot start \(path): error \(rc)") }
        var report: [UInt8] = []
        if measurer != nil {
            close(fds[1])
            var buffer = [UInt8](repeating: 0, count: 256)
            while true {
                let n = read(fds[0], &buffer, buffer.count)
                if n > 0 { report += buffer[0..<n] } else if n == 0 || errno != EINTR { break }
            }
            close(fds[0])
        }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        guard status == 0 else { fail("\(command.joined(separator: " ")) exited with status \(status)") }
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        guard measurer != nil else {
            return Run(wall: elapsed, cpu: seconds(usage.ru_utime) + seconds(usage.ru_stime), maxRSSKiB: 0)
        }
        // "WALL_NS CPU_US MAXRSS_KIB"
        let fields = String(decoding: report, as: UTF8.self).split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard fields.count == 3 else { fail("measurer: unexpected report \(String(decoding: report, as: UTF8.self).debugDescription)") }
        return Run(wall: Double(fields[0]) / 1e9, cpu: Double(fields[1]) / 1e6, maxRSSKiB: fields[2])
    }

    /// The C program `spawnTimed` runs commands through: `measurer STDIN CMD ARGS...`.
    final class Measurer: Sendable {
        static let shared = Measurer()
        let path: String?
        static var directory: String { NSTemporaryDirectory() + "berth-bench-measurer-\(getpid())" }
        static func removeDirectory() { try? FileManager.default.removeItem(atPath: directory) }
        private init() {
            let directory = Measurer.directory
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            path = try? Harness.compileC(name: "measurer", in: directory, flags: [], source: """
                #include <fcntl.h>
                #include <stdio.h>
                #include <stdlib.h>
                #include <sys/resource.h>
                #include <sys/wait.h>
                #include <time.h>
                #include <unistd.h>
                int main(int argc, char **argv) {
                    if (argc < 3) return 2;
                    struct timespec a, b; struct rusage u; int status;
                    clock_gettime(CLOCK_MONOTONIC, &a);
                    pid_t pid = fork();
                    if (pid == 0) {
                        int in = open(argv[1], O_RDONLY), out = open("/dev/null", O_WRONLY);
                        dup2(in, 0); dup2(out, 1); close(in); close(out);
                        execv(argv[2], argv + 2);
                        _exit(127);
                    }
                    if (wait4(pid, &status, 0, &u) < 0) return 1;
                    clock_gettime(CLOCK_MONOTONIC, &b);
                    printf("%lld %lld %ld\\n", (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec),
                        (long long)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000000LL + u.ru_utime.tv_usec + u.ru_stime.tv_usec,
                        u.ru_maxrss);
                    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                }

                """)
        }
    }

    /// Times the commands in `runs` rounds, each round running every command once in turn
    /// (so a change in the machine's load hits them alike), after one untimed warm-up run
    /// of each (page cache).
    static func interleaved(_ commands: [[String]], in directory: String, env: [String: String], runs: Int) -> [Timing] {
        interleaved(commands.map { Command($0, env: env) }, in: directory, runs: runs)
    }

    /// A command to time: its arguments, environment (a function, so each run may get a
    /// fresh one), standard input, and whether it runs once untimed first.
    struct Command {
        var arguments: [String]
        var env: () -> [String: String]
        var stdin = "/dev/null"
        var warmUp = true
        init(_ arguments: [String], env: @autoclosure @escaping () -> [String: String], stdin: String = "/dev/null", warmUp: Bool = true) {
            self.arguments = arguments
            self.env = env
            self.stdin = stdin
            self.warmUp = warmUp
        }
    }

    static func interleaved(_ commands: [Command], in directory: String, runs: Int) -> [Timing] {
        for c in commands where c.warmUp { _ = spawnTimed(c.arguments, in: directory, env: c.env(), stdin: c.stdin) }
        var all = [[Run]](repeating: [], count: commands.count)
        for _ in 0..<runs {
            for (i, c) in commands.enumerated() { all[i].append(spawnTimed(c.arguments, in: directory, env: c.env(), stdin: c.stdin)) }
        }
        return all.map(timing)
    }

    static func timing(_ runs: [Run]) -> Timing {
        let w = runs.map(\.wall).sorted(), u = runs.map(\.cpu).sorted()
        return Timing(median: w[w.count / 2], min: w.first!, max: w.last!, cpu: u[u.count / 2], maxRSSKiB: runs.map(\.maxRSSKiB).max()!)
    }

    /// Compiles `source` with `cc -O2` into `directory/name`; nil when there is no compiler
    /// or the headers are missing.
    static func compileC(name: String, in directory: String, flags: [String], source: String) throws -> String? {
        guard let cc = ["/usr/bin/cc", "/usr/bin/gcc", "/usr/bin/clang"].first(where: FileManager.default.isExecutableFile) else { return nil }
        let file = directory + "/\(name).c", binary = directory + "/\(name)"
        try source.write(toFile: file, atomically: true, encoding: .utf8)
        let compiled = try ProcessRunner.run(URL(fileURLWithPath: cc), ["-O2", file, "-o", binary] + flags)
        FileHandle.standardError.write(Data(compiled.stderr.utf8))
        return compiled.status == 0 ? binary : nil
    }
}

