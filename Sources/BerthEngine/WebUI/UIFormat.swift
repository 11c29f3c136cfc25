public import Foundation

/// How the web UI writes times, durations, rates and ids. `app.js` repeats `relative` so a
/// page's times keep counting between updates; both must say the same.
public enum UIFormat {
    /// `just now`, `12 s ago`, `3 min ago`, `2 h ago`, `4 d ago`; in the future `in 12 s`.
    public static func relative(_ date: Date, now: Date) -> String {
        let seconds = Int((now.timeIntervalSince(date)).rounded())
        let magnitude = abs(seconds)
        if magnitude < 2 { return seconds >= 0 ? "just now" : "now" }
        let amount: String
        switch magnitude {
        case ..<60: amount = "\(magnitude) s"
        case ..<3600: amount = "\(magnitude / 60) min"
        case ..<86_400: amount = "\(magnitude / 3600) h"
        default: amount = "\(magnitude / 86_400) d"
        }
        return seconds > 0 ? "\(amount) ago" : "in \(amount)"
    }

    /// A `<time>` element that `app.js` keeps current: `data-t` holds Unix seconds (digits,
    /// so the value needs no quotes).
    public static func time(_ date: Date, now: Date) -> HTML {
        "<time data-t=\(Int(date.timeIntervalSince1970.rounded(.down)))>\(relative(date, now: now))</time>"
    }

    /// The same with the absolute time (RFC 3339 UTC) as a tooltip.
    public static func timeWithTitle(_ date: Date, now: Date) -> HTML {
        "<time data-t=\"\(Int(date.timeIntervalSince1970.rounded(.down)))\" title=\"\(rfc3339(date))\">\(relative(date, now: now))</time>"
    }

    public static func rfc3339(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// `340 ms`, `2.4 s`, `1 min 12 s`.
    public static func duration(milliseconds ms: Int) -> String {
        if ms < 1000 { return "\(ms) ms" }
        if ms < 60_000 {
            let tenths = (ms + 50) / 100
            return tenths % 10 == 0 ? "\(tenths / 10) s" : "\(tenths / 10).\(tenths % 10) s"
        }
        let s = ms / 1000
        return s % 60 == 0 ? "\(s / 60) min" : "\(s / 60) min \(s % 60) s"
    }

    /// Requests per second: `0`, `0.4`, `12.5`, `340`.
    public static func rate(_ value: Double) -> String {
        if value <= 0 { return "0" }
        if value >= 100 { return String(Int(value.rounded())) }
        let tenths = Int((value * 10).rounded())
        return tenths % 10 == 0 ? String(tenths / 10) : "\(tenths / 10).\(tenths % 10)"
    }

    /// A container id as `docker ps` shows it: a hexadecimal id cut to 12 characters; any
    /// other (a task id, a test's name) whole.
    public static func shortID(_ id: String) -> String {
        id.count > 12 && id.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
            ? String(id.prefix(12)) : id
    }

    /// A commit id shortened to 7 characters.
    public static func shortCommit(_ id: String) -> String { String(id.prefix(7)) }

    /// The first line of a commit message.
    public static func subject(_ message: String) -> String {
        let trimmed = message.drop { $0 == "\n" || $0 == "\r" }
        return String(trimmed.prefix { $0 != "\n" && $0 != "\r" })
    }

    /// `1 replica`, `3 replicas`.
    public static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
}
