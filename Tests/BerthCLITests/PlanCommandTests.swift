import Foundation
import Testing
import BerthTestSupport

/// Runs the built `berth` binary and captures stdout, stderr and the exit code.
struct PlanCLI {
    struct Result: Equatable {
        var stdout: String
        var stderr: String
        var status: Int32
    }

    static var binary: URL {
        Bundle.main.bundleURL.appendingPathComponent("berth")
    }

    static func run(_ arguments: [String], in directory: URL? = nil) throws -> Result {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self),
            status: process.terminationStatus)
    }
}

@Suite struct PlanCommandTests {
    @Test func withoutObservedStateItSaysWhatToPass() throws {
        let r = try PlanCLI.run(["plan"])
        #expect(r == PlanCLI.Result(stdout: "", stderr: """
            error: the Docker runtime is not available in this build yet, so berth plan cannot \
            observe what runs: pass --observed FILE (the JSON of `berth status --format json`) \
            or --observed none (nothing runs yet)

            """, status: 1))
    }

    @Test func anUnknownFormatIsAUsageError() throws {
        let r = try PlanCLI.run(["plan", "--observed", "none", "--format", "yaml"])
        #expect(r.status == 64)
        #expect(r.stdout == "")
        #expect(r.stderr.contains("The value 'yaml' is invalid for '--format <format>'"))
    }

    @Test func aFileThatIsNoStatusDocumentIsNamed() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = try dir.write("observed.json", #"{"project": "shop", "services": [{"name": "booking", "instances": [{"id": "booking-1", "revision": "abc"}]}]}"#)
        let r = try PlanCLI.run(["plan", "--observed", file.path])
        #expect(r == PlanCLI.Result(stdout: "", stderr: """
            error: \(file.path): not an observed state (expected the JSON of `berth status --format json`): \
            missing field services[0].instances[0].state

            """, status: 1))
    }

    @Test func aStatusFileOfAnotherProjectIsRefused() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = try dir.write("observed.json", #"{"formatVersion": 1, "project": "shop", "services": []}"#)
        let r = try PlanCLI.run(["plan", "--observed", file.path, "--project", "travel"])
        #expect(r == PlanCLI.Result(stdout: "", stderr: """
            error: \(file.path) describes project shop, not travel: pass --project shop, \
            or the status file of project travel

            """, status: 1))
    }

    @Test func aMissingFileIsNamed() throws {
        let r = try PlanCLI.run(["plan", "--observed", "/nonexistent/observed.json"])
        #expect(r.status == 1)
        #expect(r.stdout == "")
        #expect(r.stderr.hasPrefix("error: /nonexistent/observed.json: cannot read the observed state: "))
    }
}
