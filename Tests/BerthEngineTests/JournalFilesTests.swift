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

    /// A journal of `count` records, written and closed (checkpointed into the main file).
    static func written(_ path: String, count: Int) async throws -> Data {
        do {
            let journal = try Journal(path: path)
            for n in 1...count { try await journal.append(record(n)) }
        }
        // The actor is gone: its connection closed and checkpointed.
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        return try Data(contentsOf: URL(fileURLWithPath: path))
    }

    static func damagedCopies(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasPrefix("journal.sqlite.damaged-") }.sorted()
    }

    /// The finding: a truncated journal made watch exit 1 at start. Now it is moved aside,
    /// a new one is started and written, and the damage is said.
    @Test func aTruncatedJournalIsMovedAsideAndANewOneStarted() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/journal.sqlite"
        let original = try await Self.written(path, count: 300)
        try original.prefix(original.count * 2 / 5).write(to: URL(fileURLWithPath: path))

        let journal = try Journal(path: path)
        let damage = try #require(journal.damage, "a truncated journal was opened as if whole")
        #expect(Self.damagedCopies(dir.path) == [(damage.movedTo as NSString).lastPathComponent])
        #expect(try Data(contentsOf: URL(fileURLWithPath: damage.movedTo)) == original.prefix(original.count * 2 / 5))
        #expect(damage.description.hasPrefix("journal \(path) was damaged ("))
        #expect(damage.description.hasSuffix("): moved aside to \(damage.movedTo); a new journal was started"))
        #expect(try await journal.records().isEmpty)
        try await journal.append(Self.record(301))
        #expect(try await journal.records().map(\.commit) == ["c301"])
        // A journal opened whole has no damage.
        #expect(try Journal(path: path).damage == nil)
    }

    /// 16 KB of garbage in the middle: watch ran on while every read failed. Now it is found
    /// when watch opens the journal.
    @Test func garbageInTheMiddleIsFoundAtOpen() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/journal.sqlite"
        var bytes = try await Self.written(path, count: 300)
        var r = SeededRandom(seed: 16)
        let middle = bytes.count / 2
        for i in middle..<(middle + 16 * 1024) { bytes[i] = UInt8(r.below(256)) }
        try bytes.write(to: URL(fileURLWithPath: path))

        let journal = try Journal(path: path)
        #expect(journal.damage != nil)
        #expect(Self.damagedCopies(dir.path).count == 1)
        try await journal.append(Self.record(1))
        #expect(try await journal.records().count == 1)
    }

    /// Damage that appears while watch runs is found by the first read or write that meets
    /// it: the journal is moved aside then, and the write goes to the new one.
    @Test func damageFoundWhileRunningIsRecoveredByThatCall() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/journal.sqlite"
        var bytes = try await Self.written(path, count: 300)
        let journal = try Journal(path: path)
        #expect(journal.damage == nil)
        var r = SeededRandom(seed: 17)
        let middle = bytes.count / 2
        for i in middle..<(middle + 16 * 1024) { bytes[i] = UInt8(r.below(256)) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seek(toOffset: UInt64(middle))
        try handle.write(contentsOf: bytes[middle..<(middle + 16 * 1024)])
        try handle.close()

        let read = try await journal.records(limit: 1000)
        #expect(read.isEmpty, "read \(read.count) records from a damaged journal")
        #expect(await journal.recoveries.count == 1)
        try await journal.append(Self.record(2))
        #expect(try await journal.records().map(\.commit) == ["c2"])
        #expect(Self.damagedCopies(dir.path).count == 1)
    }

    /// `berth journal` (a reader) never moves anything: it says what is wrong and that
    /// watch repairs it.
    @Test func aReaderSaysTheJournalIsDamagedAndWhoRepairsIt() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/journal.sqlite"
        let original = try await Self.written(path, count: 50)
        try original.prefix(original.count / 2).write(to: URL(fileURLWithPath: path))
        do {
            let reader = try Journal(path: path, create: false)
            _ = try await reader.records()
            Issue.record("a damaged journal was read")
        } catch let error as JournalError {
            #expect(error.description.contains("is damaged"), "\(error)")
            #expect(error.description.hasSuffix("berth watch moves a damaged journal aside and starts a new one when it opens it: restart berth watch"), "\(error)")
        }
        #expect(Self.damagedCopies(dir.path).isEmpty)
    }
}
