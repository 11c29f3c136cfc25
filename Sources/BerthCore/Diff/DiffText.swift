/// The text of desired-state changes for people, as `berth diff` and `berth history` print
/// them (and the web UI shows them): one line per field, `~ booking  spec.image: a → b`.
public enum DiffText {
    /// A field value for people: strings bare (control characters spelled out), absent as `(none)`.
    public static func display(_ value: JSONValue) -> String {
        value == .null ? "(none)" : SafeText.escaped(value.description)
    }

    /// The lines of a list of service changes, each prefixed by `indent`: `+ name  spec.image: …`
    /// for an added service, `- name` for a removed one, `~ name  path: from → to` for each
    /// changed field (the name once, the following fields aligned under the first); names
    /// and values from git with their control characters spelled out (`SafeText`).
    public static func lines(_ changes: [ServiceChange], indent: String = "") -> [String] {
        var lines: [String] = []
        let names = changes.map { SafeText.escaped($0.service) }
        let width = names.map(\.count).max() ?? 0
        for (change, name) in zip(changes, names) {
            let padded = name.padding(width)
            switch change.kind {
            case .added:
                let image = change.fields.first { $0.path == "spec.image" }.map { "  spec.image: \(display($0.to))" } ?? ""
                lines.append("\(indent)+ \(padded)\(image)")
            case .removed:
                lines.append("\(indent)- \(name)")
            case .changed:
                for (i, field) in change.fields.enumerated() {
                    let head = i == 0 ? "~ \(padded)" : String(repeating: " ", count: width + 2)
                    lines.append("\(indent)\(head)  \(SafeText.escaped(field.path)): \(display(field.from)) → \(display(field.to))")
                }
            }
        }
        return lines
    }

    /// `berth diff`'s text: the lines, then `N added, N removed, N changed (from..to).`;
    /// `No changes in desired state (from..to).` when there are none.
    public static func text(_ diff: DesiredStateDiff, range: String) -> String {
        if diff.isEmpty { return "No changes in desired state (\(range)).\n" }
        let s = diff.summary
        var out = lines(diff.changes)
        out.append("")
        out.append("\(s.added) added, \(s.removed) removed, \(s.changed) changed (\(range)).")
        return out.joined(separator: "\n") + "\n"
    }
}

extension String {
    /// Padded with spaces to `width` characters (as `padding(toLength:)`, without Foundation).
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? String(prefix(width)) : self + String(repeating: " ", count: width - count)
    }
}
