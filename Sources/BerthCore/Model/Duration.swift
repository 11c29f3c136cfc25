/// A manifest duration (`250ms`, `2s`, `1m30s`), held in milliseconds.
public struct Millis: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(_ milliseconds: Int64) { self.milliseconds = milliseconds }
    public static func seconds(_ s: Int64) -> Millis { Millis(s * 1000) }
    public static let zero = Millis(0)

    public static func < (a: Millis, b: Millis) -> Bool { a.milliseconds < b.milliseconds }

    /// Canonical spelling: `0s`, `250ms`, `2s`, `1m30s`, `1h`, `1m0.5s` is spelled `1m500ms`.
    public var description: String {
        if milliseconds == 0 { return "0s" }
        var out = milliseconds < 0 ? "-" : ""
        // The magnitude as unsigned: `abs(Int64.min)` would trap.
        var ms = milliseconds.magnitude
        let h = ms / 3_600_000; ms %= 3_600_000
        let m = ms / 60_000; ms %= 60_000
        let s = ms / 1000; ms %= 1000
        if h > 0 { out += "\(h)h" }
        if m > 0 { out += "\(m)m" }
        if s > 0 { out += "\(s)s" }
        if ms > 0 { out += "\(ms)ms" }
        return out
    }

    /// Parses `1h2m3s`, `250ms`, `1.5s`, `90s`; units h, m, s, ms. Nil when malformed.
    /// Integer arithmetic only: fractions below a millisecond are truncated.
    public init?(parsing text: String) {
        var total: Int64 = 0
        var rest = Substring(text)
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let whole = rest.prefix { $0.isASCII && $0.isNumber }
            rest = rest.dropFirst(whole.count)
            var fraction: Substring = ""
            if rest.first == "." {
                rest = rest.dropFirst()
                fraction = rest.prefix { $0.isASCII && $0.isNumber }
                rest = rest.dropFirst(fraction.count)
                guard !fraction.isEmpty else { return nil }
            }
            guard !whole.isEmpty || !fraction.isEmpty, whole.count <= 12 else { return nil }
            let unit = rest.prefix { $0.isASCII && $0.isLetter }
            rest = rest.dropFirst(unit.count)
            let scale: Int64
            switch unit {
            case "h": scale = 3_600_000
            case "m": scale = 60_000
            case "s": scale = 1000
            case "ms": scale = 1
            default: return nil
            }
            // At most 12 whole digits and 9 of the fraction: each part fits; their sum is
            // checked (`999999999999h` three times does not fit in 64 bits).
            var numerator: Int64 = 0, denominator: Int64 = 1
            for digit in fraction.prefix(9) {
                numerator = numerator * 10 + Int64(digit.asciiValue! - 48)
                denominator *= 10
            }
            for part in [(Int64(whole) ?? 0) * scale, numerator * scale / denominator] {
                let (sum, overflow) = total.addingReportingOverflow(part)
                guard !overflow else { return nil }
                total = sum
            }
        }
        self.milliseconds = total
    }
}
