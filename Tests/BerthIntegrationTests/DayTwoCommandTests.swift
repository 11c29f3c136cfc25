import BerthCore
import BerthDocker
import BerthTestSupport
import Foundation
import Synchronization
import Testing

/// Issue 17, item 5: `berth logs`, `berth exec` and `berth down` against the real dockerd,
/// on a project `berth apply` made from a real git repository.
@Suite struct DayTwoCommandTests {
    /// Each instance of `customer` writes `started HOSTNAME` to stdout and `warn HOSTNAME`
    /// to stderr, then serves. Docker names a container's host after its short id.
    static let chatty = ["sh", "-c", "echo started $(hostname); echo warn $(hostname) >&2; exec /entry.sh"]

    static func short(_ id: String) -> String { String(id.prefix(12)) }

    struct LogLine: Decodable, Hashable {
        var service: String
        var instance: String
        var stream: String
        var line: String
    }

    @Test func logsPrintsEveryReplicaPrefixedAndFollowsUntilStopped() async throws {
        let shop = try await Shop("logs")
        defer { shop.cleanup() }
        try shop.service("customer", image: "shop/customer:1.0", replicas: 2, command: Self.chatty)
        try shop.commit("chatty customer")
        #expect(try shop.apply().status == 0)
        let ids = try await shop.containers("customer").map { Self.short($0.Id) }.sorted()
        #expect(ids.count == 2)

        let r = try shop.berth("logs", ["customer"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr == "")
        let expected = ids.flatMap { ["customer \($0) | started \($0)", "customer \($0) | warn \($0)"] }
        #expect(r.stdout.split(separator: "\n").map(String.init).sorted() == expected.sorted())

        let json = try shop.berth("logs", ["customer", "--format", "json"])
        #expect(json.status == 0)
        let lines = try json.stdout.split(separator: "\n").map { try JSONDecoder().decode(LogLine.self, from: Data($0.utf8)) }
        #expect(Set(lines) == Set(ids.flatMap { [
            LogLine(service: "customer", instance: $0, stream: "stdout", line: "started \($0)"),
            LogLine(service: "customer", instance: $0, stream: "stderr", line: "warn \($0)"),
        ] }))

        // One instance, by a prefix of its id.
        let one = try shop.berth("logs", ["customer", "--instance", String(ids[0].prefix(8))])
        #expect(one.stdout == "customer \(ids[0]) | started \(ids[0])\ncustomer \(ids[0]) | warn \(ids[0])\n"
            || one.stdout == "customer \(ids[0]) | warn \(ids[0])\ncustomer \(ids[0]) | started \(ids[0])\n", "\(one.stdout)")

        // A typo is an error with a suggestion, exit 1; with --format json a JSON error instead (stderr).
        let typo = try shop.berth("logs", ["custmer"])
        #expect(typo == ProcessResult(
            stdout: "", stderr: "error: no instance of custmer exists in project \(shop.project); did you mean customer?\n",
            status: 1))
        let typoJSON = try shop.berth("logs", ["custmer", "--format", "json"])
        #expect(typoJSON == ProcessResult(
            stdout: "",
            stderr: #"{"error":"no instance of custmer exists in project \#(shop.project); did you mean customer?","formatVersion":1}"# + "\n",
            status: 1))

        // -f: the lines so far, then what is written later, until SIGTERM.
        let seen = Mutex<[String]>([])
        let follow = try ChildProcess(
            try ProcessRunner.berthExecutable(), ["logs", "customer", "-f", "--repo", shop.repo.path, "--project", shop.project],
            environment: shop.environment, stdout: .lines { line in seen.withLock { $0.append(line) } })
        defer { _ = follow.terminate(SIGKILL, grace: .zero) }
        #expect(eventually(within: 20) { seen.withLock { $0.count } >= 4 })
        try docker(["exec", ids[1], "sh", "-c", "echo later > /proc/1/fd/1"])
        #expect(eventually(within: 20) { seen.withLock { $0.contains("customer \(ids[1]) | later") } })
        #expect(follow.terminate(SIGTERM, grace: .seconds(10)) == 0)
        #expect(seen.withLock { $0.count } == 5)
        shop.cleanup()
        #expect(try shop.leftovers() == "")
    }

    @Test func execRunsInARunningInstanceAndExitsWithTheCommandsCode() async throws {
        let shop = try await Shop("exec")
        defer { shop.cleanup() }
        try shop.service("customer", image: "shop/customer:1.0", replicas: 2)
        try shop.commit("customer")
        #expect(try shop.apply().status == 0)
        let ids = try await shop.containers("customer").map { Self.short($0.Id) }.sorted()

        let r = try shop.berth("exec", ["customer", "--", "sh", "-c", "echo out $(hostname); echo err >&2; exit 3"])
        #expect(r == ProcessResult(stdout: "out \(ids[0])\n", stderr: "err\n", status: 3))

        let chosen = try shop.berth("exec", ["customer", "--instance", ids[1], "--", "hostname"])
        #expect(chosen == ProcessResult(stdout: "\(ids[1])\n", stderr: "", status: 0))

        let json = try shop.berth("exec", ["customer", "--format", "json", "--", "sh", "-c", "echo hi; exit 2"])
        #expect(json.status == 0)
        #expect(json.stdout == """
            {
              "command" : [
                "sh",
                "-c",
                "echo hi; exit 2"
              ],
              "exitCode" : 2,
              "formatVersion" : 1,
              "instance" : "\(ids[0])",
              "project" : "\(shop.project)",
              "service" : "customer",
              "stderr" : "",
              "stdout" : "hi\\n"
            }

            """)

        let none = try shop.berth("exec", ["customer", "--instance", "zzz", "--", "hostname"])
        #expect(none == ProcessResult(
            stdout: "", stderr: "error: customer has no instance zzz; its instances: \(ids.joined(separator: ", "))\n", status: 1))
        let noCommand = try shop.berth("exec", ["customer"])
        #expect(noCommand.status == 64)
        #expect(noCommand.stderr.hasPrefix("Error: give the command after --: berth exec customer -- CMD [ARG...]\n"), "\(noCommand.stderr)")
        shop.cleanup()
        #expect(try shop.leftovers() == "")
    }

    @Test func downRemovesContainersAndNetworkAndIsJournaled() async throws {
        let shop = try await Shop("down")
        defer { shop.cleanup() }
        try shop.service("customer", image: "shop/customer:1.0", replicas: 1)
        try shop.service("booking", image: "shop/booking:1.0", replicas: 2, dependsOn: ["customer"])
        try shop.commit("shop")
        #expect(try shop.apply().status == 0)
        #expect(try await shop.containers().count == 3)
        let network = BerthNaming.network(project: shop.project)

        // No terminal to ask on, no --auto-approve: nothing is removed.
        let refused = try shop.berth("down")
        #expect(refused == ProcessResult(
            stdout: "",
            stderr: "error: berth down asks before removing anything, and there is no terminal to ask on: pass --auto-approve\n",
            status: 1))
        #expect(try await shop.containers().count == 3)

        let r = try shop.berth("down", ["--auto-approve"], environment: ["USER": "berth-tester"])
        #expect(r == ProcessResult(
            stdout: "Removed 3 containers of project \(shop.project) (booking ×2, customer), network \(network).\n",
            stderr: "", status: 0))
        #expect(try await shop.containers().isEmpty)
        #expect(try docker(["network", "ls", "-q", "--filter", "name=^\(network)$"]).stdout == "")

        let journal = try shop.berth("journal")
        #expect(journal.status == 0)
        let head = try #require(journal.stdout.split(separator: "\n").first)
        #expect(head.contains("  (no commit)  manual by berth-tester@"), "\(journal.stdout)")
        #expect(journal.stdout.contains("    down booking   succeeded"), "\(journal.stdout)")
        #expect(journal.stdout.contains("    down customer  succeeded"), "\(journal.stdout)")

        // Again: nothing left, exit 0; JSON says the same.
        let again = try shop.berth("down", ["--auto-approve"])
        #expect(again == ProcessResult(stdout: "Nothing to remove: project \(shop.project) runs nothing.\n", stderr: "", status: 0))
        let json = try shop.berth("down", ["--auto-approve", "--format", "json"])
        #expect(json.stdout == """
            {
              "formatVersion" : 1,
              "project" : "\(shop.project)",
              "removed" : {
                "containers" : [

                ],
                "keptVolumes" : [

                ],
                "networks" : [

                ],
                "volumes" : [

                ]
              }
            }

            """)
        // And apply brings it back.
        #expect(try shop.apply().status == 0)
        #expect(try await shop.containers().count == 3)
        shop.cleanup()
        #expect(try shop.leftovers() == "")
    }
}
