import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `<state-dir>/proxy-<project>.json`: where a running `berth proxy` takes control calls,
/// and the token it takes them with (so the file is its owner's alone: 0600).
public struct ProxyStateFile: Codable, Sendable, Hashable {
    public var formatVersion = 1
    public var project: String
    public var controlHost: String
    public var controlPort: Int
    public var pid: Int32
    /// See `ControlToken`; absent in the file of a proxy older than the token.
    public var controlToken: String?

    public init(project: String, controlHost: String, controlPort: Int, pid: Int32, controlToken: String? = nil) {
        self.project = project
        self.controlHost = controlHost
        self.controlPort = controlPort
        self.pid = pid
        self.controlToken = controlToken
    }

    public static func path(directory: String, project: String) -> String {
        (directory as NSString).appendingPathComponent("proxy-\(project).json")
    }

    public func write(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let data = try encoder.encode(self) + Data("\n".utf8)
        try Self.writePrivately(data, to: Self.path(directory: directory, project: project))
    }

    /// Writes `data` to a new file created 0600 (whatever the umask) beside `path`, then
    /// renames it over `path`: readers see the old file or the whole new one, and the token
    /// is never readable by others, not even for a moment.
    static func writePrivately(_ data: Data, to path: String) throws {
        let temporary = "\(path).\(getpid()).tmp"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ProxyError("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        var failure: String?
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = String(cString: strerror(errno))
                    return
                }
                offset += written
            }
        }
        if failure == nil, fchmod(fd, 0o600) != 0 || fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        close(fd)
        if failure == nil, rename(temporary, path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temporary)
            throw ProxyError("cannot write \(path): \(failure)")
        }
    }

    public static func read(directory: String, project: String) throws -> ProxyStateFile {
        let path = path(directory: directory, project: project)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ProxyError("\(path): no such file; start the balancer first: berth proxy --project \(project)")
        }
        do {
            return try JSONDecoder().decode(ProxyStateFile.self, from: data)
        } catch {
            throw ProxyError("\(path): not a berth proxy state file: \(error)")
        }
    }
}
