/// The session's CSRF token as a page carries it: masked with a fresh random pad on every
/// response (hex of `pad ‖ pad XOR token`), so no two pages carry the same bytes and a
/// compressed page next to text an attacker chose (a query string shown on the page) says
/// nothing about the token (the BREACH attack on compressed responses). A form sends the
/// masked value back; `unmasked` gives the token to compare with the session's.
enum CSRFMask {
    static func masked(_ token: String) -> String {
        guard let bytes = bytes(hex: token) else { return token }
        var generator = SystemRandomNumberGenerator()
        let pad = (0..<bytes.count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return hex(pad) + hex(zip(pad, bytes).map { $0 ^ $1 })
    }

    /// The token `value` masks, or nil when it is no masked token.
    static func unmasked(_ value: String) -> String? {
        guard let bytes = bytes(hex: value), !bytes.isEmpty, bytes.count % 2 == 0 else { return nil }
        let half = bytes.count / 2
        return hex(zip(bytes[..<half], bytes[half...]).map { $0 ^ $1 })
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        var out = ""
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return out
    }

    static func bytes(hex: String) -> [UInt8]? {
        let utf8 = Array(hex.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var i = 0
        while i < utf8.count {
            guard let high = nibble(utf8[i]), let low = nibble(utf8[i + 1]) else { return nil }
            out.append(high << 4 | low)
            i += 2
        }
        return out
    }
}
