public import BerthCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `<state-dir>/controls.json`: the operator's pins, replica overrides and suspensions
/// (`ProjectControls`), shared by every berth process of the project. Commands change it
/// under an exclusive lock (`controls.lock` beside it) and replace it whole (write, then
/// rename), so a reader — each sync of `berth watch` — sees either the old or the new file.
public struct ControlsStore: Sendable {
    public let path: String

    public init(stateDirectory: String) {
        path = stateDirectory + "/controls.json"
    }

    /// The controls; none when the file does not exist yet.
    public func read() throws -> ProjectControls {
        guard let data = FileManager.default.contents(atPath: path) else { return ProjectControls() }
        do {
            return try JSONDecoder().decode(ProjectControls.self, from: data)
        } catch {
            throw ControlsError(
                "\(path) is not a controls file Berth can read (\(error)); move it aside to start with no pins, overrides or suspensions")
        }
    }

    /// Reads, changes and writes the controls under the lock; returns them as written.
    @discardableResult
    public func update(_ change: (inout ProjectControls) throws -> Void) throws -> ProjectControls {
        let folder = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let lockPath = folder + "/controls.lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ControlsError("cannot open \(lockPath): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else { throw ControlsError("cannot lock \(lockPath): \(String(cString: strerror(errno)))") }
        defer { _ = flock(fd, LOCK_UN) }
        var controls = try read()
        try change(&controls)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(controls)
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw ControlsError("cannot write \(temporary): check that \(folder) is writable")
        }
        guard rename(temporary, path) == 0 else {
            throw ControlsError("cannot replace \(path): \(String(cString: strerror(errno)))")
        }
        return controls
    }
}

public struct ControlsError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
