import Foundation
import Testing
import BerthTestSupport

@Suite struct ProcessRunnerTests {
    /// A child that hangs is killed at the timeout and named in the error, instead of
    /// hanging the test run.
    @Test func aHungChildIsKilledAtTheTimeout() throws {
        let started = ContinuousClock.now
        #expect {
            try ProcessRunner.run(URL(fileURLWithPath: "/bin/sh"), ["-c", "echo before; sleep 60"], timeout: .seconds(1))
        } throws: { error in
            "\(error)" == #"sh -c echo before; sleep 60 did not finish within 1.0s and was killed (SIGKILL); its stdout so far: "before\n"; its stderr so far: """#
        }
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test func aChildThatFinishesInTimeIsReported() throws {
        let r = try ProcessRunner.run(URL(fileURLWithPath: "/bin/sh"), ["-c", "echo hi; exit 3"], timeout: .seconds(60))
        #expect(r == ProcessResult(stdout: "hi\n", stderr: "", status: 3))
    }
}
