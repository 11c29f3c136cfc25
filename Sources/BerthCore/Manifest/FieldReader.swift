import BerthYAML

/// Reads typed values out of one YAML document and collects the diagnostics of one file.
///
/// Every reader takes the node and its dotted field path, reports a problem at the node's
/// own mark, and returns nil when the value is unusable, so the caller can go on and find
/// the next problem. Nothing here stops at the first error. Paths are closures: they are
/// spelled out only when there is something to report.
///
/// The document is a `FlatDocument` (Swift values; nothing here touches libyaml's memory):
/// numbers, durations and sizes are read from a scalar's bytes without making a `String`.
struct FieldReader {
    typealias Path = () -> String

    let file: String
    private(set) var doc: FlatDocument
    var diagnostics: [Diagnostic] = []
    private(set) var errorCount = 0
    /// Where the document's `dependsOn` entries and published ports were written, for the
    /// checks across files.
    var references: [DeclaredService.Reference] = []
    var published: [DeclaredService.Published] = []
    /// `object`'s (key, value) per field of the objects being read, innermost last.
    private var slots: [(key: NodeID, value: NodeID)] = []

    init(file: String, document: FlatDocument) {
        self.file = file
        doc = document
        slots.reserveCapacity(64)
    }

    /// Lets go of the document, so the composer can reuse its storage for the next one.
    mutating func releaseDocument() { doc = FlatDocument() }

    /// Starts on the next document of the file (its diagnostics and places kept so far are
    /// the caller's to take first).
    mutating func reset(_ document: FlatDocument) {
        doc = document
        diagnostics.removeAll(keepingCapacity: true)
        references.removeAll(keepingCapacity: true)
        published.removeAll(keepingCapacity: true)
        errorCount = 0
    }

    // MARK: Reporting

    mutating func error(at mark: Mark, _ path: String, _ message: String) {
        errorCount += 1
        diagnostics.append(
            Diagnostic(.error, file: file, line: mark.line, column: mark.column, path: path, message: message))
    }

    mutating func warning(at mark: Mark, _ path: String, _ message: String) {
        diagnostics.append(
            Diagnostic(.warning, file: file, line: mark.line, column: mark.column, path: path, message: message))
    }

    func ref(_ mark: Mark) -> SourceRef { SourceRef(file: file, line: mark.line, column: mark.column) }

    func mark(_ n: NodeID) -> Mark { doc.mark(n) }

    // MARK: Objects

    /// Reads the mapping `node` into `model` by `schema`: each known field by its reader
    /// (the first of two equal keys wins; YAML reported the second), each unknown one
    /// reported at its key with a "did you mean", each required one that is missing
    /// reported at the mapping, then the schema's choice and its rules across fields.
    /// Nil (and an error) when `node` is not a mapping.
    ///
    /// With `keepingNodes` (and for a schema with rules), the result holds each field's key
    /// and value node.
    mutating func object<Model>(
        _ node: NodeID, _ path: Path, _ schema: Schema<Model>, into model: inout Model, keepingNodes: Bool = false
    ) -> ObjectFields? {
        guard doc.kind(node) == .mapping else {
            error(at: mark(node), path(), "expected a mapping, found \(found(node))")
            return nil
        }
        var fields = ObjectFields(mapping: node, names: schema.names)
        // Each present field's (key, value), in a stack shared by nested objects.
        let base = slots.count
        slots.append(contentsOf: repeatElement((key: NodeID.none, value: NodeID.none), count: schema.fields.count))
        defer { slots.removeSubrange(base...) }
        var cursor = doc.entries(node)
        while let entry = doc.nextEntry(&cursor) {
            guard doc.isScalar(entry.key) else {
                error(at: mark(entry.key), path(), "expected a field name, found \(found(entry.key)) as a key")
                continue
            }
            guard let i = schema.index(of: entry.key, in: doc) else {
                unknownField(entry.key, entry.value, path(), schema)
                continue
            }
            let bit: UInt64 = 1 << UInt64(i)
            if fields.present & bit == 0 {
                fields.present |= bit
                slots[base + i] = (entry.key, entry.value)
            }
        }
        // Choices (a health check's probes): none or several is an error, and then none of
        // them is read.
        var skip: UInt64 = 0
        if let choice = schema.choice {
            let given = fields.present & choice.mask
            if given == 0 {
                error(at: mark(node), path(), choice.none)
                fields.failed |= choice.mask
            } else if given & (given - 1) != 0 {
                let later = choice.fields.filter { given & (1 << UInt64($0)) != 0 }
                    .map { (name: schema.fields[$0].name, mark: doc.mark(slots[base + $0].key)) }
                    .sorted { $0.mark < $1.mark }
                for extra in later.dropFirst() {
                    error(
                        at: extra.mark, FieldReader.join(path(), extra.name),
                        "expected one \(choice.noun), found \(FieldReader.alternatives(later.map(\.name), "and")); keep only one")
                }
                fields.failed |= choice.mask
                skip = choice.mask
            }
        }
        for i in 0..<schema.reads.count {
            let bit: UInt64 = 1 << UInt64(i)
            guard fields.present & bit != 0 else {
                if let missing = schema.missing[i] {
                    error(at: mark(node), FieldReader.join(path(), schema.names[i]), "required field is missing; \(missing)")
                    fields.failed |= bit
                }
                continue
            }
            guard skip & bit == 0 else { continue }
            let read = schema.reads[i]
            if !read(&self, slots[base + i].value, { FieldReader.join(path(), schema.names[i]) }, &model) { fields.failed |= bit }
        }
        if keepingNodes || schema.check != nil { fields.nodes = Array(slots[base..<(base + schema.fields.count)]) }
        if let check = schema.check, !check(&self, &model, fields, path) { fields.failed |= 1 << 63 }
        return fields
    }

