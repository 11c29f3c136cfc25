import ArgumentParser

/// `--format text|json` (and `markdown` for plan and diff).
enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text, json, markdown
}
