public import Foundation

/// What a finished process printed and how it ended.
public struct ProcessResult: Sendable, Equatable {
    public var stdout: String
    public var stderr: String
    public var status: Int32
    public init(stdout: String, stderr: String, status: Int32) {
        self.stdout = stdout
        self.stderr = stderr
        self.status = status
    }
}

/// Runs programs (the built `berth` binary above all) for tests that check exact output
/// and exit codes.
public enum ProcessRunner {
    public enum Failure: Error, CustomStringConvertible {
        case executableNotFound(searched: [String])
        public var description: String {
            switch self {
            case .executableNotFound(let searched):
                "berth executable not found (build it with `swift build`); looked at: \(searched.joined(separator: ", "))"
            }
        }
    }

    /// Runs `executable` with `arguments` in `directory` and waits for it. Output goes to
    /// temporary files rather than pipes, so a chatty process can never block on a full pipe.
    /// `environment` replaces the inherited one when given.
    public static func run(
        _ executable: URL, _ arguments: [String], in directory: URL? = nil,
        environment: [String: String]? = nil, stdin: String? = nil
    ) throws -> ProcessResult {
        let scratch = try TemporaryDirectory(prefix: "berth-process")
        defer { scratch.remove() }
        let outURL = try scratch.write("stdout", "")
        let errURL = try scratch.write("stderr", "")
        let inURL = try scratch.write("stdin", stdin ?? "")
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
        try process.run()
        process.waitUntilExit()
        return ProcessResult(
            stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self),
            status: process.terminationStatus)
    }

    /// Runs the built `berth` binary.
    public static func berth(
        _ arguments: [String], in directory: URL? = nil, environment: [String: String]? = nil
    ) throws -> ProcessResult {
        try run(try berthExecutable(), arguments, in: directory, environment: environment)
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
