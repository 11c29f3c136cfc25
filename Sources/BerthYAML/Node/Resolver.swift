/// YAML 1.2 core-schema resolution of scalars.
///
/// Only `true/True/TRUE/false/False/FALSE` are booleans; `null/Null/NULL/~` and the empty
/// plain scalar are null; integers are decimal (optionally signed), `0o…` octal or `0x…`
/// hexadecimal; floats as the core schema spells them. Everything else, `yes`, `no`, `on`,
/// `off` and `0755` included, is a string. Quoted and block scalars are always strings.
/// An explicit tag (`!!str`, `!!int`, …) wins over the plain-scalar rules.
extension Scalar {
    public var resolved: ResolvedScalar {
        switch tag {
        case nil, "!":
            break
        case YAMLTag.str:
            return .string(value)
        case YAMLTag.null:
            return .null
        case YAMLTag.bool:
            return CoreSchema.bool(value).map(ResolvedScalar.bool) ?? .string(value)
        case YAMLTag.int:
            return CoreSchema.int(value).map(ResolvedScalar.int) ?? .string(value)
        case YAMLTag.float:
            if let i = CoreSchema.int(value) { return .float(Double(i)) }
            return CoreSchema.float(value).map(ResolvedScalar.float) ?? .string(value)
        default:
            return .string(value)
        }
        if tag == "!" || style != .plain { return .string(value) }
        return CoreSchema.resolvePlain(value)
    }

    /// `resolved == .null`, without building the resolved value.
    public var resolvesToNull: Bool {
        if tag == nil { return style == .plain && CoreSchema.isNull(value) }
        if case .null = resolved { return true }
        return false
    }

    /// The integer `resolved` holds, or nil; without building the resolved value.
    public var resolvedInt: Int? {
        if tag == nil {
            guard style == .plain, let first = value.utf8.first else { return nil }
            switch first {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."):
                return CoreSchema.int(value)
            default:
                return nil
            }
        }
        if case .int(let n) = resolved { return n }
        return nil
    }

    /// True for `yes/no/on/off` (any case as YAML 1.1 spelled them): strings in YAML 1.2,
    /// booleans in YAML 1.1. Used to warn where a boolean is expected.
    public var isYAML11Boolean: Bool {
        style == .plain && tag == nil && CoreSchema.yaml11Booleans.contains(value)
    }
}

public enum YAMLTag {
    public static let str = "tag:yaml.org,2002:str"
    public static let int = "tag:yaml.org,2002:int"
    public static let float = "tag:yaml.org,2002:float"
    public static let bool = "tag:yaml.org,2002:bool"
    public static let null = "tag:yaml.org,2002:null"
    public static let map = "tag:yaml.org,2002:map"
    public static let seq = "tag:yaml.org,2002:seq"
    public static let merge = "tag:yaml.org,2002:merge"
}

@usableFromInline
enum CoreSchema {
    static let yaml11Booleans: Set<String> = [
        "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N",
    ]

