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
    ///
    /// No dictionary: each key is matched against the few known names (lengths first), and
    /// the result keeps, per known name, the index of its entry.
    mutating func fields(_ node: Node, _ path: @autoclosure () -> String, known: FieldNames) -> Fields? {
        guard case .mapping(let mapping) = node else {
            error(at: node.mark, path(), "expected a mapping, found \(Self.found(node))")
            return nil
        }
        var slots = [Int](repeating: -1, count: known.names.count)
        let entries = mapping.entries
        for e in entries.indices {
            let key: String
            switch entries[e].key {
            case .scalar(let s):
                key = s.value
            default:
                let entry = entries[e]
                error(at: entry.key.mark, path(), "expected a field name, found \(Self.found(entry.key)) as a key")
                continue
            }
            guard let i = known.index(of: key) else {
                let entry = entries[e]
                let path = path()
                var message = "unknown field \(Self.quoted(key))"
                if let s = Suggestion.closest(to: key, among: known.names) {
                    message += "; did you mean \(Self.quoted(s))?"
                } else {
                    message += " (\(path.isEmpty ? "a berth/v1 object" : path) takes \(known.names.joined(separator: ", ")))"
                }
                error(at: entry.key.mark, Self.join(path, key), message)
                continue
            }
            // Duplicate keys are reported by the YAML parser; the first value wins.
            if slots[i] < 0 { slots[i] = e }
        }
        return Fields(mark: mapping.mark, known: known, slots: slots, entries: entries)
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
        out.reserveCapacity(mapping.entries.count)
        // Keys equal as text (`1` and "1" are different YAML keys): the first one wins.
        // A linear scan for the usual few keys, a set beyond.
        var seen: Set<String>? = nil
        var ok = true
        for e in mapping.entries.indices {
            guard let key = keyText(mapping.entries[e].key, path) else { ok = false; continue }
            let value: String
            switch mapping.entries[e].value {
            case .scalar(let s):
                value = s.value
            default:
                let entry = mapping.entries[e]
                error(
                    at: entry.value.mark, Self.join(path, key),
                    "expected a string, found \(Self.found(entry.value)); quote it to keep it as text")
                ok = false
                continue
            }
            if seen == nil, out.count >= 16 { seen = Set(out.map(\.key)) }
            if seen != nil {
                if seen!.insert(key).inserted { out.append((key, value, mapping.entries[e].key.mark)) }
            } else if !out.contains(where: { $0.key == key }) {
                out.append((key, value, mapping.entries[e].key.mark))
            }
        }
        return ok ? out : nil
    }

    // MARK: Scalars
    //
    // Paths are autoclosures: they are spelled out only when there is something to report.

    /// A string field: the scalar text verbatim (`on`, `0755` and `22:22` stay as written).
    mutating func string(_ node: Node, _ path: @autoclosure () -> String, expected: String = "a string") -> String? {
        guard case .scalar(let s) = node, !s.resolvesToNull else {
            error(at: node.mark, path(), "expected \(expected), found \(Self.found(node))")
            return nil
        }
        return s.value
    }

    /// A list of strings (a command): at least one item, each a scalar taken verbatim.
    mutating func stringList(_ node: Node, _ path: @autoclosure () -> String, example: String) -> [String]? {
        guard case .sequence(let seq) = node else {
            error(at: node.mark, path(), "expected a list of strings such as \(example), found \(Self.found(node))")
            return nil
        }
        guard !seq.items.isEmpty else {
            error(at: node.mark, path(), "expected a list of at least one string such as \(example), found an empty list")
            return nil
        }
        var out: [String] = []
        out.reserveCapacity(seq.items.count)
        var ok = true
        for (i, item) in seq.items.enumerated() {
            if let s = string(item, "\(path())[\(i)]") { out.append(s) } else { ok = false }
        }
        return ok ? out : nil
    }

    mutating func int(_ node: Node, _ path: @autoclosure () -> String, expected: String = "an integer") -> Int? {
        if case .scalar(let s) = node, let n = s.resolvedInt { return n }
        error(at: node.mark, path(), "expected \(expected), found \(Self.found(node))\(Self.quoteHint(node))")
        return nil
    }

    /// An integer in `range`: a value that is no integer is named as such (`expected an
    /// integer, found "three"`), one out of range with the range (`expected`).
    mutating func int(
        _ node: Node, _ path: @autoclosure () -> String, in range: ClosedRange<Int>, expected: String,
        type: String = "an integer"
    ) -> Int? {
        guard let n = int(node, path(), expected: type) else { return nil }
        guard range.contains(n) else {
            error(at: node.mark, path(), "expected \(expected), found \(n)")
            return nil
        }
        return n
    }

    mutating func port(_ node: Node, _ path: @autoclosure () -> String) -> Int? {
        int(node, path(), in: 1...65535, expected: "a port number from 1 to 65535", type: "a port number from 1 to 65535")
    }

    /// A boolean field. `true`/`false` (core schema); YAML 1.1's `yes/no/on/off` are read as
    /// booleans too, with a warning naming the line, because YAML 1.2 reads them as strings.
    mutating func bool(_ node: Node, _ path: @autoclosure () -> String) -> Bool? {
        if case .scalar(let s) = node {
            if case .bool(let b) = s.resolved { return b }
            if s.isYAML11Boolean {
                let value = ["yes", "y", "on"].contains(s.value.lowercased())
                warning(
                    at: s.mark, path(),
                    "\(Self.quoted(s.value)) is a string in YAML 1.2, read here as \(value); write \(value) instead")
                return value
            }
        }
        error(at: node.mark, path(), "expected true or false, found \(Self.found(node))")
        return nil
    }

    mutating func duration(_ node: Node, _ path: @autoclosure () -> String, positive: Bool = false) -> Millis? {
        if case .scalar(let s) = node, s.tag == nil, let d = Self.simpleDuration(s.value), !positive || d.milliseconds > 0 {
            return d
        }
        let expected = positive
            ? "a duration greater than 0 such as 250ms, 2s or 1m30s"
            : "a duration such as 250ms, 2s or 1m30s"
        guard case .scalar(let s) = node, !s.resolvesToNull, let d = Millis(parsing: s.value) else {
            error(at: node.mark, path(), "expected \(expected), found \(Self.found(node))")
            return nil
        }
        if positive, d.milliseconds <= 0 {
            error(at: node.mark, path(), "expected \(expected), found \(Self.found(node))")
            return nil
        }
        return d
    }

    /// The common durations (`500ms`, `2s`, `1m30s`: ASCII digits and units, no fraction)
    /// read straight from the bytes, with `Millis(parsing:)`'s arithmetic; nil for anything
    /// else, which then takes the general path.
    static func simpleDuration(_ text: String) -> Millis? {
        var text = text
        return text.withUTF8 { simpleDuration(bytes: $0) }
    }

    /// `simpleDuration` on UTF-8 bytes.
    static func simpleDuration(bytes b: UnsafeBufferPointer<UInt8>) -> Millis? {
        let parsed = { () -> Int64? in
            guard !b.isEmpty else { return nil }
            var total: Int64 = 0
            var i = 0
            while i < b.count {
                var whole: Int64 = 0
                let start = i
                while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                    guard i - start < 12 else { return nil }  // more than 12 digits
                    whole = whole * 10 + Int64(b[i] - 0x30)
                    i += 1
                }
                guard i > start, i < b.count else { return nil }
                let scale: Int64
                switch b[i] {
                case UInt8(ascii: "h"): scale = 3_600_000
                case UInt8(ascii: "s"): scale = 1000
                case UInt8(ascii: "m"):
                    if i + 1 < b.count, b[i + 1] == UInt8(ascii: "s") {
                        scale = 1
                        i += 1
                    } else {
                        scale = 60_000
                    }
                default: return nil
                }
                i += 1
                // A unit runs on while letters follow (`2sec` is no duration): leave that,
                // and every other oddity, to the general parser.
                if i < b.count, (b[i] | 0x20) >= UInt8(ascii: "a"), (b[i] | 0x20) <= UInt8(ascii: "z") { return nil }
                let (sum, overflow) = total.addingReportingOverflow(whole * scale)
                guard !overflow else { return nil }
                total = sum
            }
            return total
        }()
        return parsed.map { Millis($0) }
    }

    /// One of an enum's raw values; the message names them all (and the closest).
    mutating func oneOf<E: RawRepresentable>(_ node: Node, _ path: @autoclosure () -> String, _ cases: [E]) -> E?
    where E.RawValue == String {
        if case .scalar(let s) = node, let e = E(rawValue: s.value) { return e }
        let allowed = cases.map(\.rawValue)
        var message = "expected \(Self.alternatives(allowed)), found \(Self.found(node))"
        if case .scalar(let s) = node, let close = Suggestion.closest(to: s.value, among: allowed) {
            message += "; did you mean \(Self.quoted(close))?"
        }
        error(at: node.mark, path(), message)
        return nil
    }

    /// A count (`1`) or a percentage (`"25%"`) from 0 to 100%.
    mutating func intOrPercent(_ node: Node, _ path: @autoclosure () -> String) -> IntOrPercent? {
        let expected = "a count or a percentage from 0% to 100% such as 1 or 25%"
        guard case .scalar(let s) = node else {
            error(at: node.mark, path(), "expected \(expected), found \(Self.found(node))")
            return nil
        }
        if let n = s.resolvedInt {
            guard n >= 0 else {
                error(at: node.mark, path(), "expected \(expected), found \(n)")
                return nil
            }
            return .count(n)
        }
        if let p = Self.simplePercent(s.value) { return .percent(p) }
        if s.value.hasSuffix("%") {
            let digits = s.value.dropLast()
            if !digits.isEmpty, digits.count <= 3, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
                let p = Int(digits), p <= 100
            {
                return .percent(p)
            }
        }
        error(at: node.mark, path(), "expected \(expected), found \(Self.found(node))")
        return nil
    }

    /// `0%` … `100%` in ASCII digits (at most 3), straight from the bytes; nil otherwise.
    static func simplePercent(_ text: String) -> Int? {
        var text = text
        return text.withUTF8 { simplePercent(bytes: $0) }
    }

    static func simplePercent(bytes b: UnsafeBufferPointer<UInt8>) -> Int? {
        guard b.count >= 2, b.count <= 4, b[b.count - 1] == UInt8(ascii: "%") else { return nil }
        var n = 0
        for i in 0..<(b.count - 1) {
            guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
            n = n * 10 + Int(b[i] - 0x30)
        }
        return n <= 100 ? n : nil
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
            case .bool, .int, .float: return shortened(s.value)
            }
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        }
    }

    /// `text`, cut after 80 Unicode scalars with an ellipsis (a 10 MB value stays readable).
    static func shortened(_ text: String) -> String {
        guard text.utf8.count > 80 else { return text }
        var out = String.UnicodeScalarView()
        for (i, c) in text.unicodeScalars.enumerated() {
            if i == 80 { return String(out) + "…" }
            out.append(c)
        }
        return text
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
        for c in shortened(text).unicodeScalars {
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

/// The names a mapping may hold, with their UTF-8 lengths (compared before the text).
struct FieldNames: ExpressibleByArrayLiteral {
    let names: [String]
    let lengths: [Int]

    init(_ names: [String]) {
        self.names = names
        lengths = names.map(\.utf8.count)
    }
    init(arrayLiteral names: String...) { self.init(names) }

    /// The index of `key` among the names (`String` equality, as `[String].firstIndex`).
    func index(of key: String) -> Int? {
        let n = key.utf8.count
        for i in lengths.indices where lengths[i] == n && names[i] == key { return i }
        // Text equal to an ASCII name in Unicode's canonical sense but spelled with other
        // bytes (U+212A KELVIN SIGN is "K"): compare the slow way.
        if !key.utf8.allSatisfy({ $0 < 0x80 }) { return names.firstIndex(of: key) }
        return nil
    }
}

/// A mapping's known fields by name, and the mapping's mark (for missing required fields).
struct Fields {
    let mark: Mark
    let known: FieldNames
    /// Per known name, the index of its (first) entry in `entries`, or -1.
    let slots: [Int]
    let entries: [Mapping.Entry]

    subscript(name: String) -> Node? {
        guard let i = known.index(of: name), slots[i] >= 0 else { return nil }
        return entries[slots[i]].value
    }

    /// The place of a present field's key.
    func keyMark(_ name: String) -> Mark? {
        guard let i = known.index(of: name), slots[i] >= 0 else { return nil }
        return entries[slots[i]].key.mark
    }
}

/// "Did you mean" for unknown field names, enum values and service names.
enum Suggestion {
    /// The candidate equal ignoring case, else the one within edit distance 2 (closest
    /// first, then alphabetical); nil when none is close.
    static func closest(to word: String, among candidates: [String]) -> String? {
        var budget = Int.max
        return closest(to: word, among: candidates, budget: &budget)
    }

    /// `closest`, charged to `budget` (one unit per candidate). With fewer units left than
    /// candidates it compares nothing and answers nil, so thousands of unknown names among
    /// thousands of services cost a bounded time instead of their product.
    static func closest(to word: String, among candidates: [String], budget: inout Int) -> String? {
        var prepared = Candidates(candidates)
        if case .found(let name) = prepared.lookup(word, budget: &budget) { return name }
        return nil
    }

    /// What a look-up found: a close name, none, or nothing because the budget ran out.
    enum Lookup: Equatable {
        case found(String)
        case none
        case overBudget
    }

    /// Candidates lowercased once, for many look-ups among the same names.
    struct Candidates {
        let names: [String]
        private let lowered: [[UInt32]]
        private let ascii: [Bool]
        private let longest: Int
        private var rows = ([Int](), [Int]())

        init(_ names: [String]) {
            self.names = names
            lowered = names.map { name in
                var out: [UInt32] = []
                Suggestion.lowered(name, into: &out)
                return out
            }
            ascii = names.map { $0.utf8.allSatisfy { $0 < 0x80 } }
            longest = names.lazy.map(\.utf8.count).max() ?? 0
        }

        mutating func lookup(_ word: String, budget: inout Int) -> Lookup {
            guard budget >= names.count else { return .overBudget }
            budget -= names.count
            // A word far longer than every name is close to none (and a 10 MB value is
            // not lowercased for nothing).
            if word.utf8.count > 4 * longest + 8 { return .none }
            var w: [UInt32] = []
            Suggestion.lowered(word, into: &w)
            let wordIsASCII = word.utf8.allSatisfy { $0 < 0x80 }
            let wordLowered = word.lowercased()
            var caseless: String?
            var best: (distance: Int, word: String)?
            for (k, c) in lowered.enumerated() {
                // Equal ignoring case: scalar by scalar for ASCII; as Strings (canonical
                // equivalence: "é" precomposed or not) otherwise.
                let same = wordIsASCII && ascii[k] ? c == w : names[k].lowercased() == wordLowered
                if same {
                    if caseless == nil { caseless = names[k] }
                    continue
                }
                guard abs(c.count - w.count) <= 2 else { continue }
                guard caseless == nil, let d = boundedDistance(w, c, limit: 2, rows: &rows),
                    d < max(names[k].count, word.count)
                else { continue }
                if best == nil || d < best!.distance || (d == best!.distance && names[k] < best!.word) {
                    best = (d, names[k])
                }
            }
            return (caseless ?? best?.word).map(Lookup.found) ?? .none
        }
    }

    /// The lowercased text's Unicode scalars (ASCII mapped byte by byte, without a String).
    static func lowered(_ text: String, into out: inout [UInt32]) {
        out.removeAll(keepingCapacity: true)
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            for b in text.utf8 { out.append(UInt32(b >= 0x41 && b <= 0x5A ? b | 0x20 : b)) }
        } else {
            for u in text.lowercased().unicodeScalars { out.append(u.value) }
        }
    }

    /// Levenshtein distance when it is at most `limit`, else nil (stops at the first row
    /// whose every cell is above the limit). `rows` are reused buffers.
    static func boundedDistance(_ a: [UInt32], _ b: [UInt32], limit: Int, rows: inout ([Int], [Int])) -> Int? {
        if a.isEmpty { return b.count <= limit ? b.count : nil }
        if b.isEmpty { return a.count <= limit ? a.count : nil }
        rows.0.removeAll(keepingCapacity: true)
        rows.0.append(contentsOf: 0...b.count)
        rows.1.removeAll(keepingCapacity: true)
        rows.1.append(contentsOf: repeatElement(0, count: b.count + 1))
        for i in 1...a.count {
            rows.1[0] = i
            var smallest = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                let cell = min(rows.0[j] + 1, rows.1[j - 1] + 1, rows.0[j - 1] + cost)
                rows.1[j] = cell
                smallest = min(smallest, cell)
            }
            if smallest > limit { return nil }
            swap(&rows.0, &rows.1)
        }
        return rows.0[b.count] <= limit ? rows.0[b.count] : nil
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
