public import Foundation
import NIOConcurrencyHelpers

/// Why the control plane keeps an endpoint out of rotation: `GET /v1/endpoints`'
/// `"drain": {"by": "berth"|"hand", "since": RFC3339, "until": RFC3339}`. `berth` drains
/// name a hold (`until`): the executor asked and stops the replica before then; `hand`
/// drains (a control call without `holdMs`) have no end but `POST /v1/ready` or a stop.
public struct DrainMark: Sendable, Hashable, Codable {
    public enum By: String, Sendable, Hashable, Codable {
        case berth, hand
    }

    public var by: By
    /// When the drain was asked, RFC 3339 UTC.
    public var since: String
    /// When its hold ends (a `berth` drain), RFC 3339 UTC; absent for a drain by hand.
    public var until: String?

    public init(by: By, since: String, until: String? = nil) {
        self.by = by
        self.since = since
        self.until = until
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)))
    }
}

/// A drain the table holds: its mark, and when its hold ends (nil: by hand).
struct Retirement: Sendable, Hashable {
    var mark: DrainMark
    var hold: Duration?
    var ends: ContinuousClock.Instant?
}

/// A drain whose hold passed while its instance still ran (`EndpointTable.expireDrains`).
public struct ExpiredDrain: Sendable, Hashable {
    public var instance: String
    public var service: String
    /// How long the drain held it.
    public var hold: Duration
    /// The state it is back in (what its probes said last).
    public var state: EndpointState
}

extension EndpointTable {
    // MARK: - Draining

    /// Retires `instance`: from now on it gets no new connection. Returns once its last
    /// open connection has closed, or when `grace` has passed (then `drained` is false and
    /// `remaining` says how many were still open). An unknown instance is remembered as
    /// retired (so it never becomes ready later) and returns at once.
    ///
    /// With a `hold` (the executor's: its drain grace, the stop timeout and a margin), the
    /// retirement ends `hold` after this call if the instance still runs then: whoever
    /// asked for it meant to stop it by then and is gone (`expireDrains`). Without one it
    /// is a drain by hand: it lasts until `markReady`, or until the instance stops.
    ///
    /// The answer never waits past the deadline (`grace` after the call) by more than the
    /// scheduling of one task: the timeout answers a waiter registered by then, and a drain
    /// that comes to wait only after its deadline (its timeout already fired and found no
    /// waiter) answers at once. Both read the clock under the lock, so one of them always
    /// answers.
    public func drain(_ instance: String, grace: Duration, hold: Duration? = nil, wallClock: Date = Date()) async
        -> DrainResult
    {
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = started + grace
        let retirement = Retirement(
            mark: DrainMark(
                by: hold == nil ? .hand : .berth, since: DrainMark.timestamp(wallClock),
                until: hold.map { DrainMark.timestamp(wallClock.addingTimeInterval(Self.seconds($0))) }),
            hold: hold, ends: hold.map { started + $0 })
        let waiterID: Int? = box.withLockedValue { s in
            s.retired[instance] = retirement
            guard var entry = s.entries[instance] else { return nil }
            if entry.state != .draining { entry.undrained = entry.state }
            entry.state = .draining
            s.entries[instance] = entry
            if entry.active == 0 { return nil }
            s.nextWaiter += 1
            return s.nextWaiter
        }
        guard let waiterID else {
            let known = box.withLockedValue { $0.entries[instance] != nil }
            return DrainResult(instance: instance, drained: true, remaining: 0, known: known, waitedMs: 0)
        }
        let timeout = Task { [box] in
            // Acts only at or after the deadline (a sleep may end early), so a waiter that
            // registers after this took the lock sees its deadline passed.
            while clock.now < deadline {
                do { try await Task.sleep(until: deadline, clock: clock) } catch { return }
            }
            let taken: (Waiter, Int)? = box.withLockedValue { s in
                guard let waiter = s.waiters.removeValue(forKey: waiterID) else { return nil }
                return (waiter, s.entries[instance]?.active ?? 0)
            }
            if let (waiter, remaining) = taken {
                waiter.continuation.resume(
                    returning: DrainResult(
                        instance: instance, drained: remaining == 0, remaining: remaining, known: true, waitedMs: 0))
            }
        }
        await drainWillWait?(instance)
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<DrainResult, Never>) in
            let answer: DrainResult? = box.withLockedValue { s in
                let remaining = s.entries[instance]?.active ?? 0
                // Drained meanwhile (between marking and registering)?
                if remaining == 0 {
                    return DrainResult(instance: instance, drained: true, remaining: 0, known: true, waitedMs: 0)
                }
                // The deadline passed before this drain came to wait: its timeout found no
                // waiter, so nothing else would answer before the connections close.
                if clock.now >= deadline {
                    return DrainResult(instance: instance, drained: false, remaining: remaining, known: true, waitedMs: 0)
                }
                s.waiters[waiterID] = Waiter(id: waiterID, instance: instance, started: started, continuation: continuation)
                return nil
            }
            if let answer { continuation.resume(returning: answer) }
        }
        timeout.cancel()
        var final = result
        final.waitedMs = Self.millis(clock.now - started)
        return final
    }

    static func takeWaiters(
        _ s: inout State, instance: String, remaining: Int, drained: Bool, known: Bool
    ) -> [(CheckedContinuation<DrainResult, Never>, DrainResult)] {
        let ids = s.waiters.values.filter { $0.instance == instance }.map(\.id)
        return ids.compactMap { id in
            guard let waiter = s.waiters.removeValue(forKey: id) else { return nil }
            return (
                waiter.continuation,
                DrainResult(instance: instance, drained: drained, remaining: remaining, known: known, waitedMs: 0)
            )
        }
    }

    static func millis(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// Ends every drain whose hold has passed at `now` while its instance still runs (not
    /// stopping, not gone): the instance is back in the state its start and probes gave it
    /// (ready, or starting/unhealthy until a probe passes), and counted in `drainsExpired`.
    /// Drains by hand never end here. Returns them sorted by instance, for one log line each.
    public func expireDrains(now: ContinuousClock.Instant) -> [ExpiredDrain] {
        box.withLockedValue { s in
            var expired: [ExpiredDrain] = []
            for (instance, retirement) in s.retired.sorted(by: { $0.key < $1.key }) {
                guard let ends = retirement.ends, let hold = retirement.hold, ends <= now else { continue }
                s.retired[instance] = nil
                guard var entry = s.entries[instance], !s.halted.contains(instance) else { continue }
                entry.state = entry.undrained == .draining ? .starting : entry.undrained
                s.entries[instance] = entry
                s.drainsExpired += 1
                expired.append(
                    ExpiredDrain(instance: instance, service: entry.endpoint.service, hold: hold, state: entry.state))
            }
            return expired
        }
    }

    /// When the next drain's hold ends, if any drain has one.
    public var nextDrainExpiry: ContinuousClock.Instant? {
        box.withLockedValue { s in s.retired.values.compactMap(\.ends).min() }
    }

    /// Drains whose hold passed while their instance still ran, since the table was made.
    public var drainsExpired: Int { box.withLockedValue { $0.drainsExpired } }

    /// The drains by hand in force on known endpoints, sorted by instance.
    public func handDrains() -> [(instance: String, service: String, since: String)] {
        box.withLockedValue { s in
            s.retired.compactMap { instance, retirement in
                guard retirement.mark.by == .hand, let entry = s.entries[instance], !s.halted.contains(instance) else {
                    return nil
                }
                return (instance, entry.endpoint.service, retirement.mark.since)
            }.sorted { $0.instance < $1.instance }
        }
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        let (seconds, attoseconds) = duration.components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
