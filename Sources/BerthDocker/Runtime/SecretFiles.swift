import BerthCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Secrets mounted as files: written, per container, into a host folder on tmpfs (memory,
/// never disk), and bind-mounted read-only into the container; the folder goes when the
/// container is removed. The folder is `BERTH_SECRETS_DIR`, else `/run/berth/secrets` when
/// `/run` is a tmpfs, else `/dev/shm/berth-secrets`; Berth refuses to write a secret to a
/// folder that is not on tmpfs. After a host reboot the folder is empty, so a container
/// with secret files cannot be restarted by Docker alone: Berth replaces it (README).
struct SecretFileStore: Sendable {
    let root: String

    static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> SecretFileStore {
        if let dir = environment["BERTH_SECRETS_DIR"], !dir.isEmpty { return SecretFileStore(root: dir) }
        if isTmpfs("/run") { return SecretFileStore(root: "/run/berth/secrets") }
        return SecretFileStore(root: "/dev/shm/berth-secrets")
    }

    /// Whether `path` lies on a tmpfs: the mount of /proc/mounts with the longest mount
    /// point that contains it.
    static func isTmpfs(_ path: String) -> Bool {
        guard let mounts = try? String(contentsOfFile: "/proc/mounts", encoding: .utf8) else { return false }
        let resolved = (path as NSString).resolvingSymlinksInPath
        var best: (point: String, type: String) = ("", "")
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 3 else { continue }
            let point = fields[1].replacingOccurrences(of: "\\040", with: " ")
            let inside = point == "/" || resolved == point || resolved.hasPrefix(point + "/")
            if inside && point.count >= best.point.count { best = (point, String(fields[2])) }
        }
        return best.type == "tmpfs"
    }

    /// `<root>/<project>/<container name>`.
    func folder(project: String, container: String) -> String { "\(root)/\(project)/\(container)" }

    /// Writes each of `mounts`' secrets for `container` and returns the bind mounts. Files
    /// are mode 0400 owned by `user` when it is numeric (`1000` or `1000:1000`), else
    /// 0444 (a named user's id is known only inside the image); folders 0700.
    func write(project: String, container: String, mounts: [SecretMount], values: SecretValues, user: String?) throws -> [Engine.Mount] {
        guard !mounts.isEmpty else { return [] }
        try makeFolder(root)
        guard Self.isTmpfs(root) else {
            throw DockerError(
                .engine,
                "refusing to write secret files to \(root): it is not a tmpfs (they would reach the disk); set BERTH_SECRETS_DIR to a folder on tmpfs, e.g. /dev/shm/berth-secrets")
        }
        let dir = folder(project: project, container: container)
        try makeFolder(dir)
        var owner: (uid_t, gid_t)? = nil
        if let user {
            let parts = user.split(separator: ":")
            if let uid = UInt32(parts[0]) { owner = (uid, parts.count > 1 ? UInt32(parts[1]) ?? uid : uid) }
        }
        var out: [Engine.Mount] = []
        for mount in mounts {
            guard let bytes = values[mount.name] else {
                throw DockerError(.engine, "secret \"\(mount.name)\" has no value to mount at \(mount.mountPath)")
            }
            let path = "\(dir)/\(mount.name)"
            if !FileManager.default.fileExists(atPath: path) {
                let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, owner == nil && user != nil ? 0o444 : 0o400)
                guard fd >= 0 else { throw DockerError(.engine, "could not write secret \"\(mount.name)\" under \(dir): \(String(cString: strerror(errno)))") }
                defer { close(fd) }
                var written = 0
                while written < bytes.count {
                    let n = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                    guard n > 0 else { throw DockerError(.engine, "could not write secret \"\(mount.name)\": \(String(cString: strerror(errno)))") }
                    written += n
                }
                if let (uid, gid) = owner { _ = fchown(fd, uid, gid) }
            }
            out.append(Engine.Mount(Type: "bind", Source: path, Target: mount.mountPath, ReadOnly: true))
        }
        return out
    }

    /// Removes `container`'s secret files (nothing when there are none).
    func remove(project: String, container: String) {
        let dir = folder(project: project, container: container)
        guard FileManager.default.fileExists(atPath: dir) else { return }
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Removes the folders of containers not in `existing` (names): a container removed
    /// behind Berth's back leaves no secret behind past the next sweep.
    func sweep(existing: Set<String>, project: String) {
        let dir = "\(root)/\(project)"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
        for name in names where !existing.contains(name) {
            try? FileManager.default.removeItem(atPath: "\(dir)/\(name)")
        }
    }

    private func makeFolder(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw DockerError(.engine, "could not make the secrets folder \(path): \(error)")
        }
    }
}
