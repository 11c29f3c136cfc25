public import Foundation

/// What a finished process printed and how it ended.
public struct ProcessResult: Sendable, Equatable {
    public var stdout: String
    public var stderr: String
    /// The exit status, or the signal's number when `signalled`.
    public var status: Int32
    public var signalled: Bool
    public init(stdout: String, stderr: String, status: Int32, signalled: Bool = false) {
        self.stdout = stdout
        self.stderr = stderr
        self.status = status
        self.signalled = signalled
    }
}

/// Runs programs to completion (the built `berth` binary above all) for tests and
/// benchmarks that check exact output and exit codes; `ChildProcess` is for the ones that
/// run beside them. Nothing in Tests/ or berth-bench makes a `Process()` of its own.
public enum ProcessRunner {
    public enum Failure: Error, CustomStringConvertible {
        case executableNotFound(searched: [String])
        /// The process ran longer than the test allowed and was killed (SIGKILL).
        case timedOut(command: String, seconds: Double, stdout: String, stderr: String)
        public var description: String {
            switch self {
            case .executableNotFound(let searched):
                "berth executable not found (build it with `swift build`); looked at: \(searched.joined(separator: ", "))"
            case .timedOut(let command, let seconds, let stdout, let stderr):
                "\(command) did not finish within \(seconds)s and was killed (SIGKILL); its stdout so far: \(stdout.debugDescription); its stderr so far: \(stderr.debugDescription)"
            }
        }
    }

    /// What a finished process wrote, as bytes (for binary output such as a CGI's).
    public struct RawResult: Sendable, Equatable {
        public var stdout: Data
        public var stderr: Data
        public var status: Int32
        public var signalled: Bool
    }

    /// Runs `executable` with `arguments` in `directory` and waits for it. Output goes to
    /// temporary files rather than pipes, so a chatty process can never block on a full pipe.
    /// `environment` replaces the inherited one when given. A process still running after
    /// `timeout` is killed (SIGKILL, with its process group) and `Failure.timedOut` thrown, so a hung child fails
    /// its test instead of hanging the whole run.
    public static func run(
        _ executable: URL, _ arguments: [String], in directory: URL? = nil,
        environment: [String: String]? = nil, stdin: String? = nil, timeout: Duration = .seconds(120)
    ) throws -> ProcessResult {
        let raw = try runRaw(
            executable, arguments, in: directory, environment: environment, stdin: stdin.map { Data($0.utf8) },
            timeout: timeout)
        return ProcessResult(
            stdout: String(decoding: raw.stdout, as: UTF8.self), stderr: String(decoding: raw.stderr, as: UTF8.self),
            status: raw.status, signalled: raw.signalled)
    }

    /// `run`, with bytes in and out.
    public static func runRaw(
        _ executable: URL, _ arguments: [String], in directory: URL? = nil,
        environment: [String: String]? = nil, stdin: Data? = nil, timeout: Duration = .seconds(120)
    ) throws -> RawResult {
        let scratch = try TemporaryDirectory(prefix: "berth-process")
        defer { scratch.remove() }
        let outURL = try scratch.write("stdout", "")
        let errURL = try scratch.write("stderr", "")
        let inURL = scratch.url.appendingPathComponent("stdin")
        try (stdin ?? Data()).write(to: inURL)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        let input = try FileHandle(forReadingFrom: inURL)
        defer {
            try? out.close()
            try? err.close()
            try? input.close()
        }

        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        if let environment { process.environment = environment }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        if exited.wait(timeout: .now() + seconds) == .timedOut {
            // The child leads its own process group (Foundation's doing): kill the group, so
            // that its children go too and the end of the child is seen at once.
            kill(-process.processIdentifier, SIGKILL)
            kill(process.processIdentifier, SIGKILL)
            _ = exited.wait(timeout: .now() + 10)
            throw Failure.timedOut(
                command: ([executable.lastPathComponent] + arguments).joined(separator: " "), seconds: seconds,
                stdout: String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self),
                stderr: String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self))
        }
        process.waitUntilExit()
        return RawResult(
            stdout: try Data(contentsOf: outURL), stderr: try Data(contentsOf: errURL), status: process.terminationStatus,
            signalled: process.terminationReason == .uncaughtSignal)
    }

    /// Runs a program found on the PATH (through `/usr/bin/env`): `git`, `docker`, `curl`.
    public static func program(
        _ arguments: [String], in directory: URL? = nil, environment: [String: String]? = nil, stdin: String? = nil,
        timeout: Duration = .seconds(120)
    ) throws -> ProcessResult {
        try run(
            URL(fileURLWithPath: "/usr/bin/env"), arguments, in: directory, environment: environment, stdin: stdin,
            timeout: timeout)
    }

    /// Runs the built `berth` binary.
    public static func berth(
        _ arguments: [String], in directory: URL? = nil, environment: [String: String]? = nil,
        timeout: Duration = .seconds(120)
    ) throws -> ProcessResult {
        try run(try berthExecutable(), arguments, in: directory, environment: environment, timeout: timeout)
    }

    /// The `berth` binary of this build: `$BERTH_EXECUTABLE`, else next to the running test
    /// bundle (the build products folder), else `.build/debug/berth` of this package.
    public static func berthExecutable(filePath: String = #filePath) throws -> URL {
        var candidates: [URL] = []
        if let explicit = ProcessInfo.processInfo.environment["BERTH_EXECUTABLE"] {
            candidates.append(URL(fileURLWithPath: explicit))
        }
        // Linux runs `<products>/<package>PackageTests.xctest`; macOS runs a helper with the
        // bundle at `<products>/….xctest/Contents/MacOS/…`. Walk up a few levels.
        for start in [Bundle.main.executableURL, URL(fileURLWithPath: CommandLine.arguments[0])].compactMap({ $0 }) {
            var dir = start.deletingLastPathComponent()
            for _ in 0..<4 {
                candidates.append(dir.appendingPathComponent("berth"))
                dir = dir.deletingLastPathComponent()
            }
        }
        var package = URL(fileURLWithPath: filePath)
        for _ in 0..<3 { package = package.deletingLastPathComponent() }
        candidates.append(package.appendingPathComponent(".build/debug/berth"))
        for c in candidates {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: c.path, isDirectory: &isDir), !isDir.boolValue,
                FileManager.default.isExecutableFile(atPath: c.path)
            {
                return c
            }
        }
        throw Failure.executableNotFound(searched: candidates.map(\.path))
    }
}
