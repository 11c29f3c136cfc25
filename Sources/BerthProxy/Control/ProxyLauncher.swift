import BerthNet
import Foundation
public import Logging
import NIOCore
import NIOHTTP1
#if canImport(Glibc)
import Glibc
#endif

/// Starts the project's `berth proxy`, or joins the one already running — what `berth watch`
/// does when the project publishes ports.
///
/// A proxy *answers* when `<state-dir>/proxy-<project>.json` names a control API that
/// answers `GET /v1/endpoints` for this project. When none answers, the launcher takes the
/// lock `<state-dir>/proxy-<project>.lock` (flock; released when the launcher closes it or
/// its process dies), looks again (a racing watch may have started one meanwhile), and only
/// then spawns `EXECUTABLE proxy --project P --state-dir DIR ARGS...`:
/// - detached: its own session (setsid), so neither a terminal's ^C nor the end of the
///   watch reaches it; stdin from /dev/null, stdout and stderr appended to
///   `<state-dir>/proxy-<project>.log`; no descriptor of the watch leaks into it;
///   default signal dispositions and an empty signal mask;
/// - then waits (bounded) until that process answers, and fails with the log's tail when
///   it exits or stays silent.
/// While the launching process lives it reaps the proxy if it exits (no zombie).
public struct ProxyLauncher: Sendable {
    public enum Outcome: Sendable, Hashable {
        /// This launcher spawned the proxy.
        case started(ProxyStateFile)
        /// A proxy already answered for the project.
        case joined(ProxyStateFile)

        public var state: ProxyStateFile {
            switch self {
            case .started(let state), .joined(let state): state
            }
        }
    }

    public var project: String
    public var stateDirectory: String
    /// The `berth` binary to run: this process's own (`/proc/self/exe`) by default.
    public var executable: String
    /// Added after `proxy --project P --state-dir DIR`, e.g. `--bind 127.0.0.1`.
    public var arguments: [String]
    /// How long a spawned proxy has to answer (Docker connect and first resync included).
    public var startTimeout: Duration = .seconds(30)
    /// How long to wait for the lock a racing launcher holds.
    public var lockTimeout: Duration = .seconds(60)

    public init(project: String, stateDirectory: String, executable: String? = nil, arguments: [String] = []) {
        self.project = project
        self.stateDirectory = stateDirectory
        self.executable = executable ?? Self.ownExecutable()
        self.arguments = arguments
    }

    public var statePath: String { ProxyStateFile.path(directory: stateDirectory, project: project) }
    public var lockPath: String { (stateDirectory as NSString).appendingPathComponent("proxy-\(project).lock") }
    public var logPath: String { (stateDirectory as NSString).appendingPathComponent("proxy-\(project).log") }

