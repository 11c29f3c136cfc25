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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: exe)
        process.arguments = ["--phase", phase] + args
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_BACKTRACE"] = "enable=no"  // a failing phase is reported in one line
        process.environment = environment
        let pipe = Pipe()
        let errors = Pipe()
        process.standardOutput = pipe
        process.standardError = errors
        try process.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: out, as: UTF8.self)
        let errText = String(decoding: err, as: UTF8.self)
        for line in errText.split(separator: "\n") where !line.isEmpty && process.terminationStatus == 0 {
            FileHandle.standardError.write(Data("  \(line)\n".utf8))
        }
        let firstError = errText.split(separator: "\n").first { $0.contains("rror") }.map { ": " + $0 } ?? ""
        let result = text.split(separator: "\n").lazy.compactMap { PhaseResult(line: String($0)) }.first
        let why: String
        if process.terminationReason == .uncaughtSignal {
            why = "crashed (signal \(process.terminationStatus))\(firstError)"
        } else {
            why = "exit status \(process.terminationStatus)\(firstError)"
        }
        return (process.terminationStatus == 0 ? result : nil, why)
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
}