    private mutating func unknownField<Model>(_ key: NodeID, _ value: NodeID, _ path: String, _ schema: Schema<Model>) {
        let name = doc.text(key)
        var message = "unknown field \(FieldReader.quoted(name))"
        if let compose = composeFieldHint(name, value: value, among: schema.names) {
            message += compose
        } else if let s = Suggestion.closest(to: name, among: schema.names) {
            message += "; did you mean \(FieldReader.quoted(s))?"
        } else {
            message += " (\(path.isEmpty ? "a berth/v1 object" : path) takes \(schema.names.joined(separator: ", ")))"
        }
        error(at: mark(key), FieldReader.join(path, name), message)
    }

    /// A mapping of strings to strings (labels, env): values are scalars taken exactly as
    /// written (`8080` → "8080", `yes` → "yes", an empty value → ""); lists and mappings
    /// are errors. Keys equal as text (`1` and "1" are different YAML keys): the first one
    /// wins. `accept` sees each first key and its key node, and keeps the entry or not
    /// (after reporting why). Nil when any entry is not a pair of scalars.
    mutating func stringMap(
        _ node: NodeID, _ path: Path, skippingMappings: Bool = false, accept: (inout FieldReader, String, NodeID) -> Bool
    ) -> [String: String]? {
        guard doc.kind(node) == .mapping else {
            error(at: mark(node), path(), "expected a mapping of names to strings, found \(found(node))")
            return nil
        }
        // Pairs first, then one dictionary built at its size with one hash per key. `accept`
        // sees every entry: text-equal keys that YAML let through are different YAML keys
        // (`1` and "1"), never a name `accept` refuses.
        var pairs: [(String, String)] = []
        pairs.reserveCapacity(doc.count(node))
        var ok = true
        var cursor = doc.entries(node)
        while let entry = doc.nextEntry(&cursor) {
            guard doc.isScalar(entry.key) else {
                error(at: mark(entry.key), path(), "expected a field name, found \(found(entry.key)) as a key")
                ok = false
                continue
            }
            let key = doc.text(entry.key)
            if skippingMappings && doc.kind(entry.value) == .mapping { continue }
            guard doc.isScalar(entry.value) else {
                error(
                    at: mark(entry.value), FieldReader.join(path(), key),
                    "expected a string, found \(found(entry.value)); quote it to keep it as text")
                ok = false
                continue
            }
            if accept(&self, key, entry.key) { pairs.append((key, doc.text(entry.value))) }
        }
        let map = Dictionary(pairs, uniquingKeysWith: { first, _ in first })
        return ok ? map : nil
    }