    /// This process's binary: `/proc/self/exe` resolved (so `ps` shows its name), or the
    /// link itself when the file was replaced since (an upgrade in place).
    public static func ownExecutable() -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"),
            FileManager.default.isExecutableFile(atPath: path)
        {
            return path
        }
        return "/proc/self/exe"
    }

    /// The proxy that answers for the project now, or nil.
    public func answering() async -> ProxyStateFile? {
        guard let state = try? ProxyStateFile.read(directory: stateDirectory, project: project),
            state.project == project
        else { return nil }
        guard
            let response = try? await HTTPClient(.tcp(host: state.controlHost, port: state.controlPort))
                .send(.GET, "/v1/endpoints", timeout: .seconds(3)),
            response.status == 200,
            let document = try? JSONDecoder().decode(ControlAPI.EndpointsDocument.self, from: Data(response.body)),
            document.project == project
        else { return nil }
        return state
    }

    /// Joins the proxy that answers, else starts one (see the type's documentation).
    public func ensure() async throws -> Outcome {
        if let state = await answering() { return .joined(state) }
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        let lock = try await FileLock.acquire(path: lockPath, timeout: lockTimeout, project: project)
        defer { lock.release() }
        if let state = await answering() { return .joined(state) }

        let child = try spawn()
        let deadline = ContinuousClock.now + startTimeout
        while ContinuousClock.now < deadline {
            if let state = await answering(), state.pid == child.pid { return .started(state) }
            if let status = child.exitStatus {
                throw ProxyError(
                    "berth proxy for project \(project) (pid \(child.pid)) exited with \(status) before it answered; "
                        + "its log \(logPath) ends with:\n\(Self.tail(of: logPath))")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ProxyError(
            "berth proxy for project \(project) (pid \(child.pid)) did not answer within \(startTimeout); it is left "
                + "running; its log \(logPath) ends with:\n\(Self.tail(of: logPath))")
    }

    /// Spawns the detached proxy and starts reaping it.
    func spawn() throws -> SpawnedProcess {
        let argv = [executable, "proxy", "--project", project, "--state-dir", stateDirectory] + arguments
        let logFD = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard logFD >= 0 else { throw ProxyError("cannot open \(logPath): \(String(cString: strerror(errno)))") }
        defer { close(logFD) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, logFD, 1)
        posix_spawn_file_actions_adddup2(&actions, logFD, 2)
        if let closeFrom = Self.addCloseFrom { _ = closeFrom(&actions, 3) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGQUIT, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(Self.spawnSetSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for arg in cArgs { free(arg) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, &cArgs, environ)
        guard rc == 0 else {
            throw ProxyError("cannot start \(executable) proxy for project \(project): \(String(cString: strerror(rc)))")
        }
        return SpawnedProcess(pid: pid)
    }

    /// glibc's `POSIX_SPAWN_SETSID` (2.26+), hidden from Swift behind `__USE_GNU`.
    static let spawnSetSID: Int32 = 0x80

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), looked up at run time
    /// (declared behind `__USE_GNU`); nil on an older libc, where only close-on-exec
    /// descriptors are kept from the proxy.
    static let addCloseFrom:
        (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
            else { return nil }
            return unsafeBitCast(
                symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
        }()

    /// The last lines of a log (at most 2 KiB), for an error message.
    static func tail(of path: String) -> String {
        guard let data = FileManager.default.contents(atPath: path) else { return "(no log)" }
        let text = String(decoding: data.suffix(2048), as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).suffix(12)
        return lines.joined(separator: "\n")
    }
}

/// A process spawned by the launcher; a thread waits for it so it never stays a zombie.
final class SpawnedProcess: @unchecked Sendable {  // `status` is guarded by `lock`
    let pid: pid_t
    private let lock = NSLock()
    private var status: String?

    init(pid: pid_t) {
        self.pid = pid
        let thread = Thread { [self] in
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
            let described: String
            if raw & 0x7f == 0 {
                described = "exit status \((raw >> 8) & 0xff)"
            } else {
                described = "signal \(raw & 0x7f)"
            }
            lock.withLock { status = described }
        }
        thread.start()
    }

    /// How it ended ("exit status 1", "signal 9"), or nil while it runs.
    var exitStatus: String? { lock.withLock { status } }
}

/// An exclusive `flock` on a file, polled (never blocking a thread of the cooperative
/// pool) until `timeout`. Released by `release()` or when the process ends.
struct FileLock {
    let fd: Int32

    static func acquire(path: String, timeout: Duration, project: String) async throws -> FileLock {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ProxyError("cannot open \(path): \(String(cString: strerror(errno)))") }
        let deadline = ContinuousClock.now + timeout
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR, ContinuousClock.now < deadline else {
                let reason = errno == EWOULDBLOCK ? "another berth watch held it for \(timeout)" : String(cString: strerror(errno))
                close(fd)
                throw ProxyError(
                    "cannot take the lock \(path) to start berth proxy for project \(project): \(reason); "
                        + "start it by hand (berth proxy --project \(project)) or pass --no-proxy")
            }
            do { try await Task.sleep(for: .milliseconds(50)) } catch {
                close(fd)
                throw error
            }
        }
        return FileLock(fd: fd)
    }

    func release() {
        close(fd)
    }
}

/// `berth watch`'s hold on the project's proxy: `ensure()` (called whenever the desired
/// state publishes a port) starts or joins it through the launcher and logs once per proxy
/// pid whether it was started or joined. A failed start is logged and retried no sooner
/// than `retryInterval` later; meanwhile the loop goes on without a balancer.
public actor ProxyAttachment {
    public let launcher: ProxyLauncher
    public var retryInterval: Duration = .seconds(60)
    private let logger: Logger
    private var pid: Int32?
    private var retryAfter: ContinuousClock.Instant?

    public init(launcher: ProxyLauncher, logger: Logger) {
        self.launcher = launcher
        self.logger = logger
    }

    /// The pid of the proxy last started or joined.
    public var currentPID: Int32? { pid }

    public func ensure() async {
        if let retryAfter, ContinuousClock.now < retryAfter { return }
        do {
            let outcome = try await launcher.ensure()
            retryAfter = nil
            let state = outcome.state
            guard state.pid != pid else { return }
            pid = state.pid
            var metadata: Logger.Metadata = [
                "proxy.pid": "\(state.pid)", "proxy.control": "\(state.controlHost):\(state.controlPort)",
                "proxy.state": "\(launcher.statePath)",
            ]
            switch outcome {
            case .started:
                metadata["proxy.log"] = "\(launcher.logPath)"
                logger.info("berth proxy started", metadata: metadata)
            case .joined:
                logger.info("berth proxy joined", metadata: metadata)
            }
        } catch {
            retryAfter = ContinuousClock.now + retryInterval
            logger.error(
                "no balancer for the published ports: \(error)",
                metadata: ["retry.seconds": "\(retryInterval.components.seconds)"])
        }
    }
}