    static func resolvePlain(_ s: String) -> ResolvedScalar {
        guard let first = s.utf8.first else { return .null }
        // Fast path: most scalars start with a letter that can begin no special value.
        switch first {
        case UInt8(ascii: "n"), UInt8(ascii: "N"), UInt8(ascii: "~"):
            if isNull(s) { return .null }
        case UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "f"), UInt8(ascii: "F"):
            if let b = bool(s) { return .bool(b) }
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."):
            if let i = int(s) { return .int(i) }
            if let d = float(s) { return .float(d) }
        default:
            break
        }
        return .string(s)
    }

    static func isNull(_ s: String) -> Bool { isNull(utf8: s.utf8.span) }

    /// `null`, `Null`, `NULL`, `~` or empty.
    @usableFromInline
    static func isNull(utf8 b: Span<UInt8>) -> Bool {
        switch b.count {
        case 0: return true
        case 1: return b[0] == UInt8(ascii: "~")
        case 4:
            let (c0, c1, c2, c3) = (b[0], b[1], b[2], b[3])
            if c0 == UInt8(ascii: "n") { return c1 == UInt8(ascii: "u") && c2 == UInt8(ascii: "l") && c3 == UInt8(ascii: "l") }
            if c0 != UInt8(ascii: "N") { return false }
            return (c1 == UInt8(ascii: "u") && c2 == UInt8(ascii: "l") && c3 == UInt8(ascii: "l"))
                || (c1 == UInt8(ascii: "U") && c2 == UInt8(ascii: "L") && c3 == UInt8(ascii: "L"))
        default: return false
        }
    }

    static func bool(_ s: String) -> Bool? {
        switch s {
        case "true", "True", "TRUE": true
        case "false", "False", "FALSE": false
        default: nil
        }
    }

    /// `[-+]?[0-9]+`, `0o[0-7]+`, `0x[0-9a-fA-F]+`; nil on overflow or anything else.
    static func int(_ s: String) -> Int? { int(utf8: s.utf8.span) }

    /// The integer a plain untagged scalar resolves to, or nil (`Scalar.resolvedInt`).
    @usableFromInline
    static func plainInt(utf8 u: Span<UInt8>) -> Int? {
        guard !u.isEmpty else { return nil }
        switch u[0] {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."):
            return int(utf8: u)
        default:
            return nil
        }
    }

    @usableFromInline
    static func int(utf8 u: Span<UInt8>) -> Int? {
        guard !u.isEmpty else { return nil }
        if u.count > 2, u[0] == UInt8(ascii: "0"), u[1] == UInt8(ascii: "o") {
            return digits(u, from: 2, radix: 8).flatMap { Int(exactly: $0) }
        }
        if u.count > 2, u[0] == UInt8(ascii: "0"), u[1] == UInt8(ascii: "x") {
            return digits(u, from: 2, radix: 16).flatMap { Int(exactly: $0) }
        }
        var start = 0
        var negative = false
        if u[0] == UInt8(ascii: "-") || u[0] == UInt8(ascii: "+") {
            negative = u[0] == UInt8(ascii: "-")
            start = 1
        }
        guard let magnitude = digits(u, from: start, radix: 10) else { return nil }
        if negative {
            // Int.min's magnitude is one more than Int.max.
            guard magnitude <= UInt(Int.max) + 1 else { return nil }
            return Int(truncatingIfNeeded: 0 &- magnitude)
        }
        return Int(exactly: magnitude)
    }

    @usableFromInline
    static func digits(_ u: Span<UInt8>, from start: Int, radix: UInt) -> UInt? {
        guard start < u.count else { return nil }
        var n: UInt = 0
        for i in start..<u.count {
            let c = u[i]
            let d: UInt
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt(c - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt(c - UInt8(ascii: "A")) + 10
            default: return nil
            }
            guard d < radix else { return nil }
            let (m, o1) = n.multipliedReportingOverflow(by: radix)
            let (a, o2) = m.addingReportingOverflow(d)
            if o1 || o2 { return nil }
            n = a
        }
        return n
    }

    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, `[-+]?\.(inf|Inf|INF)`, `\.(nan|NaN|NAN)`.
    static func float(_ s: String) -> Double? {
        switch s {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .infinity
        case "-.inf", "-.Inf", "-.INF": return -.infinity
        case ".nan", ".NaN", ".NAN": return .nan
        default: break
        }
        let u = s.utf8.span
        var i = 0
        if i < u.count, u[i] == UInt8(ascii: "-") || u[i] == UInt8(ascii: "+") { i += 1 }
        var intDigits = 0
        while i < u.count, isDigit(u[i]) { i += 1; intDigits += 1 }
        var fracDigits = 0
        if i < u.count, u[i] == UInt8(ascii: ".") {
            i += 1
            while i < u.count, isDigit(u[i]) { i += 1; fracDigits += 1 }
        }
        guard intDigits > 0 || fracDigits > 0 else { return nil }
        if i < u.count, u[i] == UInt8(ascii: "e") || u[i] == UInt8(ascii: "E") {
            i += 1
            if i < u.count, u[i] == UInt8(ascii: "-") || u[i] == UInt8(ascii: "+") { i += 1 }
            var expDigits = 0
            while i < u.count, isDigit(u[i]) { i += 1; expDigits += 1 }
            guard expDigits > 0 else { return nil }
        }
        guard i == u.count else { return nil }
        return Double(s)
    }

    private static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
}
