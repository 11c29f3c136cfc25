import BerthTestSupport
import Foundation
import Testing

/// Every command's `--help`, byte for byte, against `Golden/help-<command>.txt`: the
/// command line is a contract (DESIGN.md), so a changed flag or wording shows in review.
/// After an intended change: `BERTH_UPDATE_GOLDENS=1 swift test --filter HelpGoldenTests`.
@Suite struct HelpGoldenTests {
    static let commands = [
        "", "validate", "plan", "diff", "history", "apply", "status", "watch", "journal", "proxy", "logs", "exec", "down",
        "rollback", "scale", "suspend", "resume",
    ]

    static let goldens: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    @Test(arguments: commands) func helpIsAsDocumented(command: String) throws {
        let arguments = (command.isEmpty ? [] : [command]) + ["--help"]
        // A fixed width, so wrapping does not depend on the terminal running the tests.
        let result = try ProcessRunner.berth(
            arguments, environment: ["COLUMNS": "100", "PATH": "/usr/bin:/bin"], timeout: .seconds(60))
        #expect(result.status == 0)
        #expect(result.stderr == "")
        let name = "help-\(command.isEmpty ? "berth" : command).txt"
        let mismatch = GoldenFile.mismatch(result.stdout, golden: Self.goldens.appendingPathComponent(name))
        #expect(mismatch == nil, "\(mismatch ?? "")")
    }

    @Test func everyCommandHasAGoldenAndNoGoldenIsStale() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.goldens.path)
            .filter { $0.hasPrefix("help-") }.sorted()
        let expected = Self.commands.map { "help-\($0.isEmpty ? "berth" : $0).txt" }.sorted()
        #expect(files == expected)
    }
}
