import BerthYAML

/// One `berth/v1` object → a `ServiceSpec` with defaults, and what the checks across files
/// need to know about it, by the tables of `ManifestSchema`. Every problem goes to the
/// reader's diagnostics.
struct ServiceDecoder {
    static let apiVersion = ManifestSchema.apiVersion
    static let kind = ManifestSchema.kind

    /// Docker refuses memory limits below 6 MiB.
    static let minimumMemory: Int64 = 6 << 20

    var r: FieldReader

    init(file: String, document: FlatDocument) {
        r = FieldReader(file: file, document: document)
    }

    /// Decodes the next document of the same file with the same buffers.
    mutating func reset(_ document: FlatDocument) { r.reset(document) }

    /// Decodes one document's root. Returns the declaration when the object names its
    /// service (even with errors, so other files can refer to it), with `spec` set only
    /// when the document has no errors.
    mutating func decode(_ root: NodeID) -> DeclaredService? {
        let errorsBefore = r.errorCount
        guard r.doc.kind(root) == .mapping else {
            r.error(
                at: r.mark(root), "",
                "expected a berth/v1 object (a mapping with apiVersion, kind, metadata and spec), found \(r.found(root))")
            return nil
        }
        // A foreign object (a Kubernetes Deployment, …) is named, not picked apart.
        if let v = r.doc.value(root, forKey: "apiVersion") {
            guard let text = r.string(v, { "apiVersion" }) else { return nil }
            guard text == Self.apiVersion else {
                r.error(at: r.mark(v), "apiVersion", "unsupported apiVersion \(FieldReader.quoted(text)): Berth reads \(Self.apiVersion)")
                return nil
            }
        }
        if let k = r.doc.value(root, forKey: "kind") {
            guard let text = r.string(k, { "kind" }) else { return nil }
            guard text == Self.kind else {
                var message = "unsupported kind \(FieldReader.quoted(text)): \(Self.apiVersion) defines only kind \(Self.kind)"
                if text.lowercased() == Self.kind.lowercased() { message += " (mind the capital S)" }
                r.error(at: r.mark(k), "kind", message)
                return nil
            }
        }
        var top = ManifestSchema.TopLevel()
        guard r.object(root, { "" }, ManifestSchema.object, into: &top) != nil else { return nil }

        var metadata = ManifestSchema.Metadata()
        if top.metadata != .none { _ = r.object(top.metadata, { "metadata" }, ManifestSchema.metadata, into: &metadata) }
        var declared = metadata.name.map { DeclaredService(name: $0.text, source: r.ref($0.mark)) }
        guard top.spec != .none else { return declared }

        var spec = ServiceSpec(name: metadata.name?.text ?? "", labels: metadata.labels, image: "")
        let read = r.object(top.spec, { "spec" }, ManifestSchema.spec, into: &spec)
        if !r.references.isEmpty { declared?.dependsOn = r.references }
        if !r.published.isEmpty { declared?.published = r.published }
        if var d = declared, read != nil, r.errorCount == errorsBefore {
            spec.source = d.source
            d.spec = spec
            declared = d
        }
        return declared
    }

    /// Empty, or holding '=' or NUL (as `Character`s, like `String.contains`): ASCII names
    /// are checked on their bytes.
    static func isInvalidVariableName(_ key: String) -> Bool {
        if key.isEmpty { return true }
        var found = false
        for c in key.utf8 {
            if c >= 0x80 { return key.contains("=") || key.contains("\0") }  // '=' may start a longer Character: ask String
            if c == UInt8(ascii: "=") || c == 0 { found = true }
        }
        return found
    }

    /// `isInvalidVariableName` from a name's UTF-8 bytes when they are ASCII; nil (ask the
    /// `String`) otherwise.
    static func isInvalidVariableName(bytes b: Span<UInt8>) -> Bool? {
        if b.isEmpty { return true }
        var found = false
        for i in b.indices {
            if b[i] >= 0x80 { return nil }
            if b[i] == UInt8(ascii: "=") || b[i] == 0 { found = true }
        }
        return found
    }

    /// `1`, `0.5`, `2.250`: up to 6 whole and 3 fraction ASCII digits, greater than 0, read
    /// from the bytes (the cpus reader's answer for these); nil for anything else.
    static func simpleMilliCPUs(_ text: String) -> Int? { simpleMilliCPUs(bytes: text.utf8.span) }

    static func simpleMilliCPUs(bytes b: Span<UInt8>) -> Int? {
        var i = 0
        var whole = 0
        while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
            guard i < 6 else { return nil }  // more than 6 digits
            whole = whole * 10 + Int(b[i] - 0x30)
            i += 1
        }
        guard i >= 1 else { return nil }
        var fraction = 0
        if i < b.count {
            guard b[i] == UInt8(ascii: "."), b.count - i - 1 >= 1, b.count - i - 1 <= 3 else { return nil }
            var scale = 100
            for k in (i + 1)..<b.count {
                guard b[k] >= 0x30, b[k] <= 0x39 else { return nil }
                fraction += Int(b[k] - 0x30) * scale
                scale /= 10
            }
        }
        let milli = whole * 1000 + fraction
        return milli > 0 ? milli : nil
    }
}

extension FieldReader {
    /// The common durations (`500ms`, `2s`, `1m30s`: ASCII digits and units, no fraction)
    /// read straight from the bytes, with `Millis(parsing:)`'s arithmetic; nil for anything
    /// else, which then takes the general path.
    static func simpleDuration(_ text: String) -> Millis? { simpleDuration(bytes: text.utf8.span) }

    static func simpleDuration(bytes b: Span<UInt8>) -> Millis? {
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
        return Millis(total)
    }

    /// `0%` … `100%` in ASCII digits (at most 3), straight from the bytes; nil otherwise.
    static func simplePercent(_ text: String) -> Int? { simplePercent(bytes: text.utf8.span) }

    static func simplePercent(bytes b: Span<UInt8>) -> Int? {
        guard b.count >= 2, b.count <= 4, b[b.count - 1] == UInt8(ascii: "%") else { return nil }
        var n = 0
        for i in 0..<(b.count - 1) {
            guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
            n = n * 10 + Int(b[i] - 0x30)
        }
        return n <= 100 ? n : nil
    }
}
