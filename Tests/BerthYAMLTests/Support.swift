import BerthYAML

func parse(_ text: String, limits: YAMLLimits = .default) -> ParseResult {
    YAML.parse(Array(text.utf8), limits: limits)
}

/// A compact rendering of a node with every mark: `{a@1:1: 1@1:4}@1:1`, `[x@1:2]@1:1`;
/// non-plain styles and tags are spelled out (`'x'`, `"x"`, `|x`, `>x`, `!<tag>`).
func show(_ node: Node?) -> String {
    guard let node else { return "nil" }
    switch node {
    case .scalar(let s):
        var v: String
        switch s.style {
        case .plain: v = s.value
        case .singleQuoted: v = "'\(s.value)'"
        case .doubleQuoted: v = "\"\(s.value)\""
        case .literal: v = "|\(s.value)"
        case .folded: v = ">\(s.value)"
        }
        if let t = s.tag { v = "!<\(t)> " + v }
        return "\(v)@\(s.mark.line):\(s.mark.column)"
    case .sequence(let q):
        let t = q.tag.map { "!<\($0)> " } ?? ""
        let open = q.style == .flow ? "f[" : "["
        return "\(t)\(open)\(q.items.map(show).joined(separator: ", "))]@\(q.mark.line):\(q.mark.column)"
    case .mapping(let m):
        let t = m.tag.map { "!<\($0)> " } ?? ""
        let open = m.style == .flow ? "f{" : "{"
        let body = m.entries.map { "\(show($0.key)): \(show($0.value))" }.joined(separator: ", ")
        return "\(t)\(open)\(body)}@\(m.mark.line):\(m.mark.column)"
    }
}

/// `kind line:col[ related line:col] message` for each error.
func describe(_ errors: [YAMLError]) -> [String] {
    errors.map { e in
        var s = "\(e.kind) \(e.mark.line):\(e.mark.column)"
        if let r = e.related { s += " (\(r.line):\(r.column))" }
        return s + " " + e.message
    }
}
