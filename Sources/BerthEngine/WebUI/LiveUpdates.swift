public import BerthNet
import Synchronization

/// The web UI's live updates: server-sent events to every open page (`GET /ui/events`).
///
/// Why server-sent events and not polling: one long-lived response per open page costs
/// nothing while nothing happens, and a change reaches the page as soon as the loop sees it
/// (a poll would cost a request per page per second to reach the same ~1 s). The events
/// carry no data a page shows, only "something changed" (`change`, with a version) or
/// "new rate samples" (`tick`); the page then fetches its own `<main>` again, so there is
/// one renderer, and a page that missed events catches up with one fetch.
///
/// Bounded: at most `maxClients` pages follow at once (the next is told so in an event and
/// its browser retries 5 s later: an `EventSource` would give up for good on a 503);
/// each follower buffers at most a few messages (a slow one skips to the newest); a comment
/// line every `heartbeat` keeps proxies from timing the stream out and finds clients that
/// went away; `shutdown()` ends every stream cleanly (the response completes, the
/// connection closes).
public final class LiveUpdates: Sendable {
    public enum Message: Sendable, Hashable {
        case change(Int)
        case tick(Int)
        case ping
    }

    private struct State {
        var version = 0
        var ticks = 0
        var clients: [Int: AsyncStream<Message>.Continuation] = [:]
        var nextID = 0
        var closed = false
    }

    private let state = Mutex(State())
    public let maxClients: Int
    public let heartbeat: Duration

    public init(maxClients: Int = 32, heartbeat: Duration = .seconds(15)) {
        self.maxClients = max(1, maxClients)
        self.heartbeat = heartbeat
    }

    /// Bumped by every change: pages carry the version they show.
    public var version: Int { state.withLock { $0.version } }

    public var clientCount: Int { state.withLock { $0.clients.count } }

    /// A new follower: its id, the version now, and its messages; nil when `maxClients`
    /// follow already or the UI has shut down.
    public func subscribe() -> (id: Int, version: Int, messages: AsyncStream<Message>)? {
        let (stream, continuation) = AsyncStream<Message>.makeStream(bufferingPolicy: .bufferingNewest(4))
        let result: (Int, Int)? = state.withLock { s in
            guard !s.closed, s.clients.count < maxClients else { return nil }
            s.nextID += 1
            s.clients[s.nextID] = continuation
            return (s.nextID, s.version)
        }
        guard let (id, version) = result else {
            continuation.finish()
            return nil
        }
        return (id, version, stream)
    }

    public func unsubscribe(_ id: Int) {
        let continuation = state.withLock { $0.clients.removeValue(forKey: id) }
        continuation?.finish()
    }

    /// Something a page shows changed: every follower fetches again.
    public func changed() {
        let (version, clients) = state.withLock { s in
            s.version += 1
            return (s.version, Array(s.clients.values))
        }
        for c in clients { c.yield(.change(version)) }
    }

    /// New rate samples: pages that show rates fetch again.
    public func ticked() {
        let (ticks, clients) = state.withLock { s in
            s.ticks += 1
            return (s.ticks, Array(s.clients.values))
        }
        for c in clients { c.yield(.tick(ticks)) }
    }

    /// The heartbeat comment.
    public func ping() {
        for c in state.withLock({ Array($0.clients.values) }) { c.yield(.ping) }
    }

    /// Ends every stream; later subscriptions are refused.
    public func shutdown() {
        let clients = state.withLock { s in
            s.closed = true
            let all = Array(s.clients.values)
            s.clients = [:]
            return all
        }
        for c in clients { c.finish() }
    }

    /// One `text/event-stream` message.
    public static func text(_ message: Message) -> String {
        switch message {
        case .change(let v): "event: change\ndata: \(v)\n\n"
        case .tick(let n): "event: tick\ndata: \(n)\n\n"
        case .ping: ": ping\n\n"
        }
    }

    /// What a page that finds every place taken is told before its stream ends.
    public var fullText: String {
        "retry: 5000\nevent: full\ndata: at most \(maxClients) pages follow live updates; retrying in 5 s\n\n"
    }

    /// The body of one follower's response: it subscribes when the body starts (so a
    /// response that is never sent holds no place), then a reconnect delay and `hello` with
    /// the version now, then its messages until it goes away or the UI shuts down. When
    /// every place is taken: `full`, and the stream ends (the browser retries in 5 s).
    public func body() -> HTTPServer.BodyStream {
        HTTPServer.BodyStream { [self] writer in
            guard let follower = subscribe() else {
                try? await writer.write(fullText)
                return
            }
            defer { unsubscribe(follower.id) }
            do {
                try await writer.write("retry: 2000\nevent: hello\ndata: \(follower.version)\n\n")
                for await message in follower.messages {
                    try await writer.write(Self.text(message))
                }
            } catch {
                // The client went away.
            }
        }
    }

    /// Whether the UI has shut down (no stream is started any more).
    public var isClosed: Bool { state.withLock { $0.closed } }
}
