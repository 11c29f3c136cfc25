import BerthEngine
import BerthTestSupport
import Foundation
import Testing

/// The project lease file: one holder at a time, who it is, released with its descriptor.
/// (A holder SIGKILLed, two processes: BerthIntegrationTests.ProjectLeaseTests.)
@Suite struct LeaseFileTests {
    @Test func oneHolderAtATimeAndTheFileSaysWho() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let state = dir.path + "/state/shop"
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        let holder = ProjectLease.Holder(command: "berth apply", pid: 4242, since: at)
        guard case .acquired(let lease) = try ProjectLease.tryAcquire(stateDirectory: state, holder: holder) else {
            Issue.record("the lease of an unused project was not free")
            return
        }
        #expect(lease.path == state + "/lease.json")
        #expect(try String(contentsOfFile: lease.path, encoding: .utf8)
            == "{\"command\":\"berth apply\",\"pid\":4242,\"since\":\"2027-01-15T08:00:00Z\"}\n")

        // Held: a second attempt (another open file, as another process would have) is told who.
        guard case .held(let by) = try ProjectLease.tryAcquire(stateDirectory: state, holder: ProjectLease.Holder(command: "berth watch"))
        else {
            Issue.record("a held lease was taken twice")
            return
        }
        #expect(by == holder)
        #expect(by?.description == "berth apply (pid 4242, since 2027-01-15T08:00:00Z)")

        lease.update(api: "http://127.0.0.1:7420")
        guard case .held(let updated) = try ProjectLease.tryAcquire(stateDirectory: state, holder: holder) else {
            Issue.record("the lease was free while held")
            return
        }
        #expect(updated?.api == "http://127.0.0.1:7420")
        #expect(updated?.isWatch == false)
    }

    @Test func aWaiterIsToldOnceAndGetsTheLeaseWhenItIsReleased() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var first: ProjectLease? = try await ProjectLease.acquire(
            stateDirectory: dir.path, holder: ProjectLease.Holder(command: "berth apply", pid: 1), onWait: { _ in
                Issue.record("an unused lease made its taker wait")
            })
        #expect(first != nil)
        let told = Counter()
        let waiter = Task {
            try await ProjectLease.acquire(
                stateDirectory: dir.path, holder: ProjectLease.Holder(command: "berth apply", pid: 2),
                onWait: { holder in told.add(holder?.pid ?? -1) })
        }
        try await Task.sleep(for: .milliseconds(350))
        #expect(told.values == [1])
        first = nil  // released with its descriptor, as at a process's exit
        let second = try await waiter.value
        #expect(second?.holder.pid == 2)
        #expect(told.values == [1])
    }

    @Test func aWaiterGivesUpWhenItsCallerSaysSo() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let held = try await ProjectLease.acquire(
            stateDirectory: dir.path, holder: ProjectLease.Holder(command: "berth watch", pid: 7), onWait: { _ in })
        struct WatchHolds: Error {}
        await #expect(throws: WatchHolds.self) {
            _ = try await ProjectLease.acquire(
                stateDirectory: dir.path, holder: ProjectLease.Holder(command: "berth apply"),
                onWait: { holder in if holder?.isWatch == true { throw WatchHolds() } })
        }
        let stopped = try await ProjectLease.acquire(
            stateDirectory: dir.path, holder: ProjectLease.Holder(command: "berth watch"), onWait: { _ in },
            shouldStop: { true })
        #expect(stopped == nil)
        withExtendedLifetime(held) {}
    }
}

/// Values appended from any task.
final class Counter: @unchecked Sendable {  // `list` is guarded by `lock`
    private let lock = NSLock()
    private var list: [Int32] = []
    func add(_ value: Int32) { lock.withLock { list.append(value) } }
    var values: [Int32] { lock.withLock { list } }
}
