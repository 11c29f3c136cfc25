import ArgumentParser

/// `--format text|json` (and `markdown` for plan and diff).
enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text, json, markdown
}

/// `--format text|json`, for the commands that print no markdown (so `--help` lists only
/// what they take).
enum ResultFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text, json
}
