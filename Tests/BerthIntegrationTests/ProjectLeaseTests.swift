import BerthCore
import BerthDocker
import BerthTestSupport
import Dispatch
import Foundation
import Testing

/// Issue 11: at most one process acts on a project at a time. Two `berth apply` started at
/// the same moment, `berth apply` beside `berth watch`, and a lease holder that is
/// SIGKILLed — against the real dockerd, with the built binary. Every test removes its
/// containers, network, processes and folders, also when it fails.
@Suite("project lease", .serialized)
struct ProjectLeaseTests {
    @Test func twoAppliesOnANewProjectMakeOneNetworkAndTheDesiredReplicas() async throws {
        let shop = try await Shop("lease-new")
        defer { shop.cleanup() }
        try shop.service("web", image: "shop/customer:1.0", replicas: 3)
        try shop.commit("web x3")

        let (a, b) = try shop.twoApplies()
        // Honest exit codes: both converged, one by doing the work, one by finding nothing to do.
        #expect(a.status == 0, "\(a.stderr)")
        #expect(b.status == 0, "\(b.stderr)")
        // One did the work; the other found nothing left to do — after waiting for the first,
        // or, when the first had already finished as it started (1 run in 5 on a busy
        // machine), without having to wait.
        let creators = [a, b].indices.filter { [a, b][$0].stdout.contains("Plan: 1 to create, 0 to update") }
        #expect(creators.count == 1, "first:\n\(a.stdout)\nsecond:\n\(b.stdout)")
        let other = creators.first == 0 ? b : a
        #expect(other.stdout.contains("No changes. Desired state matches what runs."), "\(other.stdout)")
        let waited = [a, b].filter { $0.stderr.contains("waiting: project \(shop.project) is in use by berth apply (pid ") }
        #expect(waited.count <= 1, "first:\n\(a.stderr)\nsecond:\n\(b.stderr)")
        #expect(waited.allSatisfy { $0.stdout == other.stdout }, "only the one that found nothing to do waited")

        let containers = try await shop.containers()
        #expect(containers.count == 3, "\(containers.map { "\($0.Names ?? []) \($0.State ?? "")" })")
        #expect(containers.allSatisfy { $0.State == "running" })
        #expect(try shop.networks().count == 1)
        #expect(try shop.status().summary == ["web Synced Healthy 3/3"])
        shop.cleanup()
        #expect(try shop.leftovers() == "")
    }

    @Test func twoAppliesOfOneRollingUpdateRunItOnce() async throws {
        let shop = try await Shop("lease-roll")
        defer { shop.cleanup() }
        try shop.service("web", image: "shop/customer:1.0", replicas: 2)
        try shop.commit("web 1.0")
        let first = try shop.apply()
        try #require(first.status == 0, "\(first.stderr)")
        try shop.service("web", image: "shop/customer:1.1", replicas: 2)
        try shop.commit("web 1.1")

        let (a, b) = try shop.twoApplies()
        #expect(a.status == 0, "\(a.stderr)")
        #expect(b.status == 0, "\(b.stderr)")
        #expect([a, b].filter { $0.stdout.contains("Plan: 0 to create, 1 to update") }.count == 1, "\(a.stdout)\n\(b.stdout)")
        #expect([a, b].filter { $0.stdout.contains("No changes. Desired state matches what runs.") }.count == 1)

        let containers = try await shop.containers()
        #expect(containers.count == 2, "\(containers.map { "\($0.Image ?? "") \($0.State ?? "")" })")
        #expect(containers.allSatisfy { $0.State == "running" && $0.Image == "shop/customer:1.1" })
        #expect(try shop.networks().count == 1)
        #expect(try shop.status().summary == ["web Synced Healthy 2/2"])
        shop.cleanup()
        #expect(try shop.leftovers() == "")
    }

