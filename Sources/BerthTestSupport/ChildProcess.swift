public import Foundation

/// A process that runs beside a test or a benchmark (`berth watch`, `berth proxy`, a git
/// daemon, a load generator): started with its output going to files (or nowhere), so it
/// never blocks on a full pipe; signalled; waited for with a bound; and killed for good by
/// `terminate` (SIGTERM, then SIGKILL after the grace), which every user calls on every
/// path (`defer`). The one way tests and benchmarks start long-lived processes;
/// `ProcessRunner.run` is the one for commands that run to completion.
public final class ChildProcess: @unchecked Sendable {
    // `Process` is thread-safe for the calls made here (isRunning, pid, status, signals).
    private let process: Process
    private let exited: DispatchSemaphore
    private let handles: [FileHandle]
    /// Readers of `.lines` outputs; each leaves once its pipe reaches end of file.
    private let readers: DispatchGroup

    /// Where the output goes: a file (created, or appended to), or nowhere.
    public enum Output: Sendable {
        case discard
        case file(String)
        case appendToFile(String)
        /// Each line, as soon as it is written (a reader thread; the newline dropped).
        case lines(@Sendable (String) -> Void)
    }

    public let executable: URL
    public let arguments: [String]

    /// Starts `executable`. `environment` replaces the inherited one when given.
    public init(
        _ executable: URL, _ arguments: [String], in directory: URL? = nil, environment: [String: String]? = nil,
        stdout: Output = .discard, stderr: Output = .discard
    ) throws {
        self.executable = executable
        self.arguments = arguments
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        if let environment { process.environment = environment }
        var handles: [FileHandle] = []
        let readers = DispatchGroup()
        func handle(_ output: Output) throws -> Any {
            switch output {
            case .discard: return FileHandle.nullDevice
            case .lines(let each):
                let pipe = Pipe()
                let reader = pipe.fileHandleForReading
                readers.enter()
                Thread.detachNewThread {
                    var pending = Data()
                    while true {
                        let chunk = reader.availableData
                        if chunk.isEmpty { break }
                        pending.append(chunk)
                        while let newline = pending.firstIndex(of: 10) {
                            each(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                            pending.removeSubrange(pending.startIndex...newline)
                        }
                    }
                    if !pending.isEmpty { each(String(decoding: pending, as: UTF8.self)) }
                    readers.leave()
                }
                return pipe
            case .file(let path), .appendToFile(let path):
                if case .file = output { _ = FileManager.default.createFile(atPath: path, contents: nil) }
                if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
                handle.seekToEndOfFile()
                handles.append(handle)
                return handle
            }
        }
        process.standardOutput = try handle(stdout)
        process.standardError = try handle(stderr)
        process.standardInput = FileHandle.nullDevice
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        self.process = process
        self.handles = handles
        self.exited = exited
        self.readers = readers
        try process.run()
        // The child has its own copies of the pipes' write ends; ours must close, or the
        // readers would never see the end of file.
        for case let pipe as Pipe in [process.standardOutput, process.standardError] {
            try? pipe.fileHandleForWriting.close()
        }
    }

    /// `ChildProcess` of a program found on the PATH (through `/usr/bin/env`).
    public static func program(
        _ arguments: [String], in directory: URL? = nil, environment: [String: String]? = nil,
        stdout: Output = .discard, stderr: Output = .discard
    ) throws -> ChildProcess {
        try ChildProcess(
            URL(fileURLWithPath: "/usr/bin/env"), arguments, in: directory, environment: environment, stdout: stdout,
            stderr: stderr)
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        for handle in handles { try? handle.close() }
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    /// The exit status, or the number of the signal that ended it; nil while it runs.
    public var status: Int32? { process.isRunning ? nil : process.terminationStatus }
    /// True when a signal ended it.
    public var signalled: Bool { !process.isRunning && process.terminationReason == .uncaughtSignal }

    public func signal(_ number: Int32) {
        if process.isRunning { kill(process.processIdentifier, number) }
    }

    /// Waits until it ends or `timeout` passes; its status (nil: still running).
    @discardableResult
    public func wait(timeout: Duration) -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        if exited.wait(timeout: .now() + seconds) == .timedOut { return nil }
        exited.signal()  // for the next waiter
        process.waitUntilExit()
        _ = readers.wait(timeout: .now() + 10)  // the last lines of `.lines` outputs
        return process.terminationStatus
    }

    /// Sends `signal` (SIGTERM), waits up to `grace`, then SIGKILLs. Returns the status
    /// when it ended by itself within the grace, else nil.
    @discardableResult
    public func terminate(_ number: Int32 = SIGTERM, grace: Duration = .seconds(15)) -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        signal(number)
        if let status = wait(timeout: grace) { return status }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return nil
    }
}
