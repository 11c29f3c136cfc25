import BerthEngine
import BerthTestSupport
import Foundation
import Testing

/// The journal's files on disk: private, and a damaged one never stops the loop (issue 18,
/// findings 8 and 10). Real SQLite files.
@Suite struct JournalFilesTests {
    static func mode(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    static func record(_ n: Int) -> JournalRecord {
        JournalRecord(
            started: "2026-01-01T10:00:\(String(format: "%02d", n % 60)).000Z", ended: "2026-01-01T10:00:59.000Z",
            commit: "c\(n)", trigger: .commit, result: .succeeded,
            steps: [JournalStep(action: "create", service: "web", wave: 0, reason: String(repeating: "r", count: 200), outcome: .succeeded, durationMs: n)])
    }

    /// Whatever the process's umask, the folder is 0700 and the files 0600; an older
    /// journal left world-readable is tightened when watch opens it.
    @Test func folderAndFilesAreTheUsersAlone() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/state/journal.sqlite"
        let journal = try Journal(path: path)
        try await journal.append(Self.record(1))
        #expect(Self.mode(dir.path + "/state") == 0o700)
        for file in [path, path + "-wal", path + "-shm"] { #expect(Self.mode(file) == 0o600, "\(file)") }

        let old = dir.path + "/old"
        try FileManager.default.createDirectory(atPath: old, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        FileManager.default.createFile(atPath: old + "/journal.sqlite", contents: nil, attributes: [.posixPermissions: 0o644])
        _ = try Journal(path: old + "/journal.sqlite")
        #expect(Self.mode(old) == 0o700)
        #expect(Self.mode(old + "/journal.sqlite") == 0o600)
    }
}
