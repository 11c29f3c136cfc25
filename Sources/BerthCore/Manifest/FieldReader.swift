import BerthYAML

/// Collects the diagnostics of one file and reads typed values out of YAML nodes.
///
/// Every reader takes the node and its dotted field path, reports a problem at the node's
/// own mark, and returns nil when the value is unusable, so the caller can go on and find
/// the next problem. Nothing here stops at the first error.
struct FieldReader {
    let file: String
    var diagnostics: [Diagnostic] = []

    init(file: String) { self.file = file }

    // MARK: Reporting

    mutating func error(at mark: Mark, _ path: String, _ message: String) {
        diagnostics.append(
            Diagnostic(.error, file: file, line: mark.line, column: mark.column, path: path, message: message))
    }

    mutating func warning(at mark: Mark, _ path: String, _ message: String) {
        diagnostics.append(
            Diagnostic(.warning, file: file, line: mark.line, column: mark.column, path: path, message: message))
    }

    var errorCount: Int { diagnostics.lazy.filter { $0.severity == .error }.count }

    func ref(_ mark: Mark) -> SourceRef { SourceRef(file: file, line: mark.line, column: mark.column) }

    // MARK: Mappings

    /// The fields of a mapping by name, each key claimed once. Keys not in `known` are
    /// reported at the key, with a "did you mean" when one is close. Nil (and an error)
    /// when `node` is not a mapping.
    mutating func fields(_ node: Node, _ path: String, known: [String]) -> Fields? {
        guard case .mapping(let mapping) = node else {
            error(at: node.mark, path, "expected a mapping, found \(Self.found(node))")
            return nil
        }
        var values: [String: Node] = [:]
        var keys: [String: Mark] = [:]
        for entry in mapping.entries {
            guard let key = keyText(entry.key, path) else { continue }
            guard known.contains(key) else {
                var message = "unknown field \(Self.quoted(key))"
                if let s = Suggestion.closest(to: key, among: known) {
                    message += "; did you mean \(Self.quoted(s))?"
                } else {
                    message += " (\(path.isEmpty ? "a berth/v1 object" : path) takes \(known.joined(separator: ", ")))"
                }
                error(at: entry.key.mark, Self.join(path, key), message)
                continue
            }
            // Duplicate keys are reported by the YAML parser; the first value wins.
            if values[key] == nil {
                values[key] = entry.value
                keys[key] = entry.key.mark
            }
        }
        return Fields(mark: mapping.mark, values: values, keys: keys)
    }

    /// A mapping's key as text; a list or mapping used as a key is an error.
    mutating func keyText(_ key: Node, _ path: String) -> String? {
        guard case .scalar(let s) = key else {
            error(at: key.mark, path, "expected a field name, found \(Self.found(key)) as a key")
            return nil
        }
        return s.value
    }

    /// A mapping of strings to strings (labels, env): values are scalars taken exactly as
    /// written (`8080` → "8080", `yes` → "yes", an empty value → ""); lists and mappings
    /// are errors. Keys in document order.
    mutating func stringMap(_ node: Node, _ path: String) -> [(key: String, value: String, mark: Mark)]? {
        guard case .mapping(let mapping) = node else {
            error(at: node.mark, path, "expected a mapping of names to strings, found \(Self.found(node))")
            return nil
        }
        var out: [(key: String, value: String, mark: Mark)] = []
        var seen: Set<String> = []
        var ok = true
        for entry in mapping.entries {
            guard let key = keyText(entry.key, path) else { ok = false; continue }
            guard case .scalar(let s) = entry.value else {
                error(
                    at: entry.value.mark, Self.join(path, key),
                    "expected a string, found \(Self.found(entry.value)); quote it to keep it as text")
                ok = false
                continue
            }
            if seen.insert(key).inserted { out.append((key, s.value, entry.key.mark)) }
        }
        return ok ? out : nil
    }

    // MARK: Scalars

    /// A string field: the scalar text verbatim (`on`, `0755` and `22:22` stay as written).
    mutating func string(_ node: Node, _ path: String, expected: String = "a string") -> String? {
        guard case .scalar(let s) = node, s.resolved != .null else {
            error(at: node.mark, path, "expected \(expected), found \(Self.found(node))")
            return nil
        }
        return s.value
    }

    /// A list of strings (a command): at least one item, each a scalar taken verbatim.
    mutating func stringList(_ node: Node, _ path: String, example: String) -> [String]? {
        guard case .sequence(let seq) = node else {
            error(at: node.mark, path, "expected a list of strings such as \(example), found \(Self.found(node))")
            return nil
        }
        guard !seq.items.isEmpty else {
            error(at: node.mark, path, "expected a list of at least one string such as \(example), found an empty list")
            return nil
        }
        var out: [String] = []
        var ok = true
        for (i, item) in seq.items.enumerated() {
            if let s = string(item, "\(path)[\(i)]") { out.append(s) } else { ok = false }
        }
        return ok ? out : nil
    }

    mutating func int(_ node: Node, _ path: String, expected: String = "an integer") -> Int? {
        if case .scalar(let s) = node, case .int(let n) = s.resolved { return n }
        error(at: node.mark, path, "expected \(expected), found \(Self.found(node))\(Self.quoteHint(node))")
        return nil
    }

    /// An integer in `range`; the message names the range.
    /// An integer in `range`: a value that is no integer is named as such (`expected an
    /// integer, found "three"`), one out of range with the range (`expected`).
    mutating func int(
        _ node: Node, _ path: String, in range: ClosedRange<Int>, expected: String, type: String = "an integer"
    ) -> Int? {
        guard let n = int(node, path, expected: type) else { return nil }
        guard range.contains(n) else {
            error(at: node.mark, path, "expected \(expected), found \(n)")
            return nil
        }
        return n
    }

