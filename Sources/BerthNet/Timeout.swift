/// Runs `body`; throws `timedOut` if it has not finished after `limit` (and cancels it).
public func withTimeout<T: Sendable>(
    _ limit: Duration, _ timedOut: @autoclosure @escaping @Sendable () -> any Error,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw timedOut()
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

extension Duration {
    /// `2s`, `1500ms`: for messages.
    public var formattedMillis: String {
        let (s, atto) = components
        let ms = s * 1000 + atto / 1_000_000_000_000_000
        return ms % 1000 == 0 ? "\(ms / 1000)s" : "\(ms)ms"
    }
}
