/// The small grammars of the manifest format: service names, image references, memory
/// sizes. Each check returns nil when the text is fine, else the reason in words.
enum Formats {
    // MARK: Names

    /// RFC 1123 label: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
    static func labelNameProblem(_ name: String) -> String? {
        let u = Array(name.utf8)
        if u.isEmpty { return "a name cannot be empty" }
        if u.count > 63 { return "a name has at most 63 characters (this one has \(name.count))" }
        let allowed = u.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") }
        if !allowed || !isLowerAlnum(u.first!) || !isLowerAlnum(u.last!) {
            return "use lowercase letters, digits and '-', starting and ending with a letter or digit (RFC 1123)"
        }
        return nil
    }

    // MARK: Image references

    /// A Docker image reference: `[host[:port]/]path[:tag][@sha256:<64 hex>]`, as the
    /// distribution reference grammar defines it. Nil when valid.
    static func imageProblem(_ ref: String) -> String? {
        if ref.isEmpty { return "an image reference cannot be empty" }
        var rest = Substring(ref)
        if let at = rest.firstIndex(of: "@") {
            let digest = rest[rest.index(after: at)...]
            rest = rest[..<at]
            guard digest.hasPrefix("sha256:") else {
                return "the digest after '@' must be sha256: followed by 64 hexadecimal digits"
            }
            let hex = digest.dropFirst("sha256:".count)
            guard hex.utf8.count == 64, hex.utf8.allSatisfy(isLowerHex) else {
                return "the digest after '@' must be sha256: followed by 64 lowercase hexadecimal digits"
            }
        }
        // A tag follows the last ':' that comes after the last '/'.
        let lastSlash = rest.lastIndex(of: "/")
        let tagSearch = lastSlash.map { rest[rest.index(after: $0)...] } ?? rest
        if let colon = tagSearch.lastIndex(of: ":") {
            let tag = rest[rest.index(after: colon)...]
            rest = rest[..<colon]
            if let problem = tagProblem(tag) { return problem }
        }
        if rest.utf8.count > 255 { return "the repository name has at most 255 characters" }
        var components = rest.split(separator: "/", omittingEmptySubsequences: false)
        if components.count > 1, isDomain(components[0]) {
            if let problem = domainProblem(components[0]) { return problem }
            components.removeFirst()
        }
        for c in components {
            if c.isEmpty { return "the repository name has an empty part between '/'" }
            if let problem = pathComponentProblem(c) { return problem }
        }
        return nil
    }

    /// Docker's rule: the first part is a registry if it holds '.' or ':', is `localhost`,
    /// or has an uppercase letter.
    private static func isDomain(_ s: Substring) -> Bool {
        s.contains(".") || s.contains(":") || s == "localhost" || s.contains(where: { $0.isUppercase })
    }

    private static func domainProblem(_ s: Substring) -> String? {
        var host = s
        if let colon = s.firstIndex(of: ":") {
            host = s[..<colon]
            let port = s[s.index(after: colon)...]
            guard !port.isEmpty, port.utf8.count <= 5, port.utf8.allSatisfy(isDigit), let n = Int(port),
                (1...65535).contains(n)
            else {
                return "the registry port \"\(port)\" must be a number from 1 to 65535"
            }
        }
        for label in host.split(separator: ".", omittingEmptySubsequences: false) {
            let u = Array(label.utf8)
            guard let first = u.first, let last = u.last, isAlnum(first), isAlnum(last),
                u.allSatisfy({ isAlnum($0) || $0 == UInt8(ascii: "-") })
            else {
                return "the registry host \"\(host)\" is not a valid host name"
            }
        }
        return nil
    }

    /// `[a-z0-9]+` parts joined by `.`, `_`, `__` or any number of `-`.
    private static func pathComponentProblem(_ s: Substring) -> String? {
        let u = Array(s.utf8)
        if u.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) {
            return "repository names must be lowercase"
        }
        guard isLowerAlnum(u.first!), isLowerAlnum(u.last!) else {
            return "each part of the repository name must start and end with a lowercase letter or digit"
        }
        var i = 0
        while i < u.count {
            if isLowerAlnum(u[i]) { i += 1; continue }
            // A separator run: ".", "_", "__", or one or more "-".
            var j = i
            while j < u.count, !isLowerAlnum(u[j]) { j += 1 }
            let sep = u[i..<j]
            let ok = sep.elementsEqual([UInt8(ascii: ".")]) || sep.elementsEqual([UInt8(ascii: "_")])
                || sep.elementsEqual([UInt8(ascii: "_"), UInt8(ascii: "_")])
                || sep.allSatisfy { $0 == UInt8(ascii: "-") }
            guard ok else {
                return "the repository name may hold only lowercase letters, digits and single separators (. _ __ -)"
            }
            i = j
        }
        return nil
    }

    /// `[\w][\w.-]{0,127}`.
    private static func tagProblem(_ tag: Substring) -> String? {
        let u = Array(tag.utf8)
        guard let first = u.first, isWord(first), u.count <= 128,
            u.allSatisfy({ isWord($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") })
        else {
            return "the tag \"\(tag)\" must be 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'"
        }
        return nil
    }

    // MARK: Memory sizes

    /// `1024` (bytes), `256Mi`, `1Gi`, `512M`, `64k`; suffixes k, Ki, M, Mi, G, Gi. Nil when
    /// malformed or too large.
    static func memoryBytes(_ text: String) -> Int64? {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 18, let n = Int64(digits) else { return nil }
        let scale: Int64
        switch text.dropFirst(digits.count) {
        case "": scale = 1
        case "k": scale = 1000
        case "Ki": scale = 1 << 10
        case "M": scale = 1_000_000
        case "Mi": scale = 1 << 20
        case "G": scale = 1_000_000_000
        case "Gi": scale = 1 << 30
        default: return nil
        }
        let (bytes, overflow) = n.multipliedReportingOverflow(by: scale)
        return overflow ? nil : bytes
    }

    // MARK: Characters

    private static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
    private static func isLowerAlnum(_ c: UInt8) -> Bool {
        isDigit(c) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z"))
    }
    private static func isAlnum(_ c: UInt8) -> Bool {
        isLowerAlnum(c) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
    }
    private static func isWord(_ c: UInt8) -> Bool { isAlnum(c) || c == UInt8(ascii: "_") }
    private static func isLowerHex(_ c: UInt8) -> Bool {
        isDigit(c) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "f"))
    }
}