    // MARK: Scalars

    /// A string field: the scalar text verbatim (`on`, `0755` and `22:22` stay as written).
    mutating func string(_ node: NodeID, _ path: Path, expected: String = "a string") -> String? {
        guard doc.isScalar(node), !doc.resolvesToNull(node) else {
            error(at: mark(node), path(), "expected \(expected), found \(found(node))")
            return nil
        }
        return doc.text(node)
    }

    /// A list of strings (a command): at least one item, each a scalar taken verbatim.
    mutating func stringList(_ node: NodeID, _ path: Path, example: String) -> [String]? {
        guard doc.kind(node) == .sequence else {
            error(at: mark(node), path(), "expected a list of strings such as \(example), found \(found(node))")
            return nil
        }
        let count = doc.count(node)
        guard count > 0 else {
            error(at: mark(node), path(), "expected a list of at least one string such as \(example), found an empty list")
            return nil
        }
        var out: [String] = []
        out.reserveCapacity(count)
        var ok = true
        var i = 0
        var cursor = doc.items(node)
        while let item = doc.nextItem(&cursor) {
            if let s = string(item, { "\(path())[\(i)]" }) { out.append(s) } else { ok = false }
            i += 1
        }
        return ok ? out : nil
    }

    mutating func int(_ node: NodeID, _ path: Path, expected: String = "an integer") -> Int? {
        if let n = doc.resolvedInt(node) { return n }
        error(at: mark(node), path(), "expected \(expected), found \(found(node))\(quoteHint(node))")
        return nil
    }

    /// An integer in `range`: a value that is no integer is named as such (`expected an
    /// integer, found "three"`), one out of range with the range (`expected`), or, above a
    /// limit given with its `unit`, with the limit (`expected at most 10000 replicas`).
    mutating func int(
        _ node: NodeID, _ path: Path, in range: ClosedRange<Int>, expected: String, type: String = "an integer",
        unit: String? = nil
    ) -> Int? {
        guard let n = int(node, path, expected: type) else { return nil }
        if n > range.upperBound, let unit {
            error(at: mark(node), path(), "expected at most \(range.upperBound) \(unit), found \(n)")
            return nil
        }
        guard range.contains(n) else {
            error(at: mark(node), path(), "expected \(expected), found \(n)")
            return nil
        }
        return n
    }

    mutating func port(_ node: NodeID, _ path: Path) -> Int? {
        int(node, path, in: 1...65535, expected: "a port number from 1 to 65535", type: "a port number from 1 to 65535")
    }

    /// A boolean field. `true`/`false` (core schema); YAML 1.1's `yes/no/on/off` are read as
    /// booleans too, with a warning naming the line, because YAML 1.2 reads them as strings.
    mutating func bool(_ node: NodeID, _ path: Path) -> Bool? {
        if doc.isScalar(node) {
            if case .bool(let b) = doc.resolved(node) { return b }
            if doc.isYAML11Boolean(node) {
                let text = doc.text(node)
                let value = ["yes", "y", "on"].contains(text.lowercased())
                warning(
                    at: mark(node), path(),
                    "\(FieldReader.quoted(text)) is a string in YAML 1.2, read here as \(value); write \(value) instead")
                return value
            }
        }
        error(at: mark(node), path(), "expected true or false, found \(found(node))")
        return nil
    }

    /// A duration (`250ms`, `2s`, `1m30s`), at most `ManifestLimits.duration`.
    mutating func duration(_ node: NodeID, _ path: Path, positive: Bool = false) -> Millis? {
        var d: Millis? = nil
        if doc.isScalar(node), !doc.isTagged(node) {
            d = doc.withBytes(node) { FieldReader.simpleDuration(bytes: $0) }
        }
        if d == nil, doc.isScalar(node), !doc.resolvesToNull(node) { d = Millis(parsing: doc.text(node)) }
        guard let d, !positive || d.milliseconds > 0 else {
            let expected = positive
                ? "a duration greater than 0 such as 250ms, 2s or 1m30s"
                : "a duration such as 250ms, 2s or 1m30s"
            error(at: mark(node), path(), "expected \(expected), found \(found(node))")
            return nil
        }
        guard d <= ManifestLimits.duration else {
            error(at: mark(node), path(), "expected a duration of at most \(ManifestLimits.duration) (365 days), found \(found(node))")
            return nil
        }
        return d
    }

