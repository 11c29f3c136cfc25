import ArgumentParser
import Foundation

/// `--color auto|always|never`.
enum ColourMode: String, ExpressibleByArgument, CaseIterable, Sendable {
    case auto, always, never
}

/// `--color`, for the commands whose text is coloured (validate, plan, diff, status, history).
struct ColourOptions: ParsableArguments {
    @Option(name: .customLong("color"), help: "Colour the text: auto (on a terminal, unless NO_COLOR is set), always or never.")
    var color: ColourMode = .auto

    /// Whether text written to standard output is coloured.
    var enabled: Bool {
        Colour.enabled(color, fileDescriptor: STDOUT_FILENO, environment: ProcessInfo.processInfo.environment)
    }

    /// Options as `FastArguments` read them (`nil` when `text` is no mode).
    static func fast(_ text: String?) -> ColourOptions? {
        guard let mode = ColourMode(rawValue: text ?? "auto") else { return nil }
        var options = ColourOptions()
        options.color = mode
        return options
    }
}

/// Berth's one colour decision and its one painter: every coloured output (validate's
/// diagnostics, plan, diff, status, history) goes through here. Lines are coloured after
/// `SafeText` has spelled out every control character of their content, so the only escape
/// sequences on a line are these.
enum Colour {
    static let bold = "1", red = "31", green = "32", yellow = "33", magenta = "35", cyan = "36"

    /// `always` and `never` as said; `auto`: on a terminal, and never when `NO_COLOR` is set
    /// to anything non-empty (https://no-color.org).
    static func enabled(_ mode: ColourMode, fileDescriptor: Int32, environment: [String: String]) -> Bool {
        switch mode {
        case .always: return true
        case .never: return false
        case .auto:
            if let noColour = environment["NO_COLOR"], !noColour.isEmpty { return false }
            return isatty(fileDescriptor) == 1
        }
    }

    static func paint(_ text: String, _ code: String) -> String { "\u{1B}[\(code)m\(text)\u{1B}[0m" }

    /// `berth plan`'s text: the heading and waves bold, each step by its symbol (`+` green,
    /// `~` yellow, `>` cyan, `!` magenta, `-` red).
    static func plan(_ text: String) -> String {
        mapLines(text) { line, index in
            if index == 0 || (line.hasPrefix("wave ") && line.hasSuffix(":")) { return paint(line, bold) }
            guard line.hasPrefix("  "), let code = stepColour(line.dropFirst(2)) else { return line }
            return paint(line, code)
        }
    }

    /// `berth diff` (`indent` "") and `berth history` (`indent` two spaces): `+` lines green,
    /// `-` red, `~` (and the fields under it) yellow; history's `commit …` lines bold
    /// yellow, as git shows them. Other lines (a commit message, indented by four) as they are.
    static func changes(_ text: String, indent: String = "") -> String {
        var inChange = false
        return mapLines(text) { line, _ in
            if !indent.isEmpty, line.hasPrefix("commit ") {
                inChange = false
                return paint(line, "\(bold);\(yellow)")
            }
            guard line.hasPrefix(indent) else {
                inChange = false
                return line
            }
            let body = line.dropFirst(indent.count)
            if let code = changeColour(body) {
                inChange = body.hasPrefix("~ ")
                return paint(line, code)
            }
            // The further fields of a changed service: blank where its name was.
            if inChange, body.hasPrefix(" "), body.contains(" → ") { return paint(line, yellow) }
            inChange = false
            return line
        }
    }

    /// The colour of a status cell: SYNC and HEALTH words.
    static func status(_ word: String) -> String? {
        switch word {
        case "Synced", "Healthy": green
        case "OutOfSync", "Progressing": yellow
        case "Missing", "Degraded": red
        default: nil
        }
    }

    private static func stepColour(_ body: Substring) -> String? {
        switch body.first {
        case "+": green
        case "~": yellow
        case ">": cyan
        case "!": magenta
        case "-": red
        default: nil
        }
    }

    private static func changeColour(_ body: Substring) -> String? {
        if body.hasPrefix("+ ") { return green }
        if body.hasPrefix("- ") { return red }
        if body.hasPrefix("~ ") { return yellow }
        return nil
    }

    private static func mapLines(_ text: String, _ transform: (String, Int) -> String) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for i in lines.indices where !lines[i].isEmpty { lines[i] = transform(lines[i], i) }
        return lines.joined(separator: "\n")
    }
}
