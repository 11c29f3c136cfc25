public import BerthCore
public import Foundation
import Synchronization

/// Something a sync did, as the event bus hands it out: numbered in the order it happened
/// (`seq` starts at 1 with each process; `epoch` names the process, so a follower sees a
/// restart).
public struct SyncEvent: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// A sync (or a heal) starts to apply a plan of `steps` steps.
        case applying(trigger: SyncTrigger, commit: String?, steps: Int)
        /// One step of the apply: instances started, healthy, drained, stopped, the step's end.
        case step(ApplyEvent)
        /// The sync that applied something (or met a new commit) ended.
        case finished(trigger: SyncTrigger, commit: String?, result: SyncResult, durationMs: Int)
        /// The newest commit's manifests are invalid; the last good desired state keeps running.
        case invalidCommit(commit: String?, errors: [String])
        /// Git or the runtime could not be read, or planning failed.
        case error(String)
        /// Containers an interrupted run created and never started were removed.
        case swept([String])
        /// The operator's controls changed: a pin or replica override released by a commit
        /// (`message` says which).
        case control(service: String?, message: String)
        /// The new commit's history does not contain the last applied commit (a force-push,
        /// a branch reset); it is applied all the same: git is the source of truth.
        case historyRewritten(applied: String, new: String)
    }

    public var seq: Int
    public var time: Date
    public var kind: Kind

    /// One line for people, as `berth apply` prints it.
    public var line: String {
        switch kind {
        case .applying(let trigger, let commit, let steps):
            "applying \(steps) step\(steps == 1 ? "" : "s") (\(trigger.rawValue)\(commit.map { ", commit \($0.prefix(12))" } ?? ""))"
        case .step(let event): event.line
        case .finished(let trigger, let commit, let result, let ms):
            "sync \(result.rawValue) in \(ms) ms (\(trigger.rawValue)\(commit.map { ", commit \($0.prefix(12))" } ?? ""))"
        case .invalidCommit(let commit, let errors):
            "commit \(commit.map { String($0.prefix(12)) } ?? "?") has \(errors.count) error\(errors.count == 1 ? "" : "s") in its manifests; the last good desired state keeps running"
        case .error(let message): "error: \(message)"
        case .swept(let ids):
            "removed \(ids.count) container\(ids.count == 1 ? "" : "s") that an interrupted run created but never started: \(ids.map(shortID).joined(separator: ", "))"
        case .control(_, let message): message
        case .historyRewritten(let applied, let new): Self.historyRewritten(applied: applied, new: new)
        }
    }
}

extension SyncEvent {
    /// The line of a rewritten history, in the log, the events and the journal record of the
    /// sync that applies `new`: `history rewritten: a1b2c3d is not an ancestor of e4f5a6b
    /// (force-push?)`.
    public static func historyRewritten(applied: String, new: String) -> String {
        "history rewritten: \(applied.prefix(7)) is not an ancestor of \(new.prefix(7)) (force-push?)"
    }
}

/// The events of this process's syncs, broadcast: `berth apply` prints them as they come,
/// `GET /api/v1/events` hands them out (long-polling), and a web UI follows them. The last
/// `capacity` events are kept, so a follower that polls with the last `seq` it saw misses
/// nothing unless it fell that far behind. Publishing never waits for a follower.
public final class EventBus: Sendable {
    private struct State {
        var buffer: [SyncEvent] = []
        var nextSeq = 1
        var subscribers: [Int: AsyncStream<SyncEvent>.Continuation] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())
    public let capacity: Int
    /// Names this process's numbering: `seq` restarts at 1 when it changes.
    public let epoch: String

    public init(capacity: Int = 1000, epoch: String = UUID().uuidString.lowercased()) {
        self.capacity = max(1, capacity)
        self.epoch = epoch
    }

    /// Numbers `kind`, keeps it, and hands it to every subscriber.
    @discardableResult
    public func publish(_ kind: SyncEvent.Kind, at time: Date = Date()) -> SyncEvent {
        let (event, subscribers) = state.withLock { s in
            let event = SyncEvent(seq: s.nextSeq, time: time, kind: kind)
            s.nextSeq += 1
            s.buffer.append(event)
            if s.buffer.count > capacity { s.buffer.removeFirst(s.buffer.count - capacity) }
            return (event, Array(s.subscribers.values))
        }
        for continuation in subscribers { continuation.yield(event) }
        return event
    }

    /// The `seq` of the newest event (0 before the first).
    public var lastSeq: Int { state.withLock { $0.nextSeq - 1 } }

    /// The kept events after `seq`, oldest first. A `seq` beyond the newest (a follower of
    /// an earlier process) gets every kept event.
    public func events(after seq: Int, limit: Int = 500) -> [SyncEvent] {
        state.withLock { s in
            let from = seq >= s.nextSeq ? 0 : seq
            return Array(s.buffer.lazy.filter { $0.seq > from }.prefix(max(0, limit)))
        }
    }

