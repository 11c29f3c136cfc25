/// The small grammars of the manifest format: service names, image references, memory
/// sizes. Each check returns nil when the text is fine, else the reason in words.
enum Formats {
    // MARK: Names

    /// RFC 1123 label: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
    static func labelNameProblem(_ name: String) -> String? {
        var text = name
        if text.withUTF8(isValidLabelName) { return nil }
        let u = Array(name.utf8)
        if u.isEmpty { return "a name cannot be empty" }
        if u.count > 63 { return "a name has at most 63 characters (this one has \(name.unicodeScalars.count))" }
        let allowed = u.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") }
        if !allowed || !isLowerAlnum(u.first!) || !isLowerAlnum(u.last!) {
            return "use lowercase letters, digits and '-', starting and ending with a letter or digit (RFC 1123)"
        }
        return nil
    }

    /// True when `labelNameProblem` finds nothing, on UTF-8 bytes.
    static func isValidLabelName(_ u: UnsafeBufferPointer<UInt8>) -> Bool {
        u.count >= 1 && u.count <= 63 && isLowerAlnum(u[0]) && isLowerAlnum(u[u.count - 1])
            && u.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") }
    }

    // MARK: Image references

    /// A Docker image reference: `[host[:port]/]path[:tag][@sha256:<64 hex>]`, as the
    /// distribution reference grammar defines it. Nil when valid.
    static func imageProblem(_ ref: String) -> String? {
        if isSimpleValidImage(ref) { return nil }
        return generalImageProblem(ref)
    }

    /// `imageProblem` without the byte-level fast path (the one that writes the messages).
    static func generalImageProblem(_ ref: String) -> String? {
        if ref.isEmpty { return "an image reference cannot be empty" }
        // Host, repository, tag and digest together stay well below this; checked first so
        // a huge value is not walked character by character.
        if ref.utf8.count > 1024 {
            return "an image reference has at most 1024 characters (this one has \(ref.unicodeScalars.count))"
        }
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

    /// True only for a printable-ASCII reference that `imageProblem` accepts, checked on its
    /// bytes (one pass, no `Substring`s); false means "ask `imageProblem`'s general path".
    static func isSimpleValidImage(_ ref: String) -> Bool {
        var text = ref
        return text.withUTF8 { isSimpleValidImage(bytes: $0) }
    }

    /// `isSimpleValidImage` on UTF-8 bytes.
    static func isSimpleValidImage(bytes b: UnsafeBufferPointer<UInt8>) -> Bool {
        return { () -> Bool in
            guard !b.isEmpty, b.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return false }
            var end = b.count
            if let at = b.firstIndex(of: UInt8(ascii: "@")) {
                let sha = Array("sha256:".utf8)
                guard b.count - at - 1 == sha.count + 64 else { return false }
                for k in 0..<sha.count where b[at + 1 + k] != sha[k] { return false }
                for k in (at + 1 + sha.count)..<b.count where !isLowerHex(b[k]) { return false }
                end = at
            }
            var lastSlash = -1
            for k in 0..<end where b[k] == UInt8(ascii: "/") { lastSlash = k }
            var colon = -1
            for k in (lastSlash + 1)..<end where b[k] == UInt8(ascii: ":") { colon = k }
            if colon >= 0 {
                // The tag: `[\w][\w.-]{0,127}`.
                let count = end - colon - 1
                guard count >= 1, count <= 128, isWord(b[colon + 1]) else { return false }
                for k in (colon + 1)..<end where !(isWord(b[k]) || b[k] == UInt8(ascii: ".") || b[k] == UInt8(ascii: "-")) {
                    return false
                }
                end = colon
            }
            guard end <= 255 else { return false }
            // Components between '/'; a first one that looks like a registry is a host.
            var start = 0
            var first = true
            while true {
                var stop = start
                while stop < end, b[stop] != UInt8(ascii: "/") { stop += 1 }
                let part = UnsafeBufferPointer(rebasing: b[start..<stop])
                if first, stop < end, looksLikeDomain(part) {
                    guard isSimpleValidDomain(part) else { return false }
                } else {
                    guard isSimpleValidPathComponent(part) else { return false }
                }
                first = false
                if stop >= end { break }
                start = stop + 1
            }
            return true
        }()
    }

