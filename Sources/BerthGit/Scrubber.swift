import Foundation

/// Removes credentials from text that may be shown: user information in URLs
/// (`https://user:pass@host` → `https://***@host`) and any known secret value.
public struct Scrubber: Sendable {
    var secrets: [String]

    public init(secrets: [String] = []) {
        self.secrets = secrets.filter { $0.count >= 3 }.sorted { $0.count > $1.count }
    }

    static let none = Scrubber()

    public func apply(_ text: String) -> String {
        var out = Scrubber.scrubURLUserInfo(text)
        for secret in secrets where out.contains(secret) {
            out = out.replacing(secret, with: "***")
        }
        return out
    }

    /// Replaces the user-info part of every `scheme://user[:pass]@host` in `text` by `***`.
    public static func scrubURLUserInfo(_ text: String) -> String {
        replacingURLUserInfo(text, with: "***@")
    }

    /// `text` with the user-info part of every URL (`user[:pass]@`) taken out.
    public static func removingURLUserInfo(_ text: String) -> String {
        replacingURLUserInfo(text, with: "")
    }

    private static func replacingURLUserInfo(_ text: String, with replacement: String) -> String {
        guard text.contains("://") else { return text }
        var result = ""
        var rest = Substring(text)
        while let range = rest.range(of: "://") {
            result += rest[..<range.upperBound]
            rest = rest[range.upperBound...]
            // The authority ends at the first '/', whitespace, quote or end.
            let authorityEnd = rest.firstIndex { $0 == "/" || $0 == " " || $0 == "'" || $0 == "\"" || $0 == "\n" || $0 == "?" || $0 == "#" } ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            if let at = authority.lastIndex(of: "@") {
                result += replacement
                rest = rest[rest.index(after: at)...]
            }
        }
        return result + rest
    }
}
