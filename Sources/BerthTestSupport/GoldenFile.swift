public import Foundation

/// Golden files: expected output kept in a file beside the tests, compared byte for byte.
/// To accept new output after an intended change, run the tests with
/// `BERTH_UPDATE_GOLDENS=1` (e.g. `BERTH_UPDATE_GOLDENS=1 swift test --filter HelpGoldenTests`):
/// every golden compared is rewritten, and the change shows in `git diff`.
public enum GoldenFile {
    /// Nil when `actual` equals the golden at `url`; else what differs and how to update.
    /// With `BERTH_UPDATE_GOLDENS=1` the golden is written and nil returned.
    public static func mismatch(_ actual: String, golden url: URL) -> String? {
        if ProcessInfo.processInfo.environment["BERTH_UPDATE_GOLDENS"] == "1" {
            do {
                try FileManager.default.createDirectory(
                    at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(actual.utf8).write(to: url)
                return nil
            } catch {
                return "cannot write golden \(url.path): \(error)"
            }
        }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            return "no golden file \(url.path); create it with BERTH_UPDATE_GOLDENS=1"
        }
        let expected = String(decoding: data, as: UTF8.self)
        if expected == actual { return nil }
        let a = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let b = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let line = Array(zip(a, b)).firstIndex { $0.0 != $0.1 } ?? min(a.count, b.count)
        let want = line < a.count ? String(a[line]) : "(end of file)"
        let got = line < b.count ? String(b[line]) : "(end of output)"
        return """
            \(url.lastPathComponent):\(line + 1) differs
              golden: \(want.debugDescription)
              actual: \(got.debugDescription)
            if the change is intended, run the tests with BERTH_UPDATE_GOLDENS=1 and review `git diff`
            """
    }
}
