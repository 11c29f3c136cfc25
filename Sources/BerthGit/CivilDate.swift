/// Days since 1970-01-01 ↔ year, month, day on the proleptic Gregorian calendar (Howard
/// Hinnant's algorithms), in plain integer arithmetic: one copy for commit dates and the
/// journal's timestamps. Callers keep the day count within the years 0001–9999
/// (`CivilDate.earliestSecond...latestSecond`), so nothing here can overflow.
public enum CivilDate {
    /// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, in seconds since 1970.
    public static let earliestSecond: Int64 = -62_135_596_800
    public static let latestSecond: Int64 = 253_402_300_799

    /// `a / b` rounded toward minus infinity (`b` > 0).
    public static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return a % b < 0 ? q - 1 : q
    }

    public static func days(year: Int64, month m: Int64, day d: Int64) -> Int64 {
        let y = m <= 2 ? year - 1 : year
        let era = floorDivide(y, 400)
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public static func civil(days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    public static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// `n` in decimal, zero-padded to `width` digits.
    public static func padded(_ n: Int64, _ width: Int) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    /// `YYYY-MM-DDTHH:MM:SS` of `seconds` since 1970 (UTC, or already shifted to an offset),
    /// clamped to the years 0001–9999.
    public static func dateTime(seconds: Int64) -> String {
        let t = min(max(seconds, earliestSecond), latestSecond)
        let days = floorDivide(t, 86_400)
        let rest = t - days * 86_400
        let (y, m, d) = civil(days: days)
        return padded(y, 4) + "-" + padded(m, 2) + "-" + padded(d, 2) + "T" + padded(rest / 3600, 2) + ":"
            + padded(rest % 3600 / 60, 2) + ":" + padded(rest % 60, 2)
    }
}