    mutating func port(_ node: Node, _ path: String) -> Int? {
        int(node, path, in: 1...65535, expected: "a port number from 1 to 65535", type: "a port number from 1 to 65535")
    }

    /// A boolean field. `true`/`false` (core schema); YAML 1.1's `yes/no/on/off` are read as
    /// booleans too, with a warning naming the line, because YAML 1.2 reads them as strings.
    mutating func bool(_ node: Node, _ path: String) -> Bool? {
        if case .scalar(let s) = node {
            if case .bool(let b) = s.resolved { return b }
            if s.isYAML11Boolean {
                let value = ["yes", "y", "on"].contains(s.value.lowercased())
                warning(
                    at: s.mark, path,
                    "\(Self.quoted(s.value)) is a string in YAML 1.2, read here as \(value); write \(value) instead")
                return value
            }
        }
        error(at: node.mark, path, "expected true or false, found \(Self.found(node))")
        return nil
    }

    mutating func duration(_ node: Node, _ path: String, positive: Bool = false) -> Millis? {
        let expected = positive
            ? "a duration greater than 0 such as 250ms, 2s or 1m30s"
            : "a duration such as 250ms, 2s or 1m30s"
        guard case .scalar(let s) = node, s.resolved != .null, let d = Millis(parsing: s.value) else {
            error(at: node.mark, path, "expected \(expected), found \(Self.found(node))")
            return nil
        }
        if positive, d.milliseconds <= 0 {
            error(at: node.mark, path, "expected \(expected), found \(Self.found(node))")
            return nil
        }
        return d
    }

    /// One of an enum's raw values; the message names them all (and the closest).
    mutating func oneOf<E: RawRepresentable>(_ node: Node, _ path: String, _ cases: [E]) -> E?
    where E.RawValue == String {
        let allowed = cases.map(\.rawValue)
        if case .scalar(let s) = node, let e = E(rawValue: s.value) { return e }
        var message = "expected \(Self.alternatives(allowed)), found \(Self.found(node))"
        if case .scalar(let s) = node, let close = Suggestion.closest(to: s.value, among: allowed) {
            message += "; did you mean \(Self.quoted(close))?"
        }
        error(at: node.mark, path, message)
        return nil
    }

    /// A count (`1`) or a percentage (`"25%"`) from 0 to 100%.
    mutating func intOrPercent(_ node: Node, _ path: String) -> IntOrPercent? {
        let expected = "a count or a percentage from 0% to 100% such as 1 or 25%"
        guard case .scalar(let s) = node else {
            error(at: node.mark, path, "expected \(expected), found \(Self.found(node))")
            return nil
        }
        if case .int(let n) = s.resolved {
            guard n >= 0 else {
                error(at: node.mark, path, "expected \(expected), found \(n)")
                return nil
            }
            return .count(n)
        }
        if s.value.hasSuffix("%") {
            let digits = s.value.dropLast()
            if !digits.isEmpty, digits.count <= 3, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
                let p = Int(digits), p <= 100
            {
                return .percent(p)
            }
        }
        error(at: node.mark, path, "expected \(expected), found \(Self.found(node))")
        return nil
    }

    // MARK: Text helpers

    static func join(_ path: String, _ field: String) -> String { path.isEmpty ? field : "\(path).\(field)" }

    /// How a value is named in "found …": a string's text in quotes, other scalars as
    /// written, `a list`, `a mapping`.
    static func found(_ node: Node) -> String {
        switch node {
        case .scalar(let s):
            switch s.resolved {
            case .null: return "null"
            case .string(let text): return quoted(text)
            case .bool, .int, .float: return s.value
            }
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        }
    }

    /// A hint for a quoted number where a number is expected.
    static func quoteHint(_ node: Node) -> String {
        guard case .scalar(let s) = node, s.style != .plain,
            case .int = Scalar(value: s.value, mark: s.mark).resolved
        else { return "" }
        return "; remove the quotes"
    }

    /// `"text"` with quotes, backslashes and control characters escaped; long text shortened.
    static func quoted(_ text: String) -> String {
        var out = "\""
        var count = 0
        for c in text.unicodeScalars {
            count += 1
            if count > 80 { out += "…"; break }
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if c.value < 0x20 || c.value == 0x7F {
                    out += "\\u{\(String(c.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out + "\""
    }

    /// `a`, `a or b`, `a, b or c`.
    static func alternatives(_ items: [String], _ conjunction: String = "or") -> String {
        switch items.count {
        case 0: return "nothing"
        case 1: return items[0]
        default: return items.dropLast().joined(separator: ", ") + " \(conjunction) " + items.last!
        }
    }
}

/// A mapping's known fields by name, and the mapping's mark (for missing required fields).
struct Fields {
    let mark: Mark
    let values: [String: Node]
    /// The place of each key.
    let keys: [String: Mark]
    subscript(name: String) -> Node? { values[name] }
}

/// "Did you mean" for unknown field names and enum values.
enum Suggestion {
    /// The candidate equal ignoring case, else the one within edit distance 2 (closest
    /// first, then alphabetical); nil when none is close.
    static func closest(to word: String, among candidates: [String]) -> String? {
        let lower = word.lowercased()
        if let same = candidates.first(where: { $0.lowercased() == lower }) { return same }
        var best: (distance: Int, word: String)?
        for c in candidates {
            let d = distance(lower, c.lowercased())
            guard d <= 2, d < max(c.count, word.count) else { continue }
            if best == nil || d < best!.distance || (d == best!.distance && c < best!.word) {
                best = (d, c)
            }
        }
        return best?.word
    }

    /// Levenshtein distance over Unicode scalars.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
