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
}