    /// `berth apply` while `berth watch` runs for the project: refused at once (exit 1), with
    /// who holds the project and how to ask the watch to sync instead; nothing is touched.
    @Test func applyWhileWatchRunsSaysWhoActsAndToAskItToSync() throws {
        let h = try WatchHarness()
        defer { h.stop() }
        try h.commit(["manifests/web.yaml": WatchHarness.service("web", replicas: 1)], "web x1")
        try h.start(interval: "5m")
        try #require(try eventually(within: 20) { try Docker.running(h.project).count == 1 }, "\(h.log())")
        let before = try Docker.all(h.project)
        let pid = try #require(h.process?.pid)

        try h.commit(["manifests/web.yaml": WatchHarness.service("web", replicas: 2)], "web x2")
        let r = try ProcessRunner.berth(
            ["apply", "--repo", h.repo.path, "--project", h.project, "--state-dir", h.state.path, "--auto-approve"],
            environment: ProcessInfo.processInfo.environment.merging(["NO_COLOR": "1"]) { $1 })
        #expect(r.status == 1)
        #expect(r.stdout == "")
        let lines = r.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 1, "\(r.stderr)")
        let message = lines.first ?? ""
        let head = "error: project \(h.project) is in use by berth watch (pid \(pid), since "
        let tail = "), which applies every commit itself: ask it to sync now with POST /api/v1/sync "
            + "(curl -X POST -H \"Authorization: Bearer $BERTH_API_TOKEN\" http://127.0.0.1:\(h.port)/api/v1/sync), "
            + "or stop it before applying by hand"
        #expect(message.hasPrefix(head) && message.hasSuffix(tail), "\(message)")
        let since = message.dropFirst(head.count).dropLast(tail.count)
        #expect(since.count == 20 && since.hasSuffix("Z"), "\(since)")
        #expect(try Docker.all(h.project) == before)
        #expect(h.terminate() == 0)
    }

    /// A CI `berth apply` of the commit the watch is about to apply (and told to, by a
    /// webhook): the watch rolls it out and nothing is held back.
    @Test func watchAndAnApplyOfTheSameCommitEndOnTheNewRevision() throws {
        let h = try WatchHarness()
        defer { h.stop() }
        try h.commit(["manifests/web.yaml": WatchHarness.service("web", replicas: 2)], "web 1.0")
        try h.start(interval: "1s")
        try #require(try eventually(within: 30) { try Docker.running(h.project).count == 2 }, "\(h.log())")
        try #require(eventually(within: 10) { h.healthyServices() == ["web"] }, "\(h.log())")

        // The apply finds the watch through its default state folder ($XDG_STATE_HOME/berth/<project>),
        // which is the watch's --state-dir.
        let xdg = try TemporaryDirectory(prefix: "berth-xdg")
        defer { xdg.remove() }
        try FileManager.default.createDirectory(atPath: xdg.path + "/berth", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: "\(xdg.path)/berth/\(h.project)", withDestinationPath: h.state.path)

        try h.commit(["manifests/web.yaml": WatchHarness.service("web", replicas: 2, image: "shop/customer:1.1")], "web 1.1")
        let apply = DispatchGroup()
        nonisolated(unsafe) var applied: ProcessResult?
        DispatchQueue.global().async(group: apply) {
            applied = try? ProcessRunner.berth(
                ["apply", "--repo", h.repo.path, "--project", h.project, "--auto-approve"],
                environment: ProcessInfo.processInfo.environment.merging(["NO_COLOR": "1", "XDG_STATE_HOME": xdg.path]) { $1 })
        }
        _ = try h.http("POST", "/api/v1/sync", token: "test-token")
        apply.wait()
        let r = try #require(applied)
        #expect(r.status == 1, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stderr.contains("is in use by berth watch (pid "), "\(r.stderr)")

        let converged = try eventually(within: 40) {
            let images = try sh(["docker", "ps", "-a", "--filter", "label=berth.project=\(h.project)", "--format", "{{.Image}} {{.State}}"]).out
            return images.split(separator: "\n").sorted() == ["shop/customer:1.1 running", "shop/customer:1.1 running"]
        }
        #expect(converged, "\(h.log())")
        #expect(eventually(within: 10) { h.healthyServices() == ["web"] }, "\(h.log())")
        let watch = try h.json("/api/v1/status")["watch"] as? [String: Any] ?? [:]
        #expect((watch["heldBack"] as? [Any])?.isEmpty == true, "\(watch)")
        #expect(!h.log().contains("rolled back"), "\(h.log())")
        #expect(h.terminate() == 0)
    }

    /// A lease holder killed with SIGKILL (mid-apply) never blocks the next run: the kernel
    /// drops its lock with the process. While it lives, `--no-wait` refuses at once.
    @Test func aLeaseHolderKilledWithSigkillDoesNotBlockTheNextApply() async throws {
        let shop = try await Shop("lease-kill")
        defer { shop.cleanup() }
        // Not healthy within its 60 s start period: the first apply holds the lease while it waits.
        try shop.service("web", image: "shop/customer:1.0", replicas: 1, deadline: "60s")
        try shop.repo.write("manifests/web.yaml", try String(contentsOfFile: shop.repo.path + "/manifests/web.yaml", encoding: .utf8)
            .replacingOccurrences(of: "path: /healthz", with: "path: /missing")
            .replacingOccurrences(of: "    failureThreshold: 2\n", with: "    failureThreshold: 2\n    startPeriod: 60s\n"))
        try shop.commit("web that never becomes healthy")

        let holder = try shop.startBerth("apply", ["--auto-approve"])
        defer { holder.terminate(SIGKILL, grace: .seconds(10)) }
        try #require(eventually(within: 30) { (try? Docker.all(shop.project).count) == 1 }, "\(shop.output(of: "apply"))")

        let refused = try shop.apply(["--no-wait"])
        #expect(refused.status == 1)
        let head = "error: project \(shop.project) is in use by berth apply (pid \(holder.pid), since "
        let tail = "); try again when it has finished, or leave out --no-wait to wait for it\n"
        #expect(refused.stderr.hasPrefix(head) && refused.stderr.hasSuffix(tail), "\(refused.stderr)")
        #expect(refused.stdout == "")

        holder.terminate(SIGKILL, grace: .seconds(10))
        #expect(holder.signalled)
        try shop.service("web", image: "shop/customer:1.0", replicas: 1)
        try shop.commit("web healthy")
        let next = try shop.apply(["--no-wait"])
        #expect(next.status == 0, "\(next.stderr)")
        #expect(!next.stderr.contains("in use"), "\(next.stderr)")
        #expect(try shop.status().summary == ["web Synced Healthy 1/1"])
        #expect(try await shop.containers().count == 1)
        #expect(try shop.networks().count == 1)
        shop.cleanup()
        #expect(try shop.leftovers() == "")
    }
}

