import BerthTestSupport
@testable import BerthProxy
import Foundation
import Testing

/// Issue 18, finding 4: Berth never raised its descriptor limit (a shell's soft limit of
/// 1,024 while the hard limit allows far more).
@Suite("Descriptor limit", .serialized)
struct DescriptorLimitTests {
    /// Berth raises its soft descriptor limit to the hard one at start.
    @Test func theSoftDescriptorLimitIsRaisedToTheHardOne() async throws {
        let project = "bp-nofile-\(UInt32.random(in: 0...UInt32.max) % 0xFFFFFF)"
        let stateDir = FileManager.default.temporaryDirectory.appendingPathComponent("berth-proxy-\(project)").path
        var process: ChildProcess?
        defer {
            _ = process?.terminate()
            try? FileManager.default.removeItem(atPath: stateDir)
        }
        process = try ChildProcess(
            URL(fileURLWithPath: "/usr/bin/prlimit"),
            [
                "--nofile=512:4096", "--", try ProcessRunner.berthExecutable().path, "proxy", "--project", project,
                "--state-dir", stateDir, "--bind", "127.0.0.1",
            ])
        let pid = try #require(process?.pid)
        try await eventually(.seconds(10), "the state file") {
            (try? ProxyStateFile.read(directory: stateDir, project: project)) != nil
        }
        let limits = try String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8)
        let line = limits.split(separator: "\n").first { $0.hasPrefix("Max open files") }
        #expect(line?.split(separator: " ", omittingEmptySubsequences: true).dropFirst(3).prefix(2) == ["4096", "4096"])
        #expect(process?.terminate(SIGTERM, grace: .seconds(30)) == 0)
    }
}
