import ArgumentParser
import BerthCore
import Foundation

/// How every command reports what went wrong: the one funnel between a command's thrown
/// error and the process's exit.
///
/// In text, a failure is its message on standard error. With `--format json`, every problem
/// is a JSON object on a line of its own on standard error, so standard output holds only
/// the command's result document (a plan that also has manifest errors, say):
///
/// - a manifest problem: `{"column":13,"file":"m/a.yaml","line":7,"message":"…","path":"spec.replicas","severity":"error"}`;
/// - the failure itself, last: `{"error":"…","formatVersion":1}`.
///
/// Exit statuses are those of text mode (1 a failure, 64 a usage error).
enum ErrorReporting {
    /// Whether the command line asks for JSON: `--format json` or `--format=json` before any `--`.
    static func wantsJSON(_ arguments: [String]) -> Bool {
        var i = arguments.startIndex
        while i < arguments.endIndex, arguments[i] != "--" {
            if arguments[i] == "--format=json" { return true }
            if arguments[i] == "--format", i + 1 < arguments.endIndex, arguments[i + 1] == "json" { return true }
            i += 1
        }
        return false
    }

    /// Ends the process for `error`: its message (text or JSON) on standard error, and the
    /// exit status ArgumentParser gives it (1 for a `CommandFailure`).
    static func exit(_ error: any Error, json: Bool) -> Never {
        if let failure = error as? CommandFailure {
            emit(failure.message, json: json)
            Foundation.exit(ExitStatus.failure)
        }
        let code = Berth.exitCode(for: error)
        // Help, --version and a completion script are not failures; a bare exit status has
        // already said what it had to.
        guard json, code.rawValue != 0, !(error is ExitCode) else { Berth.exit(withError: error) }
        emit(Berth.message(for: error), json: true)
        Foundation.exit(code.rawValue)
    }

    /// A failure's message on standard error, as text or as `{"error": …, "formatVersion": 1}`.
    static func emit(_ message: String, json: Bool) {
        guard json else {
            printError(message)
            return
        }
        printError(line(ErrorDocument(message)))
    }

    /// Manifest problems on standard error, in the order given: rendered lines, or one JSON
    /// object per line.
    static func report(_ diagnostics: [Diagnostic], json: Bool) {
        for d in diagnostics { printError(json ? line(d) : d.rendered) }
    }

    /// `value` as one line of JSON, keys sorted.
    static func line(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? #"{"error":"(unencodable)","formatVersion":1}"#
    }
}

/// `{"error": "…", "formatVersion": 1}`: a failure, for `--format json` (the leading
/// `error: ` of the text left out).
struct ErrorDocument: Encodable {
    var formatVersion = 1
    var error: String

    init(_ message: String) {
        let trimmed = message.hasSuffix("\n") ? String(message.dropLast()) : message
        error = trimmed.hasPrefix("error: ") ? String(trimmed.dropFirst("error: ".count)) : trimmed
    }
}