extension Shop {
    /// Two `berth apply --auto-approve` started at the same moment; their results in start order.
    func twoApplies() throws -> (ProcessResult, ProcessResult) {
        let group = DispatchGroup()
        let start = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var results: [Int: Result<ProcessResult, any Error>] = [:]
        let lock = NSLock()
        for i in 0..<2 {
            DispatchQueue.global().async(group: group) {
                start.wait()
                let r = Result { try self.apply() }
                lock.withLock { results[i] = r }
            }
        }
        start.signal()
        start.signal()
        group.wait()
        return (try results[0]!.get(), try results[1]!.get())
    }

    /// Ids of the networks labelled with the project.
    func networks() throws -> [String] {
        try docker(["network", "ls", "-q", "--filter", "label=berth.project=\(project)"]).stdout
            .split(separator: "\n").map(String.init)
    }

    /// `berth COMMAND --repo REPO --project PROJECT ARGS...` in the background, its output
    /// in a file of the state folder.
    func startBerth(_ command: String, _ arguments: [String]) throws -> ChildProcess {
        try ChildProcess(
            ProcessRunner.berthExecutable(), [command, "--repo", repo.path, "--project", project] + arguments,
            environment: environment, stdout: .file(state.path + "/\(command).out"), stderr: .file(state.path + "/\(command).out"))
    }

    func output(of command: String) -> String {
        (try? String(contentsOfFile: state.path + "/\(command).out", encoding: .utf8)) ?? ""
    }
}
