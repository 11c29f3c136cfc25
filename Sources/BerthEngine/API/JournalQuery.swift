public import Foundation

/// Reading `--since` and `GET /api/v1/journal?service=&since=&limit=`. Every number here comes
/// from outside (a flag, an unauthenticated query string), so each is checked against its
/// range before any arithmetic, and a refusal says what is accepted.
public enum JournalQuery {
    /// The furthest back a duration may reach: 100 years (36525d).
    public static let maxLookBack: TimeInterval = 36525 * 86400
    /// The most records one API request returns.
    public static let maxLimit = 10_000
    public static let defaultLimit = 50

    /// What a journal request asks for, checked.
    public struct Parameters: Sendable, Hashable {
        public var service: String?
        /// RFC 3339, as the journal stores times.
        public var since: String?
        public var limit: Int
    }

    /// Why a request was refused (answered with 400).
    public struct Refusal: Error, Sendable, Hashable {
        public var message: String
    }

    /// An RFC 3339 time, a date, or a duration back from `now`: plain decimal digits (an
    /// optional fraction) and one unit of `s`, `m`, `h`, `d`, `w`, at most `maxLookBack`.
    /// Nil for anything else: `1e308d`, `infd`, `0x10d`, `-5d` and `36526d` included.
    public static func since(_ text: String, now: Date) -> Date? {
        if let date = Timestamp.date(text) { return date }
        let units: [UInt8: Double] = [0x73: 1, 0x6D: 60, 0x68: 3600, 0x64: 86400, 0x77: 604_800]
        let bytes = Array(text.utf8)
        guard let unit = bytes.last, let factor = units[unit] else { return nil }
        let number = bytes.dropLast()
        let parts = number.split(separator: UInt8(ascii: "."), maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, (1...15).contains(whole.count), parts.count == 1 || (1...9).contains(parts[1].count),
            number.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: ".") }),
            let n = Double(String(decoding: number, as: UTF8.self))
        else { return nil }
        // At most 15 digits: n * factor is finite, and is compared before it is used.
        let seconds = n * factor
        guard seconds <= maxLookBack else { return nil }
        return now.addingTimeInterval(-seconds)
    }

    static let sinceExpectation = "an RFC 3339 time (2026-01-31T10:00:00Z), a date (2026-01-31) or a duration of at most 100 years (90m, 24h, 7d)"

    /// The API's query parameters, checked: `since` as `since(_:now:)` reads it, `limit` an
    /// integer from 0 to `maxLimit` (default `defaultLimit`), `service` any text.
    public static func parameters(_ query: [String: String], now: Date) -> Result<Parameters, Refusal> {
        var limit = defaultLimit
        if let text = query["limit"] {
            guard let n = Int(text), (0...maxLimit).contains(n) else {
                return .failure(Refusal(message: "limit: expected an integer from 0 to \(maxLimit), found \"\(text)\""))
            }
            limit = n
        }
        var since: String?
        if let text = query["since"] {
            guard let date = Self.since(text, now: now) else {
                return .failure(Refusal(message: "since: expected \(sinceExpectation), found \"\(text)\""))
            }
            since = Timestamp.string(date)
        }
        return .success(Parameters(service: query["service"], since: since, limit: limit))
    }
}