    private static func looksLikeDomain(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        p.contains(UInt8(ascii: ".")) || p.contains(UInt8(ascii: ":")) || p.elementsEqual("localhost".utf8)
            || p.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") })
    }

    private static func isSimpleValidDomain(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        var hostEnd = p.count
        if let colon = p.firstIndex(of: UInt8(ascii: ":")) {
            hostEnd = colon
            let digits = p.count - colon - 1
            guard digits >= 1, digits <= 5 else { return false }
            var n = 0
            for k in (colon + 1)..<p.count {
                guard isDigit(p[k]) else { return false }
                n = n * 10 + Int(p[k] - 0x30)
            }
            guard n >= 1, n <= 65535 else { return false }
        }
        var labelStart = 0
        while true {
            var stop = labelStart
            while stop < hostEnd, p[stop] != UInt8(ascii: ".") { stop += 1 }
            guard stop > labelStart, isAlnum(p[labelStart]), isAlnum(p[stop - 1]) else { return false }
            for k in labelStart..<stop where !(isAlnum(p[k]) || p[k] == UInt8(ascii: "-")) { return false }
            if stop >= hostEnd { return true }
            labelStart = stop + 1
        }
    }

    /// `[a-z0-9]+` runs joined by `.`, `_`, `__` or any number of `-`.
    private static func isSimpleValidPathComponent(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = p.first, let last = p.last, isLowerAlnum(first), isLowerAlnum(last) else { return false }
        var k = 0
        while k < p.count {
            if isLowerAlnum(p[k]) { k += 1; continue }
            var j = k
            while j < p.count, !isLowerAlnum(p[j]) { j += 1 }
            let sep = UnsafeBufferPointer(rebasing: p[k..<j])
            let ok = (sep.count == 1 && (sep[0] == UInt8(ascii: ".") || sep[0] == UInt8(ascii: "_")))
                || (sep.count == 2 && sep[0] == UInt8(ascii: "_") && sep[1] == UInt8(ascii: "_"))
                || sep.allSatisfy { $0 == UInt8(ascii: "-") }
            guard ok else { return false }
            k = j
        }
        return true
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
        if let bytes = simpleMemoryBytes(text) { return bytes }
        return generalMemoryBytes(text)
    }

    /// `memoryBytes` without the byte-level fast path.
    static func generalMemoryBytes(_ text: String) -> Int64? {
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

    /// `memoryBytes` for ASCII digits and a suffix, from the bytes; nil means "ask the
    /// general path" (which may still say nil).
    static func simpleMemoryBytes(_ text: String) -> Int64? { simpleMemoryBytes(bytes: text.utf8.span) }

    /// `simpleMemoryBytes` on UTF-8 bytes.
    static func simpleMemoryBytes(bytes b: Span<UInt8>) -> Int64? {
        var n: Int64 = 0
        var i = 0
        while i < b.count, isDigit(b[i]) {
            if i == 18 { return nil }  // more than 18 digits
            n = n * 10 + Int64(b[i] - 0x30)
            i += 1
        }
        guard i > 0 else { return nil }
        let scale: Int64
        switch (b.count - i, i < b.count ? b[i] : 0, i + 1 < b.count ? b[i + 1] : 0) {
        case (0, _, _): scale = 1
        case (1, UInt8(ascii: "k"), _): scale = 1000
        case (2, UInt8(ascii: "K"), UInt8(ascii: "i")): scale = 1 << 10
        case (1, UInt8(ascii: "M"), _): scale = 1_000_000
        case (2, UInt8(ascii: "M"), UInt8(ascii: "i")): scale = 1 << 20
        case (1, UInt8(ascii: "G"), _): scale = 1_000_000_000
        case (2, UInt8(ascii: "G"), UInt8(ascii: "i")): scale = 1 << 30
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
