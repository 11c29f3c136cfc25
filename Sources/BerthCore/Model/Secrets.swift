import Foundation

/// Secret-bearing values are never printed: env values whose key contains one of these
/// words (case-insensitively), and values that look like credentials whatever their key
/// (`looksLikeCredential`), are shown as `(sensitive)` in every format.
public enum Secrets {
    public static let markers = ["TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY"]
    public static let mask = "(sensitive)"

    public static func isSecret(envKey: String) -> Bool {
        var key = envKey
        if let secret = key.withUTF8({ asciiContainsMarker($0) }) { return secret }
        let upper = envKey.uppercased()
        return markers.contains { upper.contains($0) }
    }

    private static let markerBytes: [[UInt8]] = markers.map { Array($0.utf8) }

    /// Whether an ASCII key, uppercased, contains a marker; nil for a key that is not ASCII
    /// (Unicode uppercasing can make ASCII letters: `ſ` → `S`). The planner masks every
    /// env value of every new service: this keeps that off the string-search machinery.
    private static func asciiContainsMarker(_ key: UnsafeBufferPointer<UInt8>) -> Bool? {
        for b in key where b >= 0x80 { return nil }
        for marker in markerBytes where marker.count <= key.count {
            search: for s in 0...(key.count - marker.count) {
                for m in marker.indices {
                    var c = key[s + m]
                    if c >= 0x61 && c <= 0x7A { c -= 0x20 }
                    if c != marker[m] { continue search }
                }
                return true
            }
        }
        return false
    }

    /// `value`, or the mask when `envKey` names a secret or `value` looks like a credential.
    public static func display(envKey: String, value: String) -> String {
        isSecret(envKey: envKey) || looksLikeCredential(value) ? mask : value
    }

    /// `value`, or the mask when it looks like a credential (for values with no key: a
    /// command's arguments).
    public static func display(value: String) -> String {
        looksLikeCredential(value) ? mask : value
    }

    /// Whether `value` looks like a credential, whatever the key it is stored under
    /// (`DATABASE_URL`, `SENTRY_DSN` hold no secret word). Any of:
    /// - a PEM block (`-----BEGIN `);
    /// - a URL with a user or password (`postgres://u:pw@db`, `https://KEY@o1.ingest.sentry.io/2`);
    /// - a setting of a secret inside the value (`password=`, `pwd=`, `secret:`, `token=`,
    ///   `api_key=`, `access_key=`, `private_key=` …, case-insensitively, with a value);
    /// - a known token prefix (`ghp_`, `github_pat_`, `glpat-`, `xoxb-`, `sk_live_`, `AKIA` …)
    ///   followed by at least 16 characters;
    /// - a random-looking word: at least 20 letters and digits (`+/=_-` may join them)
    ///   mixing at least two of lower case, upper case and digits, changing between them
    ///   at least every fifth character on average, with at least 3 bits of entropy a
    ///   character (a git or image digest counts: masking one costs little).
    public static func looksLikeCredential(_ value: String) -> Bool {
        let b = Array(value.utf8)
        guard b.count >= 5 else { return false }
        return hasPEMBlock(b) || hasURLUserInfo(b) || hasSecretSetting(b) || hasTokenWord(b)
    }

    // MARK: - The rules

    private static func lower(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5A ? c + 0x20 : c }

    /// Whether `needle` (lower case) starts at `i` in `b`, ignoring ASCII case.
    private static func matches(_ b: [UInt8], at i: Int, _ needle: [UInt8]) -> Bool {
        guard i + needle.count <= b.count else { return false }
        for k in needle.indices where lower(b[i + k]) != needle[k] { return false }
        return true
    }

    private static let pem = Array("-----begin ".utf8)

    private static func hasPEMBlock(_ b: [UInt8]) -> Bool {
        b.indices.contains { b[$0] == 0x2D && matches(b, at: $0, pem) }
    }

    /// `scheme://userinfo@host`: an `@` in the authority, after at least one character.
    private static func hasURLUserInfo(_ b: [UInt8]) -> Bool {
        var i = 0
        while i + 3 <= b.count {
            if b[i] == 0x3A && b[i + 1] == 0x2F && b[i + 2] == 0x2F {  // "://"
                var j = i + 3
                while j < b.count {
                    let c = b[j]
                    if c == 0x2F || c == 0x3F || c == 0x23 || c <= 0x20 || c == 0x2C || c == 0x3B { break }  // / ? # space , ;
                    if c == 0x40 && j > i + 3 { return true }
                    j += 1
                }
                i = j
            } else {
                i += 1
            }
        }
        return false
    }

    private static let settings: [[UInt8]] = [
        "password", "passwd", "pwd", "secret", "token", "apikey", "api_key", "api-key", "access_key", "access-key",
        "private_key", "private-key", "auth_key",
    ].map { Array($0.utf8) }

    /// `password=…`, `Pwd: …`, `token=…`: a secret word, then `=` or `:`, then a value.
    private static func hasSecretSetting(_ b: [UInt8]) -> Bool {
        for i in b.indices {
            let first = lower(b[i])
            for word in settings where word[0] == first && matches(b, at: i, word) {
                var j = i + word.count
                while j < b.count && b[j] == 0x20 { j += 1 }
                guard j < b.count, b[j] == 0x3D || b[j] == 0x3A else { continue }  // = :
                j += 1
                while j < b.count && b[j] == 0x20 { j += 1 }
                if j < b.count, ![0x3B, 0x26, 0x2C, 0x22, 0x27, 0x2F].contains(b[j]) { return true }  // ; & , " ' /
            }
        }
        return false
    }

    private static let prefixes: [[UInt8]] = [
        "AKIA", "ASIA", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "glcbt-", "xoxb-", "xoxp-",
        "xoxa-", "xoxs-", "xapp-", "sk_live_", "rk_live_", "sk-", "npm_", "pypi-",
    ].map { Array($0.utf8) }

    private static func isWordByte(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
            || c == 0x2B || c == 0x2F || c == 0x3D || c == 0x5F || c == 0x2D  // + / = _ -
    }

    /// A word (letters, digits and `+/=_-`) that starts with a token prefix or looks random.
    private static func hasTokenWord(_ b: [UInt8]) -> Bool {
        var start = 0
        while start < b.count {
            guard isWordByte(b[start]) else {
                start += 1
                continue
            }
            var end = start
            while end < b.count && isWordByte(b[end]) { end += 1 }
            let word = b[start..<end]
            if word.count >= 20 {
                for p in prefixes where word.count >= p.count + 16 && word.starts(with: p) { return true }
                if looksRandom(word) { return true }
            }
            start = end
        }
        return false
    }

    private static func looksRandom(_ word: ArraySlice<UInt8>) -> Bool {
        var counts = [Int](repeating: 0, count: 128)
        var n = 0, classes = 0, changes = 0
        var previous = -1
        for c in word {
            let kind: Int
            switch c {
            case 0x61...0x7A: kind = 0
            case 0x41...0x5A: kind = 1
            case 0x30...0x39: kind = 2
            default: continue
            }
            counts[Int(c)] += 1
            n += 1
            classes |= 1 << kind
            if previous >= 0 && previous != kind { changes += 1 }
            previous = kind
        }
        guard n >= 20, classes.nonzeroBitCount >= 2, changes * 5 >= n - 1 else { return false }
        var entropy = 0.0
        for count in counts where count > 0 {
            let p = Double(count) / Double(n)
            entropy -= p * log2(p)
        }
        return entropy >= 3.0
    }
}
