/// Secret-bearing values are never printed: env values whose key contains one of these
/// words (case-insensitively) are shown as `(sensitive)` in every format.
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

    /// `value`, or the mask when `envKey` names a secret.
    public static func display(envKey: String, value: String) -> String {
        isSecret(envKey: envKey) ? mask : value
    }
}
