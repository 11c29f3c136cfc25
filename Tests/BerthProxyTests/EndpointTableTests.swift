@testable import BerthProxy
import NIOConcurrencyHelpers
import Testing

@Suite("Endpoint table")
struct EndpointTableTests {
    static func table(_ make: () -> EndpointTable = { EndpointTable() }) -> EndpointTable {
        let table = make()
        table.publish(8081, service: "web")
        table.upsert(Endpoint(instance: "aaaaaa1", service: "web", host: "127.0.0.1", ports: [8081: 9]), state: .ready)
        return table
    }

    /// The grace timeout fires while the drain has retired the instance but not yet started
    /// to wait (held there by the hook): the drain must still answer at its deadline, not
    /// when the last connection happens to close.
    @Test func aDrainAnswersAtItsDeadlineEvenWhenTheTimeoutFiresBeforeItWaits() async throws {
        let table = Self.table { EndpointTable(drainWillWait: { _ in try? await Task.sleep(for: .milliseconds(300)) }) }
        let lease = try #require(table.pick(port: 8081))
        let answer = NIOLockedValueBox<DrainResult?>(nil)
        let drain = Task {
            let result = await table.drain("aaaaaa1", grace: .milliseconds(50))
            answer.withLockedValue { $0 = result }
        }
        try await eventually(.seconds(3), "the drain to answer while a connection is still open") {
            answer.withLockedValue { $0 } != nil
        }
        // Only now does the connection close (a drain that overran returns here).
        table.release(lease)
        await drain.value
        let result = try #require(answer.withLockedValue { $0 })
        #expect(!result.drained)
        #expect(result.remaining == 1)
        #expect(result.known)
        #expect(result.waitedMs >= 50 && result.waitedMs < 1500)
    }

    /// A zero grace period answers at once with what is still open, many times over (the
    /// timeout and the wait race every time).
    @Test func aZeroGraceDrainNeverWaitsForOpenConnections() async throws {
        for _ in 0..<50 {
            let table = Self.table()
            let lease = try #require(table.pick(port: 8081))
            let answer = NIOLockedValueBox<DrainResult?>(nil)
            let drain = Task {
                let result = await table.drain("aaaaaa1", grace: .zero)
                answer.withLockedValue { $0 = result }
            }
            try await eventually(.seconds(2), "a zero-grace drain to answer") { answer.withLockedValue { $0 } != nil }
            table.release(lease)
            await drain.value
            let result = try #require(answer.withLockedValue { $0 })
            #expect(!result.drained && result.remaining == 1)
        }
    }

    // MARK: - Docker's start events

    static let web = Endpoint(instance: "bbbbbb2", service: "web", host: "127.0.0.1", ports: [8081: 9])

    /// The executor's `ready` arrives before the proxy has handled Docker's `start` of the
    /// same container: the late start must not put it back to `starting`.
    @Test func aLateStartEventKeepsAReadySetByTheControlAPI() {
        let table = EndpointTable()
        table.publish(8081, service: "web")
        table.upsert(Self.web, state: .starting)  // learnt from Docker for `ready`
        table.markReady("bbbbbb2")
        #expect(table.started(Self.web, state: .starting) == .unchanged)
        #expect(table.state(of: "bbbbbb2") == .ready)
        #expect(table.pick(port: 8081)?.instance == "bbbbbb2")
    }

    /// A drain of a replica whose start event is still on its way: it stays retired.
    @Test func aLateStartEventKeepsARetiredReplicaRetired() async {
        let table = EndpointTable()
        table.upsert(Self.web, state: .ready)
        _ = await table.drain("bbbbbb2", grace: .seconds(1))
        #expect(table.started(Self.web, state: .starting) == .unchanged)
        #expect(table.state(of: "bbbbbb2") == .draining)
        // Also when the table heard of it only through the drain.
        let other = Endpoint(instance: "cccccc3", service: "web", host: "127.0.0.1", ports: [8081: 9])
        #expect(await table.drain("cccccc3", grace: .seconds(1)).known == false)
        #expect(table.started(other, state: .ready) == .added)
        #expect(table.state(of: "cccccc3") == .draining)
    }

    /// Stopped by the engine, then started again: a new life, starting afresh, retirement
    /// forgotten, its open connections still counted (none lost, none counted twice).
    @Test func aStartAfterTheEngineStoppedItIsANewLife() async throws {
        let table = EndpointTable()
        table.publish(8081, service: "web")
        table.upsert(Self.web, state: .ready)
        let lease = try #require(table.pick(port: 8081))
        table.halted("bbbbbb2")
        #expect(table.state(of: "bbbbbb2") == .draining)
        #expect(table.started(Self.web, state: .starting) == .restarted)
        #expect(table.state(of: "bbbbbb2") == .starting)
        #expect(table.activeConnections(of: "bbbbbb2") == 1)
        // A second start event of the same life changes nothing.
        table.markReady("bbbbbb2")
        #expect(table.started(Self.web, state: .starting) == .unchanged)
        #expect(table.state(of: "bbbbbb2") == .ready)
        table.release(lease)
        #expect(table.activeConnections(of: "bbbbbb2") == 0)
        // Retired by the control API, then stopped and started: taken back too.
        _ = await table.drain("bbbbbb2", grace: .zero)
        table.halted("bbbbbb2")
        #expect(table.started(Self.web, state: .starting) == .restarted)
        #expect(table.state(of: "bbbbbb2") == .starting)
    }
}