    /// One of an enum's raw values; the message names them all (and the closest).
    mutating func oneOf<E: RawRepresentable>(_ node: NodeID, _ path: Path, _ cases: [E]) -> E?
    where E.RawValue == String {
        if doc.isScalar(node), let e = E(rawValue: doc.text(node)) { return e }
        let allowed = cases.map(\.rawValue)
        var message = "expected \(FieldReader.alternatives(allowed)), found \(found(node))"
        if doc.isScalar(node), let close = Suggestion.closest(to: doc.text(node), among: allowed) {
            message += "; did you mean \(FieldReader.quoted(close))?"
        }
        error(at: mark(node), path(), message)
        return nil
    }

    /// A count (`1`, at most `ManifestLimits.replicas`) or a percentage (`"25%"`) from 0 to 100%.
    mutating func intOrPercent(_ node: NodeID, _ path: Path) -> IntOrPercent? {
        let expected = "a count or a percentage from 0% to 100% such as 1 or 25%"
        guard doc.isScalar(node) else {
            error(at: mark(node), path(), "expected \(expected), found \(found(node))")
            return nil
        }
        if let n = doc.resolvedInt(node) {
            guard n >= 0 else {
                error(at: mark(node), path(), "expected \(expected), found \(n)")
                return nil
            }
            guard n <= ManifestLimits.replicas else {
                error(at: mark(node), path(), "expected at most \(ManifestLimits.replicas) replicas or a percentage, found \(n)")
                return nil
            }
            return .count(n)
        }
        if let p = doc.withBytes(node, { FieldReader.simplePercent(bytes: $0) }) { return .percent(p) }
        let text = doc.text(node)
        if text.hasSuffix("%") {
            let digits = text.dropLast()
            if !digits.isEmpty, digits.count <= 3, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
                let p = Int(digits), p <= 100
            {
                return .percent(p)
            }
        }
        error(at: mark(node), path(), "expected \(expected), found \(found(node))")
        return nil
    }

    // MARK: Values in messages

    /// How a value is named in "found …": a string's text in quotes, other scalars as
    /// written, `a list`, `a mapping`.
    func found(_ node: NodeID) -> String {
        switch doc.kind(node) {
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        default:
            switch doc.resolved(node) {
            case .null: return "null"
            case .string(let text): return FieldReader.quoted(text)
            case .bool, .int, .float: return FieldReader.shortened(doc.text(node))
            }
        }
    }

    /// A hint for a quoted number where a number is expected.
    func quoteHint(_ node: NodeID) -> String {
        guard doc.isScalar(node), doc.style(node) != .plain,
            case .int = Scalar(value: doc.text(node), mark: mark(node)).resolved
        else { return "" }
        return "; remove the quotes"
    }

    static func join(_ path: String, _ field: String) -> String { path.isEmpty ? field : "\(path).\(field)" }

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

/// What `FieldReader.object` found in a mapping: which fields were there and which of them
/// had a problem, by their index in the schema (bit 63: a rule across fields failed).
struct ObjectFields {
    let mapping: NodeID
    /// The schema's field names, in its order.
    let names: [String]
    var present: UInt64 = 0
    var failed: UInt64 = 0
    /// Per field, its key and value node (`NodeID.none` when absent); only when asked for.
    var nodes: [(key: NodeID, value: NodeID)] = []

    init(mapping: NodeID, names: [String]) {
        self.mapping = mapping
        self.names = names
    }

    var ok: Bool { failed == 0 }

    func has(_ name: String) -> Bool { present & bit(name) != 0 }
    func failed(_ name: String) -> Bool { failed & bit(name) != 0 }
    /// The field's value node, when it is there (and nodes were kept).
    func value(_ name: String) -> NodeID? { has(name) ? nodes[names.firstIndex(of: name)!].value : nil }

    private func bit(_ name: String) -> UInt64 { 1 << UInt64(names.firstIndex(of: name)!) }
}
