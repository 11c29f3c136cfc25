/// Text from outside — git (names, messages, manifests), the Docker engine, an observed-state
/// file — made safe to print on a terminal: every control character is spelled out, so a
/// value cannot start a line of its own (a fake `No changes.`), move the cursor, colour the
/// terminal or reverse the text around it (Trojan Source). JSON needs none of this: its
/// encoder escapes control characters itself.
public enum SafeText {
    /// `s` with C0 and C1 controls, DEL, and the bidirectional and line-separator format
    /// characters escaped: `\n`, `\r`, `\t`, `\x1b`, `\u{85}`, `\u{202e}`. A backslash is left
    /// as it is. `keepingTabs` leaves tabs (a source line under a caret keeps its layout).
    public static func escaped(_ s: String, keepingTabs: Bool = false) -> String {
        guard s.unicodeScalars.contains(where: { needsEscape($0, keepingTabs) }) else { return s }
        var out = ""
        for u in s.unicodeScalars {
            guard needsEscape(u, keepingTabs) else {
                out.unicodeScalars.append(u)
                continue
            }
            switch u {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                let hex = String(u.value, radix: 16)
                out += u.value < 0x80 ? "\\x" + (hex.count < 2 ? "0" + hex : hex) : "\\u{" + hex + "}"
            }
        }
        return out
    }

    @inline(__always)
    static func needsEscape(_ u: Unicode.Scalar, _ keepingTabs: Bool) -> Bool {
        switch u.value {
        case 0x09: !keepingTabs
        case 0x00...0x1F, 0x7F...0x9F: true
        case 0x061C, 0x200E, 0x200F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }
}
