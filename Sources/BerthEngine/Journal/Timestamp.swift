public import Foundation
import BerthGit

/// RFC 3339 UTC timestamps with milliseconds, as the journal stores them (they sort as text):
/// `2026-01-31T10:00:00.000Z`.
///
/// Both directions are plain integer arithmetic on the proleptic Gregorian calendar, total
/// over their input: any `Date` (infinite, NaN, a million years away) formats, clamped to the
/// years 0001–9999 that RFC 3339 can spell; any text parses or is nil. Foundation's
/// `ISO8601DateFormatter` was not: converting a far date to `Int64` trapped (issue 18: one
/// `?since=1e308d` took `berth watch` down), and it reads years before 1582 as Julian.
public enum Timestamp {
    /// 0001-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z, in milliseconds since 1970.
    public static let earliestMilliseconds: Int64 = CivilDate.earliestSecond * 1000
    public static let latestMilliseconds: Int64 = CivilDate.latestSecond * 1000 + 999

    public static func string(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        let ms: Int64
        if !(seconds * 1000 >= Double(earliestMilliseconds)) {  // NaN lands here too
            ms = earliestMilliseconds
        } else if seconds * 1000 >= Double(latestMilliseconds) {
            ms = latestMilliseconds
        } else {
            ms = Int64((seconds * 1000).rounded(.down))
        }
        return string(milliseconds: ms)
    }

    /// `ms` since 1970, clamped to years 0001–9999.
    public static func string(milliseconds: Int64) -> String {
        let ms = min(max(milliseconds, earliestMilliseconds), latestMilliseconds)
        let seconds = CivilDate.floorDivide(ms, 1000)
        return CivilDate.dateTime(seconds: seconds) + "." + CivilDate.padded(ms - seconds * 1000, 3) + "Z"
    }

    /// Parses `2026-01-31`, `2026-01-31T10:00:00Z`, `2026-01-31T10:00:00.123+02:00` (`T`, `t`
    /// or a space; `Z`, `z` or an offset; any digits of fraction, cut to milliseconds). Nil
    /// for anything else, an impossible date or time (`2026-02-30`, `25:00`), or an instant
    /// outside the years 0001–9999 in UTC.
    public static func date(_ text: String) -> Date? {
        milliseconds(text).map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }

    public static func milliseconds(_ text: String) -> Int64? {
        var s = Array(text.utf8)[...]
        func digits(_ n: Int) -> Int64? {
            guard s.count >= n else { return nil }
            var v: Int64 = 0
            for b in s.prefix(n) {
                guard b >= 0x30 && b <= 0x39 else { return nil }
                v = v * 10 + Int64(b - 0x30)
            }
            s = s.dropFirst(n)
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard s.first == c else { return false }
            s = s.dropFirst()
            return true
        }
        guard let y = digits(4), expect(0x2D), let m = digits(2), expect(0x2D), let d = digits(2) else { return nil }
        guard y >= 1, (1...12).contains(m), d >= 1, d <= CivilDate.daysIn(month: m, year: y) else { return nil }
        var ms = CivilDate.days(year: y, month: m, day: d) * 86_400_000
        if !s.isEmpty {
            guard let t = s.first, t == UInt8(ascii: "T") || t == UInt8(ascii: "t") || t == 0x20 else { return nil }
            s = s.dropFirst()
            guard let hh = digits(2), expect(0x3A), let mm = digits(2), expect(0x3A), let ss = digits(2),
                hh < 24, mm < 60, ss < 60
            else { return nil }
            ms += hh * 3_600_000 + mm * 60_000 + ss * 1000
            if expect(0x2E) {
                let fraction = s.prefix { $0 >= 0x30 && $0 <= 0x39 }
                guard !fraction.isEmpty, fraction.count <= 18 else { return nil }
                var milli: Int64 = 0
                for (i, b) in fraction.prefix(3).enumerated() { milli += Int64(b - 0x30) * [100, 10, 1][i] }
                ms += milli
                s = s.dropFirst(fraction.count)
            }
            if expect(UInt8(ascii: "Z")) || expect(UInt8(ascii: "z")) {
            } else if let sign = s.first, sign == 0x2B || sign == 0x2D {
                s = s.dropFirst()
                guard let oh = digits(2), expect(0x3A), let om = digits(2), oh < 24, om < 60 else { return nil }
                let offset = oh * 3_600_000 + om * 60_000
                ms += sign == 0x2B ? -offset : offset
            } else {
                return nil
            }
            guard s.isEmpty else { return nil }
        }
        guard ms >= earliestMilliseconds && ms <= latestMilliseconds else { return nil }
        return ms
    }
}
