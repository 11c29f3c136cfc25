/// Secret-bearing values are never printed: env values whose key contains one of these
/// words (case-insensitively) are shown as `(sensitive)` in every format.
public enum Secrets {
    public static let markers = ["TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY"]
    public static let mask = "(sensitive)"

    public static func isSecret(envKey: String) -> Bool {
        let upper = envKey.uppercased()
        return markers.contains { upper.contains($0) }
    }

    /// `value`, or the mask when `envKey` names a secret.
    public static func display(envKey: String, value: String) -> String {
        isSecret(envKey: envKey) ? mask : value
    }
}
