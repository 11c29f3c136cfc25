import BerthCore
import BerthEngine
import BerthTestSupport
import Foundation
import Testing

/// Issue 18, finding 10: with the state folder's filesystem full, 7 of 10 sync records were
/// dropped with one log line each and no metric. Real SQLite on a real, small tmpfs.
@Suite(.serialized) struct JournalFullDiskTests {
    /// The journal on a 512 KiB tmpfs filled to the last byte: the syncs go on, their records
    /// are kept and counted (status, metrics); once space is freed, the next sync writes every
    /// one of them, oldest first.
    @Test func recordsOfSyncsWhileTheDiskIsFullReachTheJournalOnceItFrees() async throws {
        let dir = try TemporaryDirectory()
        let mounted = try ProcessRunner.program(["mount", "-t", "tmpfs", "-o", "size=512k,mode=0700", "tmpfs", dir.path])
        try #require(mounted.status == 0, "\(mounted.stderr)")
        defer {
            _ = try? ProcessRunner.program(["umount", dir.path])
            dir.remove()
        }
        let journal = try Journal(path: dir.path + "/journal.sqlite")
        let source = ScriptedSource()
        let runtime = TestRuntime(delay: .milliseconds(1))
        let loop = LoopHeldBackTests.loop(source, runtime, journal: journal)
        source.set(LoopFx.desired([LoopFx.spec("web")], commit: "c1"))
        await loop.syncOnce()
        #expect(try await journal.records().count == 1)

        // Fill the filesystem: 4 KiB at a time until the write fails.
        let filler = dir.path + "/filler"
        FileManager.default.createFile(atPath: filler, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: filler))
        let chunk = Data(repeating: 0x5A, count: 4096)
        for _ in 0..<1_000 {
            do { try handle.write(contentsOf: chunk) } catch { break }
        }
        try? handle.close()

        for _ in 0..<10 {
            let victim = try #require(await runtime.instances(of: "web").first { $0.state == .running }?.id)
            await runtime.setState(victim, .exited, exitCode: 137)
            await loop.request(.drift, fetch: true)
            await loop.syncOnce()
        }
        let full = await loop.status()
        print("disk full: \(full.journalUnwritten) of 10 sync records kept unwritten: \(full.journalError ?? "")")
        #expect(full.journalUnwritten > 0, "the disk was full")
        #expect(full.journalError?.contains("database or disk is full (SQLite code 13); free space on the disk that holds the state directory") == true)
        let metrics = await loop.metricsText()
        #expect(metrics.contains("berth_journal_records_unwritten{project=\"shop\"} \(full.journalUnwritten)\n"))
        #expect(!metrics.contains("berth_journal_write_failures_total{project=\"shop\"} 0\n"))

        try FileManager.default.removeItem(atPath: filler)
        await loop.request(.drift, fetch: true)
        await loop.syncOnce()
        let records = try await journal.records(limit: 100)
        #expect(records.count == 11, "every sync record is in the journal: \(records.count)")
        #expect(records.filter { $0.steps.map(\.action) == ["heal"] }.count == 10)
        #expect(await loop.status().journalUnwritten == 0)
        #expect(await loop.status().journalError == nil)
        #expect(await loop.metricsText().contains("berth_journal_records_unwritten{project=\"shop\"} 0\n"))
    }
}

/// Heals run on tasks of their own, so the pipeline journals from several at once. The
/// journal write is an `await`: a second record arriving while the first is written must
/// neither write that first one twice nor remove a record another writer still holds (it
/// trapped "Can't remove first element from an empty collection" in one CI run).
@Suite struct JournalConcurrentWritesTests {
    @Test func concurrentHealsJournalEachRecordOnceAndNeverTrap() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let journal = try Journal(path: dir.path + "/journal.sqlite")
        let source = ScriptedSource()
        let runtime = TestRuntime(delay: .milliseconds(1))
        let loop = LoopHeldBackTests.loop(source, runtime, journal: journal)
        let names = (0..<8).map { "svc\($0)" }
        source.set(LoopFx.desired(names.map { LoopFx.spec($0) }, commit: "c1"))
        await loop.syncOnce()
        let rounds = 20
        for _ in 0..<rounds {
            for name in names {
                let victim = try #require(await runtime.instances(of: name).first { $0.state == .running }?.id)
                // Killed, not crashed: the crash-loop backoff would hold the next heals back.
                await runtime.setState(victim, .exited, exitCode: 137)
                _ = await loop.pipeline.note(RuntimeEvent(kind: .killed(signal: "KILL"), instanceID: victim, service: name, revision: nil))
                _ = await loop.pipeline.note(RuntimeEvent(kind: .died(exitCode: 137), instanceID: victim, service: name, revision: nil))
            }
            await withTaskGroup(of: Void.self) { group in
                for name in names { group.addTask { _ = await loop.pipeline.heal([name]) } }
            }
        }
        let records = try await journal.records(limit: 1_000)
        #expect(records.count == 1 + rounds * names.count, "one record per sync, each once: \(records.count)")
        #expect(await loop.status().journalUnwritten == 0)
    }
}
