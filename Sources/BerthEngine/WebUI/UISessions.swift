public import Foundation
import Synchronization

/// The web UI's sessions, in memory only (a restarted watch forgets them: log in again).
///
/// Logging in trades the API token for a session cookie `selector.validator`: the
/// selector (16 random bytes) finds the session, the validator (32 random bytes) is
/// compared in constant time, so the time a lookup takes says nothing about a secret.
/// Each session has its own CSRF token (32 random bytes), which every form of the page
/// carries and every POST must send back (the synchronizer-token pattern). A session ends
/// after `idleTimeout` without use, or `maxAge` after it began, or on log-out; at most
/// `maxSessions` live (the oldest goes first).
///
/// The log-in form itself carries a one-time nonce from `issueNonce` (at most `maxNonces`
/// outstanding, each valid `nonceLifetime`), so a form posted from another site is refused.
public final class UISessions: Sendable {
    public struct Session: Sendable, Hashable {
        public var selector: String
        var validator: String
        public var csrf: String
        public var created: Date
        public var lastUsed: Date
    }

    private struct State {
        var sessions: [String: Session] = [:]
        /// Nonce → when it was issued.
        var nonces: [(nonce: String, issued: Date)] = []
    }

    private let state = Mutex(State())
    public let idleTimeout: TimeInterval
    public let maxAge: TimeInterval
    public let maxSessions: Int
    public let maxNonces: Int
    public let nonceLifetime: TimeInterval

    public init(
        idleTimeout: TimeInterval = 3600, maxAge: TimeInterval = 12 * 3600, maxSessions: Int = 256, maxNonces: Int = 128,
        nonceLifetime: TimeInterval = 600
    ) {
        self.idleTimeout = idleTimeout
        self.maxAge = maxAge
        self.maxSessions = max(1, maxSessions)
        self.maxNonces = max(1, maxNonces)
        self.nonceLifetime = nonceLifetime
    }

    /// A new session: the cookie value to set and the session's CSRF token.
    public func create(now: Date) -> (cookie: String, session: Session) {
        let session = Session(
            selector: Self.randomHex(bytes: 16), validator: Self.randomHex(bytes: 32), csrf: Self.randomHex(bytes: 32),
            created: now, lastUsed: now)
        state.withLock { s in
            s.sessions = s.sessions.filter { live($0.value, now: now) }
            while s.sessions.count >= maxSessions, let oldest = s.sessions.values.min(by: { $0.created < $1.created }) {
                s.sessions[oldest.selector] = nil
            }
            s.sessions[session.selector] = session
        }
        return (session.selector + "." + session.validator, session)
    }

    /// The live session a cookie value names (its last use set to `now`), else nil.
    public func session(cookie: String, now: Date) -> Session? {
        guard let (selector, validator) = Self.split(cookie) else { return nil }
        return state.withLock { s in
            guard var session = s.sessions[selector] else { return nil }
            guard ConstantTime.equal(validator, session.validator) else { return nil }
            guard live(session, now: now) else {
                s.sessions[selector] = nil
                return nil
            }
            session.lastUsed = now
            s.sessions[selector] = session
            return session
        }
    }

    /// Ends the session a cookie value names (log-out).
    public func remove(cookie: String) {
        guard let (selector, validator) = Self.split(cookie) else { return }
        state.withLock { s in
            if let session = s.sessions[selector], ConstantTime.equal(validator, session.validator) {
                s.sessions[selector] = nil
            }
        }
    }

    public var count: Int { state.withLock { $0.sessions.count } }

    /// A one-time nonce for a log-in form.
    public func issueNonce(now: Date) -> String {
        let nonce = Self.randomHex(bytes: 16)
        state.withLock { s in
            s.nonces.removeAll { now.timeIntervalSince($0.issued) > nonceLifetime }
            if s.nonces.count >= maxNonces { s.nonces.removeFirst(s.nonces.count - maxNonces + 1) }
            s.nonces.append((nonce, now))
        }
        return nonce
    }

    /// Whether `nonce` was issued, is still valid and unused; it is used up either way.
    public func consumeNonce(_ nonce: String, now: Date) -> Bool {
        state.withLock { s in
            var found: Int?
            // Every outstanding nonce is compared, in constant time each.
            for (i, entry) in s.nonces.enumerated() where ConstantTime.equal(entry.nonce, nonce) { found = i }
            guard let found else { return false }
            let issued = s.nonces[found].issued
            s.nonces.remove(at: found)
            return now.timeIntervalSince(issued) <= nonceLifetime
        }
    }

    private func live(_ session: Session, now: Date) -> Bool {
        now.timeIntervalSince(session.lastUsed) <= idleTimeout && now.timeIntervalSince(session.created) <= maxAge
    }

    private static func split(_ cookie: String) -> (String, String)? {
        let parts = cookie.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return (String(parts[0]), String(parts[1]))
    }

    /// `bytes` from the system's cryptographic generator (getrandom on Linux), as hex.
    static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return CSRFMask.hex((0..<bytes).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }
}
