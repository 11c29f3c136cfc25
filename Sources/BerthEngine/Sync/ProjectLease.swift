public import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// At most one Berth process acts on a project at a time: `berth apply` for the length of
/// its run, `berth watch` for its whole life.
///
/// The lease is an exclusive `flock` on `<state-dir>/lease.json`, a file that says who holds
/// it: `{"command": "berth apply", "pid": 4242, "since": "2026-01-31T10:00:00Z"}` (and the
/// watch's API address). The kernel drops the lock with the last descriptor, so a holder
/// killed with SIGKILL never blocks the next run; the file is never deleted (a waiter may
/// hold it open), only rewritten by each new holder. The descriptor is close-on-exec: a
/// `berth proxy` that watch starts does not inherit the lease.
public final class ProjectLease: Sendable {
    /// Who holds (or held) the lease, as its file says.
    public struct Holder: Sendable, Hashable, Codable {
        /// `berth apply` or `berth watch`.
        public var command: String
        public var pid: Int32
        /// RFC 3339 UTC, whole seconds.
        public var since: String
        /// The watch's HTTP API, `http://127.0.0.1:7420`, when it serves one.
        public var api: String?

        public init(command: String, pid: Int32 = getpid(), since: Date = Date(), api: String? = nil) {
            self.command = command
            self.pid = pid
            self.since = Self.format(since)
            self.api = api
        }

        static func format(_ date: Date) -> String {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime]
            formatter.timeZone = TimeZone(identifier: "UTC")
            return formatter.string(from: date)
        }

        /// `berth apply (pid 4242, since 2026-01-31T10:00:00Z)`.
        public var description: String { "\(command) (pid \(pid), since \(since))" }

        public var isWatch: Bool { command == "berth watch" }
    }

    public enum Attempt: Sendable {
        case acquired(ProjectLease)
        /// Another process holds it; its file says who (nil when it cannot be read).
        case held(by: Holder?)
    }

    public let path: String
    /// Who this process said it is when it took the lease.
    public let holder: Holder
    private let fd: Int32

    private init(path: String, fd: Int32, holder: Holder) {
        self.path = path
        self.fd = fd
        self.holder = holder
    }

    deinit { close(fd) }

    /// The lease file of a project's state folder.
    public static func path(stateDirectory: String) -> String { stateDirectory + "/lease.json" }

    /// Takes the lease if no other process holds it; never waits.
    public static func tryAcquire(stateDirectory: String, holder: Holder) throws -> Attempt {
        let path = Self.path(stateDirectory: stateDirectory)
        do {
            try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        } catch {
            throw LeaseError("cannot create the state folder \(stateDirectory) for the project lease: \(error)")
        }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw LeaseError("cannot open the project lease \(path): \(String(cString: strerror(errno))); check the folder's permissions or pass another --state-dir")
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            defer { close(fd) }
            guard code == EWOULDBLOCK else {
                throw LeaseError("cannot lock the project lease \(path): \(String(cString: strerror(code)))")
            }
            return .held(by: readHolder(fd))
        }
        let lease = ProjectLease(path: path, fd: fd, holder: holder)
        lease.write(holder)
        return .acquired(lease)
    }

    /// Takes the lease, waiting while another process holds it. `onWait` is called when
    /// the holder first blocks this one and whenever the holder changes; it may throw to
    /// give up (a watch holds it, or `--no-wait`), and so may `shouldStop` (polled every 100 ms).
    public static func acquire(
        stateDirectory: String, holder: Holder, onWait: (Holder?) throws -> Void,
        shouldStop: () -> Bool = { false }
    ) async throws -> ProjectLease? {
        var seen: Holder?? = .none
        while !shouldStop() {
            switch try tryAcquire(stateDirectory: stateDirectory, holder: holder) {
            case .acquired(let lease):
                return lease
            case .held(let by):
                if seen == .none || seen! != by {
                    seen = .some(by)
                    try onWait(by)
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        return nil
    }

    /// Adds the holder's API address to the file (the watch, once it listens).
    public func update(api: String) {
        var holder = self.holder
        holder.api = api
        write(holder)
    }

    private func write(_ holder: Holder) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let bytes = Array(((try? encoder.encode(holder)) ?? Data()) + Data("\n".utf8))
        _ = ftruncate(fd, 0)
        _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    /// The holder a lease file names. A holder that has just taken it may not have written
    /// it yet: asked again a few times, 10 ms apart.
    private static func readHolder(_ fd: Int32) -> Holder? {
        for attempt in 0..<20 {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
            if n > 0, let holder = try? JSONDecoder().decode(Holder.self, from: Data(buffer[0..<n])) { return holder }
            if attempt < 19 { usleep(10_000) }
        }
        return nil
    }
}

public struct LeaseError: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