    /// Every event from now on, until `cancel` is called with the returned id.
    public func subscribe(
        bufferingPolicy: AsyncStream<SyncEvent>.Continuation.BufferingPolicy = .unbounded
    ) -> (id: Int, events: AsyncStream<SyncEvent>) {
        let (stream, continuation) = AsyncStream<SyncEvent>.makeStream(bufferingPolicy: bufferingPolicy)
        let id = state.withLock { s in
            s.nextID += 1
            s.subscribers[s.nextID] = continuation
            return s.nextID
        }
        return (id, stream)
    }

    /// Ends a subscription: its stream finishes after the events it already holds.
    public func cancel(_ id: Int) {
        let continuation = state.withLock { $0.subscribers.removeValue(forKey: id) }
        continuation?.finish()
    }

    /// The kept events after `seq`; when there are none yet, waits up to `timeout` for the
    /// next one (a long poll). Empty when nothing happened meanwhile.
    public func next(after seq: Int, limit: Int = 500, timeout: Duration) async -> [SyncEvent] {
        let (id, stream) = subscribe(bufferingPolicy: .bufferingNewest(1))
        defer { cancel(id) }
        let ready = events(after: seq, limit: limit)
        if !ready.isEmpty || timeout <= .zero { return ready }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { for await _ in stream { return } }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
        return events(after: seq, limit: limit)
    }
}

/// `GET /api/v1/events`: `{"epoch", "events": [{"seq", "time", "type", "service", "message",
/// …}], "formatVersion": 1, "next"}`; `next` is the `after` of the following poll.
public struct EventsDocument: Sendable, Encodable {
    public var epoch: String
    public var events: [SyncEvent]
    public var next: Int

    public init(epoch: String, events: [SyncEvent], next: Int) {
        self.epoch = epoch
        self.events = events
        self.next = next
    }

    enum CodingKeys: String, CodingKey { case formatVersion, epoch, events, next }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(1, forKey: .formatVersion)
        try c.encode(epoch, forKey: .epoch)
        try c.encode(events, forKey: .events)
        try c.encode(next, forKey: .next)
    }

    public func jsonText() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(self), as: UTF8.self) + "\n"
    }
}

extension SyncEvent: Encodable {
    enum CodingKeys: String, CodingKey {
        case seq, time, type, service, message, trigger, commit, steps, result, durationMs, errors, instance, action,
            outcome, image
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(seq, forKey: .seq)
        try c.encode(Timestamp.string(time), forKey: .time)
        try c.encode(line, forKey: .message)
        switch kind {
        case .applying(let trigger, let commit, let steps):
            try c.encode("applying", forKey: .type)
            try c.encode(trigger, forKey: .trigger)
            try c.encodeIfPresent(commit, forKey: .commit)
            try c.encode(steps, forKey: .steps)
        case .finished(let trigger, let commit, let result, let ms):
            try c.encode("finished", forKey: .type)
            try c.encode(trigger, forKey: .trigger)
            try c.encodeIfPresent(commit, forKey: .commit)
            try c.encode(result, forKey: .result)
            try c.encode(ms, forKey: .durationMs)
        case .invalidCommit(let commit, let errors):
            try c.encode("invalidCommit", forKey: .type)
            try c.encodeIfPresent(commit, forKey: .commit)
            try c.encode(errors, forKey: .errors)
        case .error:
            try c.encode("error", forKey: .type)
        case .swept:
            try c.encode("swept", forKey: .type)
        case .control(let service, _):
            try c.encode("control", forKey: .type)
            try c.encodeIfPresent(service, forKey: .service)
        case .historyRewritten(_, let new):
            try c.encode("historyRewritten", forKey: .type)
            try c.encode(new, forKey: .commit)
        case .step(let event):
            try c.encode(event.service, forKey: .service)
            switch event.kind {
            case .stepStarted(let action, _):
                try c.encode("stepStarted", forKey: .type)
                try c.encode(action.rawValue, forKey: .action)
            case .waiting: try c.encode("waiting", forKey: .type)
            case .started(let id): try c.encode("instanceStarted", forKey: .type); try c.encode(id, forKey: .instance)
            case .healthy(let id): try c.encode("instanceHealthy", forKey: .type); try c.encode(id, forKey: .instance)
            case .notHealthy(let id, _): try c.encode("instanceNotHealthy", forKey: .type); try c.encode(id, forKey: .instance)
            case .draining(let id): try c.encode("instanceDraining", forKey: .type); try c.encode(id, forKey: .instance)
            case .stopped(let id): try c.encode("instanceStopped", forKey: .type); try c.encode(id, forKey: .instance)
            case .stopFailed(let id, _): try c.encode("instanceStopFailed", forKey: .type); try c.encode(id, forKey: .instance)
            case .notDrained: try c.encode("notDrained", forKey: .type)
            case .rollingBack: try c.encode("rollingBack", forKey: .type)
            case .pulling: try c.encode("pulling", forKey: .type)
            case .image(let digest): try c.encode("image", forKey: .type); try c.encode(digest, forKey: .image)
            case .stepFinished(let report):
                try c.encode("stepFinished", forKey: .type)
                try c.encode(report.step.action.rawValue, forKey: .action)
                try c.encode(report.outcome.word, forKey: .outcome)
                try c.encode(report.duration.wholeMilliseconds, forKey: .durationMs)
                try c.encodeIfPresent(report.image, forKey: .image)
            }
        }
    }
}
