/// libyaml's scanner and parser errors in Berth's words, with the likely cause read from
/// the lines around the place, and the place moved to where the fix goes:
///
/// - a tab in the indentation (YAML indents with spaces only);
/// - a line indented deeper than its sibling `key: value` above it (read as more of that
///   value), or to a depth that lines up with no key of its mapping;
/// - a key with no `:` after it;
/// - a quoted value, `[` list or `{` mapping that is never closed (at its opening);
/// - a list item among a mapping's keys.
///
/// What it cannot explain keeps libyaml's words.
struct YAMLErrorWording {
    let bytes: UnsafeBufferPointer<UInt8>
    private let lines: [Range<Int>]

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        lines = LineBreaks.lineRanges(Array(bytes))
    }

    /// The message and place for libyaml's `problem` (with its `context`) at `mark`; nil
    /// when no rule fits.
    func explain(problem: String, context: String?, mark: Mark, contextMark: Mark?) -> (message: String, mark: Mark)? {
        if problem.contains("tab") || (problem == "found character that cannot start any token" && character(at: mark) == "\t"),
            let tab = tabInIndentation(mark.line) ?? firstTab(mark.line)
        {
            return ("a tab in the indentation: YAML indents with spaces only; replace the tab with spaces", tab)
        }
        switch problem {
        case "mapping values are not allowed in this context":
            return valueWhereNoneFits(mark)
        case "could not find expected ':'":
            guard let key = contextMark else { return nil }
            return missingColon(key.line)
        case "did not find expected key":
            guard let parent = contextMark else { return nil }
            return unalignedKey(mark, parent: parent)
        case "did not find expected '-' indicator":
            guard let parent = contextMark else { return nil }
            return unalignedItem(mark, parent: parent)
        case "found unexpected end of stream" where context == "while scanning a quoted scalar":
            guard let open = contextMark else { return nil }
            let quote = character(at: open) ?? "\""
            return ("a quoted value that never ends: the \(quote) opened here has no closing \(quote)", open)
        case "did not find expected ',' or ']'", "did not find expected ',' or '}'":
            guard let open = contextMark else { return nil }
            let (opening, closing) = problem.hasSuffix("']'") ? ("[", "]") : ("{", "}")
            return ("the \(opening) opened here is not closed: add \(closing) at its end, and a ',' between its items", open)
        case "found character that cannot start any token":
            guard let c = character(at: mark) else { return nil }
            return ("a value cannot start with \(c): put the value in quotes", mark)
        default:
            return nil
        }
    }

    // MARK: Rules

    /// `mapping values are not allowed`: a `:` libyaml read inside a plain value that began
    /// on an earlier line.
    private func valueWhereNoneFits(_ mark: Mark) -> (String, Mark)? {
        guard let line = text(mark.line), let above = lineAbove(mark.line), let previous = text(above) else { return nil }
        let indent = indentation(line), previousIndent = indentation(previous)
        if indent > previousIndent, let key = keyWithValue(previous) {
            return (
                "this line is indented by \(indent) spaces, deeper than \(key): on line \(above) (\(previousIndent)), so YAML reads it as more of \(key)'s value; line it up with its siblings (\(previousIndent) spaces)",
                Mark(line: mark.line, column: indent + 1))
        }
        if indent == previousIndent, keyWithValue(previous) == nil, !previous.dropFirst(indent).hasPrefix("-") {
            return missingColon(above)
        }
        return nil
    }

    /// A line `key value` that lacks the `:` after its key: the message at the key's end.
    private func missingColon(_ lineNumber: Int) -> (String, Mark)? {
        guard let line = text(lineNumber) else { return nil }
        let indent = indentation(line)
        let body = line.dropFirst(indent)
        guard let space = body.firstIndex(of: " ") else { return nil }
        let key = body[..<space]
        let value = body[space...].drop(while: { $0 == " " })
        guard !key.isEmpty, !key.hasSuffix(":"), !value.isEmpty else { return nil }
        return (
            "a key without ':' after it: write \(key): \(value)",
            Mark(line: lineNumber, column: indent + key.unicodeScalars.count + 1))
    }

    /// `did not find expected key`: a line that is no key of the mapping it follows.
    private func unalignedKey(_ mark: Mark, parent: Mark) -> (String, Mark)? {
        guard let line = text(mark.line) else { return nil }
        let indent = indentation(line)
        if line.dropFirst(indent).hasPrefix("- ") || line.dropFirst(indent) == "-" {
            return ("a list item among the keys of the mapping that starts on line \(parent.line): give it a key, or indent it under one", mark)
        }
        guard indent != parent.column - 1 else { return nil }
        let place = Mark(line: mark.line, column: indent + 1)
        if let above = lineAbove(mark.line), let previous = text(above), indentation(previous) > indent {
            return (
                "this line is indented by \(indent) spaces, which lines up with no key above it: line \(above) is indented by \(indentation(previous)), the mapping from line \(parent.line) by \(parent.column - 1); line it up with its siblings",
                place)
        }
        return (
            "this line is indented by \(indent) spaces, but the keys of its mapping (from line \(parent.line)) are indented by \(parent.column - 1); line it up with its siblings",
            place)
    }

    /// `did not find expected '-' indicator`: a line that is no item of the list it follows.
    private func unalignedItem(_ mark: Mark, parent: Mark) -> (String, Mark)? {
        guard let line = text(mark.line) else { return nil }
        let indent = indentation(line)
        guard indent != parent.column - 1 else {
            return ("expected another list item (- …) here, in the list that starts on line \(parent.line)", mark)
        }
        return (
            "this line is indented by \(indent) spaces, but the items of its list (from line \(parent.line)) are indented by \(parent.column - 1); line it up with its siblings",
            Mark(line: mark.line, column: indent + 1))
    }

    // MARK: Lines

    /// Line `n` (1-based) as text, without its line break; nil past the end.
    func text(_ n: Int) -> Substring? {
        guard n >= 1, n <= lines.count else { return nil }
        return Substring(String(decoding: UnsafeBufferPointer(rebasing: bytes[lines[n - 1]]), as: UTF8.self))
    }

    /// The nearest line above `n` holding more than blanks and a comment.
    private func lineAbove(_ n: Int) -> Int? {
        var k = n - 1
        while k >= 1 {
            if let t = text(k) {
                let body = t.drop(while: { $0 == " " || $0 == "\t" })
                if !body.isEmpty && !body.hasPrefix("#") { return k }
            }
            k -= 1
        }
        return nil
    }

    private func indentation(_ line: Substring) -> Int { line.prefix(while: { $0 == " " }).count }

    /// The key of a `key: value` line (a value on the same line), else nil.
    private func keyWithValue(_ line: Substring) -> Substring? {
        let body = line.drop(while: { $0 == " " })
        guard !body.hasPrefix("#"),
            let colon = body.indices.first(where: { body[$0] == ":" && body.index(after: $0) < body.endIndex && body[body.index(after: $0)] == " " })
        else { return nil }
        let key = body[..<colon]
        let value = body[body.index(after: colon)...].drop(while: { $0 == " " })
        guard !key.isEmpty, !key.contains(" "), !value.isEmpty, !value.hasPrefix("#") else { return nil }
        return key
    }

    /// The place of a tab among line `n`'s leading blanks.
    private func tabInIndentation(_ n: Int) -> Mark? {
        guard let line = text(n) else { return nil }
        let blanks = line.prefix(while: { $0 == " " || $0 == "\t" })
        guard let tab = blanks.firstIndex(of: "\t") else { return nil }
        return Mark(line: n, column: blanks.distance(from: blanks.startIndex, to: tab) + 1)
    }

    private func firstTab(_ n: Int) -> Mark? {
        guard let line = text(n), let tab = line.unicodeScalars.firstIndex(of: "\t") else { return nil }
        return Mark(line: n, column: line.unicodeScalars.distance(from: line.unicodeScalars.startIndex, to: tab) + 1)
    }

    private func character(at mark: Mark) -> Character? {
        guard let line = text(mark.line), mark.column >= 1 else { return nil }
        let scalars = line.unicodeScalars
        guard mark.column <= scalars.count else { return nil }
        return Character(scalars[scalars.index(scalars.startIndex, offsetBy: mark.column - 1)])
    }
}
