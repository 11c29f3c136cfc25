/// One problem found in the desired state, with its place. Rendered as
/// `FILE:LINE:COL: error: FIELD.PATH: MESSAGE`.
public struct Diagnostic: Sendable, Hashable, Codable, Comparable {
    public enum Severity: String, Sendable, Hashable, Codable, Comparable {
        case error, warning
        public static func < (a: Severity, b: Severity) -> Bool { a == .error && b == .warning }
    }

    public var severity: Severity
    /// Repository-relative (or as given on the command line) path of the file.
    public var file: String
    public var line: Int
    public var column: Int
    /// Dotted field path (`spec.replicas`, `spec.ports[0].publish`); empty for file-level problems.
    public var path: String
    public var message: String

    public init(
        _ severity: Severity, file: String, line: Int, column: Int, path: String, message: String
    ) {
        self.severity = severity
        self.file = file
        self.line = line
        self.column = column
        self.path = path
        self.message = message
    }

    /// Total order: file, line, column, severity, path, message.
    public static func < (a: Diagnostic, b: Diagnostic) -> Bool {
        if a.file != b.file { return a.file < b.file }
        if a.line != b.line { return a.line < b.line }
        if a.column != b.column { return a.column < b.column }
        if a.severity != b.severity { return a.severity < b.severity }
        if a.path != b.path { return a.path < b.path }
        return a.message < b.message
    }

    /// `FILE:LINE:COL: error: PATH: MESSAGE` (the path part left out when empty).
    public var rendered: String {
        let field = path.isEmpty ? "" : "\(path): "
        return "\(file):\(line):\(column): \(severity.rawValue): \(field)\(message)"
    }
}

extension Array where Element == Diagnostic {
    public var hasErrors: Bool { contains { $0.severity == .error } }
}
