import ArgumentParser

/// `--project NAME`: one option, one rule and one default for every command that names a
/// project (plan, apply, status, watch, journal, history), so they all agree on it.
///
/// A project name is an RFC 1123 label: lowercase letters, digits and '-', starting and
/// ending with a letter or digit, at most 63 characters (it names Docker containers, a
/// network and a state folder). The default is `project:` in `berth.yaml` at the root of the
/// work tree (`ProjectFile`: one name for every clone), else the repository's folder name
/// made into one: lowercased, every other character turned into '-' (`My Shop` → `my-shop`).
struct ProjectOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Project name that separates repositories on one host: lowercase letters, digits and '-' (default: `project:` in the repository's berth.yaml, else its folder name, e.g. `My Shop` → my-shop).",
        valueName: "NAME"))
    var project: String?

    func validate() throws {
        if let project, let problem = Self.problem(project) {
            throw ValidationError(
                "--project \"\(project)\": \(problem); use lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters (e.g. --project \(Self.cleaned(project)))")
        }
    }

    /// Why `name` is not a valid project name, or nil.
    static func problem(_ name: String) -> String? {
        if name.isEmpty { return "empty" }
        if name.unicodeScalars.count > 63 { return "longer than 63 characters" }
        if let bad = name.unicodeScalars.first(where: { !isLabelScalar($0) && $0 != "-" }) {
            return "'\(bad)' is not allowed"
        }
        if name.hasPrefix("-") || name.hasSuffix("-") { return "starts or ends with '-'" }
        return nil
    }

    static func isValid(_ name: String) -> Bool { problem(name) == nil }

    private static func isLabelScalar(_ c: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(c) || ("0"..."9").contains(c)
    }

    /// `text` made a valid project name: lowercased, runs of other characters → one '-',
    /// no '-' at either end, at most 63 characters; "berth" when nothing is left.
    static func cleaned(_ text: String) -> String {
        var out = ""
        for c in text.lowercased().unicodeScalars {
            if isLabelScalar(c) {
                out.unicodeScalars.append(c)
            } else if !out.isEmpty && !out.hasSuffix("-") {
                out += "-"
            }
        }
        if out.unicodeScalars.count > 63 { out = String(String.UnicodeScalarView(out.unicodeScalars.prefix(63))) }
        while out.hasSuffix("-") { out.removeLast() }
        return out.isEmpty ? "berth" : out
    }

    /// `--project`, else `project:` of the work tree's `berth.yaml` (the same in every clone),
    /// else the repository's folder name, cleaned.
    func name(_ source: SourceOptions) -> String {
        if let project { return project }
        if let root = ProjectFile.root(source), let named = ProjectFile.project(inRoot: root) { return named }
        return Self.cleaned(PlanCommand.defaultProject(source))
    }
}
