@testable import BerthProxy
import BerthTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `ProxyLauncher` with the real `berth` binary and the real dockerd (the proxy connects to
/// it): racing launchers start one proxy; a stale state file is replaced; a proxy that dies
/// before it answers is reported with its log. Every proxy started is SIGTERMed (then
/// SIGKILLed) and the state folder removed, also when a test fails.
@Suite("berth proxy launcher", .serialized)
struct ProxyLauncherTests {
    @Test func racingLaunchersStartOneDetachedProxyAndTheOthersJoinIt() async throws {
        let dir = try TemporaryDirectory(prefix: "berth-launcher")
        let project = "pl" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let launcher = ProxyLauncher(
            project: project, stateDirectory: dir.path, executable: try ProcessRunner.berthExecutable().path,
            arguments: ["--bind", "127.0.0.1"])
        defer {
            stopProxies(stateDirectory: dir.path)
            dir.remove()
        }

        let outcomes = try await withThrowingTaskGroup(of: ProxyLauncher.Outcome.self) { group in
            for _ in 0..<4 { group.addTask { try await launcher.ensure() } }
            var all: [ProxyLauncher.Outcome] = []
            for try await outcome in group { all.append(outcome) }
            return all
        }
        let started = outcomes.compactMap { if case .started(let s) = $0 { s } else { nil } }
        let joined = outcomes.compactMap { if case .joined(let s) = $0 { s } else { nil } }
        try #require(started.count == 1, "\(outcomes)")
        let pid = started[0].pid
        #expect(joined.map(\.pid) == [pid, pid, pid])
        #expect(processes(stateDirectory: dir.path) == [pid])
        #expect(try ProxyStateFile.read(directory: dir.path, project: project) == started[0])
        // Detached: leads its own session, reads /dev/null, writes to the log, holds no lock.
        #expect(getsid(pid) == pid)
        #expect(link("/proc/\(pid)/fd/0") == "/dev/null")
        #expect(link("/proc/\(pid)/fd/1") == launcher.logPath)
        #expect(link("/proc/\(pid)/fd/2") == launcher.logPath)
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
        #expect(!fds.isEmpty)
        #expect(!fds.contains { link("/proc/\(pid)/fd/\($0)") == launcher.lockPath })
        #expect(try String(contentsOfFile: launcher.logPath, encoding: .utf8).contains("berth proxy serving"))
        // Once it runs, a launcher joins at once.
        #expect(try await launcher.ensure() == .joined(started[0]))
    }

    @Test func aStaleStateFileIsReplacedByANewProxy() async throws {
        let dir = try TemporaryDirectory(prefix: "berth-launcher")
        let project = "pl" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let launcher = ProxyLauncher(
            project: project, stateDirectory: dir.path, executable: try ProcessRunner.berthExecutable().path,
            arguments: ["--bind", "127.0.0.1"])
        defer {
            stopProxies(stateDirectory: dir.path)
            dir.remove()
        }
        // What a SIGKILLed proxy leaves: a state file naming a control port nobody listens on.
        let stale = ProxyStateFile(project: project, controlHost: "127.0.0.1", controlPort: 1, pid: 999_999)
        try stale.write(directory: dir.path)
        #expect(await launcher.answering() == nil)

        let outcome = try await launcher.ensure()
        guard case .started(let state) = outcome else {
            Issue.record("expected a started proxy, got \(outcome)")
            return
        }
        #expect(state.pid != stale.pid)
        #expect(processes(stateDirectory: dir.path) == [state.pid])
        #expect(try ProxyStateFile.read(directory: dir.path, project: project) == state)
        #expect(await launcher.answering() == state)
    }

    @Test func aProxyThatExitsBeforeItAnswersIsReportedWithItsLog() async throws {
        let dir = try TemporaryDirectory(prefix: "berth-launcher")
        let project = "pl" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let launcher = ProxyLauncher(
            project: project, stateDirectory: dir.path, executable: try ProcessRunner.berthExecutable().path,
            arguments: ["--control", "nonsense"])
        defer {
            stopProxies(stateDirectory: dir.path)
            dir.remove()
        }
        do {
            let outcome = try await launcher.ensure()
            Issue.record("expected an error, got \(outcome)")
        } catch {
            let message = "\(error)"
            let log = try String(contentsOfFile: launcher.logPath, encoding: .utf8)
            #expect(log.contains("Error: --control: expected HOST:PORT such as 127.0.0.1:7480, found \"nonsense\"\n"))
            let pid = message.split(separator: "(pid ").dropFirst().first.map { $0.prefix { $0.isNumber } } ?? ""
            #expect(
                message
                    == "berth proxy for project \(project) (pid \(pid)) exited with exit status 64 before it answered; "
                    + "its log \(launcher.logPath) ends with:\n\(ProxyLauncher.tail(of: launcher.logPath))")
            #expect(!pid.isEmpty)
        }
        #expect(processes(stateDirectory: dir.path) == [])
    }
}

/// Pids of the `berth proxy` processes whose command line names `stateDirectory`, sorted.
func processes(stateDirectory: String) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { Int32($0) }.filter { pid in
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        guard arguments.count > 1, arguments[1] == "proxy", arguments.contains(stateDirectory) else { return false }
        // A zombie (exited, not yet reaped) no longer runs.
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return !(stat.split(separator: ")").last?.hasPrefix(" Z") ?? true)
    }.sorted()
}

/// SIGTERM to every proxy of `stateDirectory` (by pid), SIGKILL after 10 s.
func stopProxies(stateDirectory: String) {
    let pids = processes(stateDirectory: stateDirectory)
    for pid in pids { kill(pid, SIGTERM) }
    let deadline = Date().addingTimeInterval(10)
    while !processes(stateDirectory: stateDirectory).isEmpty, Date() < deadline { usleep(50_000) }
    for pid in processes(stateDirectory: stateDirectory) { kill(pid, SIGKILL) }
}

/// Where a symbolic link points, or "".
func link(_ path: String) -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? ""
}
