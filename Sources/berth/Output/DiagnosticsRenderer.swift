import BerthCore
import BerthYAML
import Foundation

/// Renders diagnostics the way swift, clang and rustc do: the located message, then the
/// source line and a caret under the column.
///
/// ```
/// manifests/booking.yaml:7:13: error: spec.replicas: expected an integer, found "three"
///   replicas: three
///             ^
/// ```
///
/// Shared by every command that reports manifest problems (validate, plan, diff).
struct DiagnosticsRenderer {
    /// ANSI colour (bold place, red errors, yellow warnings, green caret).
    var colour: Bool
    /// File contents by the path the diagnostics name, for the source snippets. A file
    /// missing here (or a line beyond its end) is rendered without a snippet.
    var sources: [String: [UInt8]]

    init(colour: Bool, sources: [String: [UInt8]] = [:]) {
        self.colour = colour
        self.sources = sources
    }

    /// Each diagnostic with its snippet, in the order given, one line per row, each row
    /// ending in a newline.
    func render(_ diagnostics: [Diagnostic]) -> String {
        var out = ""
        var lineCache: [String: [Range<Int>]] = [:]
        for d in diagnostics {
            out += headline(d) + "\n"
            if lineCache[d.file] == nil, let bytes = sources[d.file] {
                lineCache[d.file] = LineBreaks.lineRanges(bytes)
            }
            if let lines = lineCache[d.file], let bytes = sources[d.file], d.line >= 1, d.line <= lines.count {
                let line = String(decoding: bytes[lines[d.line - 1]], as: UTF8.self)
                if !line.isEmpty {
                    let (text, column) = Self.escaped(Self.window(line, column: d.column))
                    out += "\(text)\n\(Self.caretPadding(text[...], column: column))\(paint("^", "32;1"))\n"
                }
            }
        }
        return out
    }

    /// `FILE:LINE:COL: error: PATH: MESSAGE`, coloured when asked; control characters in
    /// names and quoted values spelled out (`SafeText`).
    func headline(_ d: Diagnostic) -> String {
        guard colour else { return SafeText.escaped(d.rendered) }
        let place = paint(SafeText.escaped("\(d.file):\(d.line):\(d.column):"), "1")
        let severity = d.severity == .error ? paint("error:", "31;1") : paint("warning:", "33;1")
        let field = d.path.isEmpty ? "" : "\(d.path): "
        return "\(place) \(severity) \(paint(SafeText.escaped(field + d.message), "1"))"
    }

    /// A source line with its control characters spelled out (tabs kept), and the caret's
    /// column moved by what the escapes added before it: an escape sequence in a manifest
    /// must not reach the terminal through its snippet.
    static func escaped(_ snippet: (text: String, column: Int)) -> (text: String, column: Int) {
        let scalars = Array(snippet.text.unicodeScalars)
        let split = min(max(snippet.column - 1, 0), scalars.count)
        var before = String.UnicodeScalarView(), after = String.UnicodeScalarView()
        before.append(contentsOf: scalars[..<split])
        after.append(contentsOf: scalars[split...])
        let head = SafeText.escaped(String(before), keepingTabs: true)
        return (head + SafeText.escaped(String(after), keepingTabs: true), snippet.column + head.unicodeScalars.count - split)
    }

    /// `2 errors, 1 warning` (parts with a zero count left out; empty when both are zero).
    static func counts(errors: Int, warnings: Int) -> String {
        var parts: [String] = []
        if errors > 0 { parts.append(plural(errors, "error")) }
        if warnings > 0 { parts.append(plural(warnings, "warning")) }
        return parts.joined(separator: ", ")
    }

    static func plural(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

    func paint(_ text: String, _ code: String) -> String {
        colour ? Colour.paint(text, code) : text
    }

    /// `--color auto`'s decision (`Colour.enabled`): on a terminal, never with `NO_COLOR`.
    static func wantsColour(fileDescriptor: Int32, environment: [String: String]) -> Bool {
        Colour.enabled(.auto, fileDescriptor: fileDescriptor, environment: environment)
    }

    /// A long line cut to the part around `column` (in Unicode scalars, 1-based), with an
    /// ellipsis where it was cut, and the column within that part: a snippet of a 10 MB line
    /// is one readable line.
    static func window(_ line: String, column: Int, width: Int = 120) -> (text: String, column: Int) {
        guard line.utf8.count > width else { return (line, column) }
        let scalars = Array(line.unicodeScalars)
        guard scalars.count > width else { return (line, column) }
        let first = max(0, min(column - 1 - width / 3, scalars.count - width))
        let end = min(scalars.count, first + width)
        var text = String.UnicodeScalarView()
        if first > 0 { text.append("…") }
        text.append(contentsOf: scalars[first..<end])
        if end < scalars.count { text.append("…") }
        return (String(text), column - first + (first > 0 ? 1 : 0))
    }

    /// Spaces (tabs where the line has tabs) up to `column`, counted in Unicode scalars as
    /// libyaml counts.
    static func caretPadding(_ line: Substring, column: Int) -> String {
        var pad = ""
        var count = 0
        for scalar in line.unicodeScalars {
            guard count < column - 1 else { break }
            pad += scalar == "\t" ? "\t" : " "
            count += 1
        }
        if count < column - 1 { pad += String(repeating: " ", count: column - 1 - count) }
        return pad
    }
}
