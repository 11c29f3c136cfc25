/// A piece of HTML that is safe by construction: in `"<td>\(name)</td>" as HTML`, the
/// literal parts are markup and every interpolated `String` is escaped by `HTML.escape`,
/// the one escaping function of the web UI. Only another `HTML` value is inserted as is,
/// so text from git (commit messages, names, labels, env keys, file names, errors) can
/// never become markup. Attribute values are always written in double quotes.
public struct HTML: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringInterpolation {
    /// The markup.
    public private(set) var text: String

    public var description: String { text }

    public init() { text = "" }

    public init(stringLiteral value: String) { text = value }

    public init(stringInterpolation: StringInterpolation) { text = stringInterpolation.text }

    /// Markup that is not a literal: only for assets compiled into the binary.
    init(trusted markup: String) { text = markup }

    /// `text`, escaped (a text node or a double-quoted attribute value).
    public init(escaping text: String) { self.text = HTML.escape(text) }

    public struct StringInterpolation: StringInterpolationProtocol {
        var text = ""

        public init(literalCapacity: Int, interpolationCount: Int) {
            text.reserveCapacity(literalCapacity + interpolationCount * 16)
        }

        public mutating func appendLiteral(_ literal: String) { text += literal }

        /// Text: escaped.
        public mutating func appendInterpolation(_ value: String) { HTML.escape(value, into: &text) }

        /// Text: escaped.
        public mutating func appendInterpolation(_ value: Substring) { HTML.escape(String(value), into: &text) }

        /// Markup that is itself an `HTML` value: as is.
        public mutating func appendInterpolation(_ value: HTML) { text += value.text }

        /// Pieces of markup, one after the other.
        public mutating func appendInterpolation(_ values: [HTML]) { for v in values { text += v.text } }

        public mutating func appendInterpolation(_ value: Int) { text += String(value) }
    }

    public static func + (a: HTML, b: HTML) -> HTML { HTML(trusted: a.text + b.text) }

    public static func += (a: inout HTML, b: HTML) { a.text += b.text }

    /// The pieces joined by `separator`.
    public static func join(_ pieces: [HTML], separator: HTML = "") -> HTML {
        var out = HTML()
        for (i, piece) in pieces.enumerated() {
            if i > 0 { out += separator }
            out += piece
        }
        return out
    }

    /// The web UI's one escaping function: `&`, `<`, `>`, `"` and `'` become character
    /// references, so the result is safe as a text node and as a quoted attribute value.
    public static func escape(_ value: String) -> String {
        var out = ""
        escape(value, into: &out)
        return out
    }

    static func escape(_ value: String, into out: inout String) {
        // Most strings (names, ids, numbers) need nothing: append them whole.
        var clean = true
        for byte in value.utf8 where byte == 0x26 || byte == 0x3C || byte == 0x3E || byte == 0x22 || byte == 0x27 {
            clean = false
            break
        }
        if clean {
            out += value
            return
        }
        out.reserveCapacity(out.utf8.count + value.utf8.count + 16)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
    }

    /// `value` as one path segment of a URL: everything but unreserved characters
    /// percent-encoded, dots too (so `/`, `?`, `#` and `..` cannot change where a link goes).
    public static func pathSegment(_ value: String) -> String { percentEncoded(value, keepingDots: false) }

    /// `value` as a query parameter value.
    public static func queryValue(_ value: String) -> String { percentEncoded(value, keepingDots: true) }

    private static func percentEncoded(_ value: String, keepingDots: Bool) -> String {
        var out = ""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: ".") where keepingDots:
                out += "."
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }
}
