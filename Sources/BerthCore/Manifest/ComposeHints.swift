import BerthYAML

/// "Did you mean" for Docker Compose habits, written in Berth's syntax: `ports:
/// ["8080:80"]`, `env: ["KEY=value"]`, `environment:`, `env_file:`, `healthcheck:`.
enum ComposeHints {
    /// Compose's field names that Berth spells otherwise, with what Berth calls them.
    static let fieldNames: [String: String] = [
        "environment": "env", "env_file": "envFrom", "healthcheck": "health",
    ]

    /// A Compose port (`"80"`, `"8080:80"`, `"127.0.0.1:8080:80"`, `"8080:80/udp"`) as a
    /// Berth port mapping; nil when `text` is none (a range, a name).
    static func port(_ text: String) -> String? {
        var spec = Substring(text)
        var udp = false
        if spec.hasSuffix("/udp") {
            udp = true
            spec = spec.dropLast(4)
        } else if spec.hasSuffix("/tcp") {
            spec = spec.dropLast(4)
        }
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count), let container = number(parts[parts.count - 1]) else { return nil }
        var fields = ["containerPort: \(container)"]
        if parts.count >= 2, !(parts.count == 3 && parts[1].isEmpty) {
            guard let host = number(parts[parts.count - 2]) else { return nil }
            fields.append("publish: \(host)")
        }
        if udp { fields.append("protocol: udp") }
        return "{\(fields.joined(separator: ", "))}"
    }

    /// Compose's `["KEY=value", …]` as Berth's `{KEY: value, …}` (at most three entries
    /// shown, then `…`); nil when an item is not `KEY=value`.
    static func env(_ items: [String]) -> String? {
        guard !items.isEmpty else { return nil }
        var pairs: [String] = []
        for item in items {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else { return nil }
            pairs.append("\(item[..<equals]): \(value(String(item[item.index(after: equals)...])))")
        }
        return "{\(pairs.prefix(3).joined(separator: ", "))\(pairs.count > 3 ? ", …" : "")}"
    }

    /// A value as YAML writes it plainly when it safely can, else double-quoted.
    static func value(_ text: String) -> String {
        let plain = !text.isEmpty && text.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "_./-+@".unicodeScalars.contains($0)
        } && !"-.@".unicodeScalars.contains(text.unicodeScalars.first!)
        return plain ? text : FieldReader.quoted(text)
    }

    private static func number(_ text: Substring) -> Int? {
        guard let n = Int(text), (1...65535).contains(n) else { return nil }
        return n
    }
}

extension FieldReader {
    /// The texts of a list of scalars; nil when `node` is not one.
    func scalarItems(_ node: NodeID) -> [String]? {
        guard doc.kind(node) == .sequence else { return nil }
        var texts: [String] = []
        var cursor = doc.items(node)
        while let item = doc.nextItem(&cursor) {
            guard doc.isScalar(item) else { return nil }
            texts.append(doc.text(item))
        }
        return texts
    }

    /// `; did you mean {KEY: value}?` for an env written as Compose's list, else "".
    func composeEnvHint(_ node: NodeID) -> String {
        guard let items = scalarItems(node), let mapping = ComposeHints.env(items) else { return "" }
        return " (Compose's KEY=value list); did you mean \(mapping)?"
    }

    /// For an unknown field Compose knows: Berth's name, with the value converted when it is
    /// Compose's env list (`environment: ["KEY=value"]`).
    func composeFieldHint(_ name: String, value: NodeID?, among names: [String]) -> String? {
        guard let berth = ComposeHints.fieldNames[name], names.contains(berth) else { return nil }
        var hint = "; did you mean \(FieldReader.quoted(berth))? (Compose's name)"
        if berth == "env", let value, let items = scalarItems(value), let mapping = ComposeHints.env(items) {
            hint += ": env: \(mapping)"
        }
        return hint
    }
}
