import BerthCore
import BerthDocker
import BerthTestSupport
import Dispatch
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization
import Testing

/// `berth apply` and `berth status` end to end: the built binary, real git repositories in
/// temporary folders, the real dockerd and the sample images (samples/build-images.sh).
/// Serialized: the machine is small, and rollout timing is what some tests observe.
@Suite(.serialized) struct ApplyIntegrationTests {
    @Test func theSampleFromNothingRunsHealthyAndFindsServicesByName() async throws {
        let shop = try await Shop("sample")
        defer { shop.cleanup() }
        try shop.service("customer", image: "shop/customer:1.0", replicas: 2)
        try shop.service("booking", image: "shop/booking:1.0", replicas: 2, dependsOn: ["customer"])
        try shop.service("gateway", image: "shop/gateway:1.0", replicas: 1, dependsOn: ["booking", "customer"])
        try shop.commit("shop")

        let r = try shop.apply()
        #expect(r.status == 0, "\(r.stderr)")
        // Waves: every customer instance is healthy before booking starts, booking before gateway.
        let progress = r.stderr.split(separator: "\n").map(String.init)
        let lastCustomerHealthy = progress.lastIndex { $0.hasPrefix("customer: ") && $0.hasSuffix(" healthy") }!
        let firstBookingStart = progress.firstIndex { $0.hasPrefix("booking: started ") }!
        let lastBookingHealthy = progress.lastIndex { $0.hasPrefix("booking: ") && $0.hasSuffix(" healthy") }!
        let firstGatewayStart = progress.firstIndex { $0.hasPrefix("gateway: started ") }!
        #expect(lastCustomerHealthy < firstBookingStart)
        #expect(lastBookingHealthy < firstGatewayStart)
        #expect(lines(r.stderr, startingWith: "Apply complete in ").count == 1)
        #expect(r.stdout.contains("Plan: 3 to create, 0 to update, 0 to scale, 0 to heal, 0 to delete."))

        // Really running, labelled, on the project network.
        let containers = try await shop.containers()
        #expect(containers.count == 5)
        #expect(containers.allSatisfy { $0.State == "running" })
        #expect(Set(containers.compactMap { $0.Labels?[BerthLabel.service] }) == ["booking", "customer", "gateway"])
        #expect(try shop.status().summary == [
            "booking Synced Healthy 2/2", "customer Synced Healthy 2/2", "gateway Synced Healthy 1/1",
        ])

        // Service discovery: from inside booking, customer answers by name.
        let booking = try #require(try await shop.containers("booking").first)
        let answer = try await shop.runtime.client.exec(
            booking.Id, ["/bin/busybox", "wget", "-q", "-O", "-", "http://customer:8080/version"])
        #expect(answer.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "customer 1.0")

        // Converged: a second apply has nothing to do.
        let again = try shop.apply()
        #expect(again.status == 0)
        let status = try shop.status()
        let revisions = ["booking", "customer", "gateway"].map { status.service($0)?.revision ?? "?" }
        #expect(again.stdout == """
            Berth plan for project \(shop.project) at commit \(try shop.repo.sha("HEAD").prefix(7)) (prune: on)

            No changes. Desired state matches what runs.

            SERVICE   IMAGE              REVISION    READY  SYNC    HEALTH   MESSAGE
            booking   shop/booking:1.0   \(revisions[0])  2/2    Synced  Healthy  2 of 2 replicas ready
            customer  shop/customer:1.0  \(revisions[1])  2/2    Synced  Healthy  2 of 2 replicas ready
            gateway   shop/gateway:1.0   \(revisions[2])  1/1    Synced  Healthy  1 of 1 replica ready

            """)
        #expect(again.stderr == "")

        shop.cleanup()
        #expect(try shop.leftovers() == "")
    }

    @Test func scaleUpAndDown() async throws {
        let shop = try await Shop("scale")
        defer { shop.cleanup() }
        try shop.service("customer", image: "shop/customer:1.0", replicas: 1)
        try shop.commit("one")
        #expect(try shop.apply().status == 0)
        try shop.service("customer", image: "shop/customer:1.0", replicas: 4)
        try shop.commit("four")
        var r = try shop.apply(["--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        struct Document: Decodable {
            struct Step: Decodable { var service, action, outcome: String; var wave: Int }
            var formatVersion: Int
            var project: String
            var converged: Bool
            var steps: [Step]
            var status: StatusDocument
        }
        let document = try JSONDecoder().decode(Document.self, from: Data(r.stdout.utf8))
        #expect(document.formatVersion == 1 && document.project == shop.project && document.converged)
        #expect(document.steps.map { "\($0.service) \($0.action) \($0.wave) \($0.outcome)" } == ["customer scale 0 succeeded"])
        #expect(document.status.summary == ["customer Synced Healthy 4/4"])
        #expect(try await shop.containers().filter { $0.State == "running" }.count == 4)
        let before = Set(try await shop.containers().map(\.Id))

        try shop.service("customer", image: "shop/customer:1.0", replicas: 2)
        try shop.commit("two")
        r = try shop.apply()
        #expect(r.status == 0, "\(r.stderr)")
        let after = try await shop.containers()
        #expect(after.count == 2)
        #expect(Set(after.map(\.Id)).isSubset(of: before))
        #expect(lines(r.stderr, startingWith: "customer: ").filter { $0.hasSuffix(" stopped") }.count == 2)
        #expect(try shop.status().summary == ["customer Synced Healthy 2/2"])
        shop.cleanup()
        #expect(try shop.leftovers() == "")
    }

    @Test func aKilledInstanceIsHealed() async throws {
        let shop = try await Shop("heal")
        defer { shop.cleanup() }
        try shop.service("customer", image: "shop/customer:1.0", replicas: 2)
        try shop.commit("two")
        #expect(try shop.apply().status == 0)
        let victim = try #require(try await shop.containers().first)
        try docker(["kill", victim.Id])

        let status = try shop.status()
        // Sync is revision and count (the exited instance is still there, of the desired
        // revision); that it does not run is health: Degraded.
        #expect(status.summary == ["customer Synced Degraded 1/2"])
        let r = try shop.apply()
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Plan: 0 to create, 0 to update, 0 to scale, 1 to heal, 0 to delete."))
        let now = try await shop.containers()
        #expect(now.count == 2)
        #expect(now.allSatisfy { $0.State == "running" })
        #expect(!now.map(\.Id).contains(victim.Id))
        #expect(try shop.status().summary == ["customer Synced Healthy 2/2"])
        shop.cleanup()
        #expect(try shop.leftovers() == "")
    }

    @Test func aRollingUpdateKeepsTheOldInstancesServingUntilTheNewOnesAreHealthy() async throws {
        let shop = try await Shop("roll")
        defer { shop.cleanup() }
        try shop.service("customer", image: "shop/customer:1.0", replicas: 3)
        try shop.commit("1.0")
        #expect(try shop.apply().status == 0)
        try shop.service("customer", image: "shop/customer:1.1", replicas: 3)
        try shop.commit("1.1")

        // Sample while the rollout runs: how many containers answer /healthz, and which
        // versions they serve.
        let sampler = RolloutSampler(shop: shop)
        let sampling = Task { await sampler.run() }
        // apply blocks while it waits for the child; keep it off the cooperative pool so the
        // sampler is never starved on a 2-core machine.
        let r = try await offPool { try shop.apply() }
        sampling.cancel()
        _ = await sampling.value
        #expect(r.status == 0, "\(r.stderr)")

        // One by one: start new → healthy → drain old → stopped, three times.
        let events = lines(r.stderr, startingWith: "customer: ").filter { !$0.contains("update") }
        #expect(events.count == 12, "\(events)")
        for i in stride(from: 0, to: min(events.count, 12), by: 4) {
            #expect(events[i].hasSuffix("; waiting for health"))
            #expect(events[i + 1].hasSuffix(" healthy"))
            #expect(events[i + 2].hasSuffix(" draining"))
            #expect(events[i + 3].hasSuffix(" stopped"))
        }
        let samples = sampler.samples
        #expect(samples.count >= 5, "too few samples to judge the rollout: \(samples)")
        // replicas − maxUnavailable = 3 healthy at every moment.
        #expect(samples.map(\.healthy).min() ?? 0 >= 3, "\(samples)")
        // Both versions were seen serving: old ones served until the new ones took over.
        #expect(samples.contains { $0.versions.contains("customer 1.0") && $0.versions.contains("customer 1.1") })
        let now = try await shop.containers()
        #expect(now.count == 3)
        #expect(Set(now.compactMap(\.Image)) == ["shop/customer:1.1"])
        #expect(try shop.status().summary == ["customer Synced Healthy 3/3"])
        shop.cleanup()
        #expect(try shop.leftovers() == "")
    }

    /// maxUnavailable 1: one old instance is stopped before the broken one starts, so the
    /// rollback must start the old revision again from the spec recorded on its containers.
    @Test(arguments: [0, 1])
    func aBrokenImageRollsBackLeavesTheOldRevisionServingAndExits1(maxUnavailable: Int) async throws {
        let shop = try await Shop("broken\(maxUnavailable)")
        defer { shop.cleanup() }
        try shop.service("customer", image: "shop/customer:1.0", replicas: 1)
        try shop.service("booking", image: "shop/booking:1.0", replicas: 2, dependsOn: ["customer"], maxUnavailable: maxUnavailable)
        try shop.commit("1.0")
        #expect(try shop.apply().status == 0)
        let old = Set(try await shop.containers("booking").map(\.Id))
        let oldRevision = try #require(try shop.status().service("booking")?.revision)

        try shop.service(
            "booking", image: "shop/booking:broken", replicas: 2, dependsOn: ["customer"], deadline: "4s",
            maxUnavailable: maxUnavailable)
        try shop.commit("broken")
        let newRevision = try #require(try shop.status().service("booking")?.revision)
        let r = try shop.apply()
        #expect(r.status == 1)
        let outcome = try #require(lines(r.stderr, startingWith: "booking: rollout of revision ").first)
        #expect(outcome.hasPrefix("booking: rollout of revision \(newRevision) (shop/booking:broken) failed ("))
        #expect(outcome.hasSuffix("): rolled back to \(oldRevision) (shop/booking:1.0); 2 of 2 replicas serve the old revision"))
        #expect(r.stderr.contains("\nerror: 1 of 1 step did not succeed:\n  booking: rollout of revision \(newRevision)"))
        // The old instances never stopped serving; nothing of the broken revision is left.
        let now = try await shop.containers("booking")
        #expect(now.count == 2)
        #expect(Set(now.map(\.Id)).intersection(old).count == 2 - maxUnavailable)
        #expect(now.allSatisfy { $0.State == "running" && $0.Labels?[BerthLabel.revision] == oldRevision })
        shop.cleanup()
        #expect(try shop.leftovers() == "")
    }

    @Test func pruneDeletesWhatLeftGitUnlessToldNotTo() async throws {
        let shop = try await Shop("prune")
        defer { shop.cleanup() }
        try shop.service("customer", image: "shop/customer:1.0", replicas: 1)
        try shop.service("booking", image: "shop/booking:1.0", replicas: 1)
        try shop.service("gateway", image: "shop/gateway:1.0", replicas: 1)
        try shop.commit("three")
        #expect(try shop.apply().status == 0)
        try shop.repo.remove("manifests/gateway.yaml")
        try shop.commit("no gateway")

        var r = try shop.apply(["--no-prune"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("(prune: off)\n"), "\(r.stdout)")
        #expect(r.stdout.contains("gateway: not in the desired state (1 instance); kept by --no-prune (leave it out to delete it)"), "\(r.stdout)")
        #expect(try await shop.containers("gateway").count == 1)

        // Apply prunes by default, as plan and watch do.
        r = try shop.apply()
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Plan: 0 to create, 0 to update, 0 to scale, 0 to heal, 1 to delete."))
        #expect(try await shop.containers("gateway").isEmpty)
        #expect(try await shop.containers().count == 2)
        shop.cleanup()
        #expect(try shop.leftovers() == "")
    }

    @Test(arguments: ["create", "update"])
    func killedInTheMiddleTheNextApplyConvergesWithNothingLeftOver(phase: String) async throws {
        let shop = try await Shop("crash-\(phase)")
        defer { shop.cleanup() }
        if phase == "update" {
            try shop.service("customer", image: "shop/customer:1.0", replicas: 4)
            try shop.commit("1.0")
            #expect(try shop.apply().status == 0)
        }
        try shop.service("customer", image: "shop/customer:1.1", replicas: 4)
        try shop.commit("1.1")

        // Kill berth (SIGKILL) as soon as the second instance has started.
        let scratch = try TemporaryDirectory(prefix: "berth-crash")
        defer { scratch.remove() }
        let errURL = try scratch.write("stderr", "")
        let process = try ChildProcess(
            try ProcessRunner.berthExecutable(),
            ["apply", "--auto-approve", "--repo", shop.repo.path, "--project", shop.project],
            environment: shop.environment, stderr: .file(errURL.path))
        let started = ContinuousClock.now
        while ContinuousClock.now - started < .seconds(30) {
            let text = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
            if text.components(separatedBy: "; waiting for health").count - 1 >= 2 { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        process.terminate(SIGKILL)
        #expect(process.signalled)
        if phase == "update" {
            // Killed half-way: old and new revisions side by side.
            #expect(try shop.status().service("customer")?.sync == "OutOfSync")
        }

        let r = try shop.apply()
        #expect(r.status == 0, "\(r.stderr)")
        let now = try await shop.containers()
        #expect(now.count == 4, "\(now.map { ($0.Names ?? [], $0.State ?? "") })")
        #expect(now.allSatisfy { $0.State == "running" && $0.Image == "shop/customer:1.1" })
        #expect(try shop.status().summary == ["customer Synced Healthy 4/4"])
        let networks = try docker(["network", "ls", "-q", "--filter", "label=berth.project=\(shop.project)"]).stdout
        #expect(networks.split(separator: "\n").count == 1)
        shop.cleanup()
        #expect(try shop.leftovers() == "")
    }

    /// What a crash can leave, made by hand: a container created but never started, and a
    /// surplus running instance. The next apply removes both and converges.
    @Test func halfMadeAndSurplusContainersAreCleanedUp() async throws {
        let shop = try await Shop("leftover")
        defer { shop.cleanup() }
        try shop.service("customer", image: "shop/customer:1.0", replicas: 2)
        try shop.commit("two")
        #expect(try shop.apply().status == 0)
        let revision = try #require(try shop.status().service("customer")?.revision)
        let labels = [
            "--label", "berth.project=\(shop.project)", "--label", "berth.service=customer",
            "--label", "berth.revision=\(revision)", "--network", BerthNaming.network(project: shop.project),
        ]
        let created = try docker(["create"] + labels + ["shop/customer:1.0"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let surplus = try docker(["run", "-d"] + labels + ["shop/customer:1.0"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(created.count == 64 && surplus.count == 64)

        // A declined apply (no terminal to ask on) changes nothing, the half-made one included.
        let declined = try shop.berth("apply")
        #expect(declined.status == 1)
        #expect(try docker(["inspect", "-f", "{{.State.Status}}", created]).stdout == "created\n")
        // Only a container created at least 10 s ago is swept: a younger one may be a
        // running watch's start in flight.
        try await Task.sleep(for: .seconds(11))
        let r = try shop.apply()
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.hasPrefix(
            "removed 1 container that an interrupted run created but never started: \(created.prefix(12))\n"))
        let now = try await shop.containers()
        #expect(now.count == 2)
        #expect(now.allSatisfy { $0.State == "running" })
        #expect(!now.map(\.Id).contains(created))
        #expect(try shop.status().summary == ["customer Synced Healthy 2/2"])
        shop.cleanup()
        #expect(try shop.leftovers() == "")
    }

    @Test func aDeadDaemonIsNamedAndExits1() async throws {
        let shop = try await Shop("dead")
        defer { shop.cleanup() }
        try shop.service("customer", image: "shop/customer:1.0", replicas: 1)
        try shop.commit("one")
        for command in ["apply", "status"] {
            let r = try shop.berth(
                command, command == "apply" ? ["--auto-approve"] : [],
                environment: ["DOCKER_HOST": "unix:///nonexistent.sock"])
            #expect(r == ProcessResult(stdout: "", stderr: """
                error: cannot connect to the Docker daemon at unix:///nonexistent.sock: no such socket file. \
                Is dockerd running? Start it with `sudo systemctl start docker` (or `sudo dockerd &`), or set \
                DOCKER_HOST to the engine's address; Berth looked for the socket /nonexistent.sock.

                """, status: 1))
        }
    }

    @Test func withoutATerminalApplyRefusesUnlessAutoApproved() async throws {
        let shop = try await Shop("ask")
        defer { shop.cleanup() }
        try shop.service("customer", image: "shop/customer:1.0", replicas: 1)
        try shop.commit("one")
        let r = try shop.berth("apply")
        #expect(r.status == 1)
        #expect(r.stderr == """
            error: berth apply asks before changing anything, and there is no terminal to ask on: \
            pass --auto-approve to apply without asking

            """)
        #expect(try await shop.containers().isEmpty)
    }

    /// On a terminal (a pseudo-terminal from util-linux `script`) apply asks; only "yes" applies.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script")))
    func onATerminalApplyAsksAndOnlyYesApplies() async throws {
        let shop = try await Shop("tty")
        defer { shop.cleanup() }
        try shop.service("customer", image: "shop/customer:1.0", replicas: 1)
        try shop.commit("one")
        let berth = try ProcessRunner.berthExecutable()
        let command = "'\(berth.path)' apply --repo '\(shop.repo.path)' --project \(shop.project)"
        let script = URL(fileURLWithPath: "/usr/bin/script")
        let declined = try ProcessRunner.run(
            script, ["-qec", command, "/dev/null"], environment: shop.environment, stdin: "no\n")
        #expect(declined.status == 1)
        #expect(declined.stdout.contains("Apply this plan to project \(shop.project)? Only 'yes' is accepted: "))
        #expect(declined.stdout.contains("Apply cancelled: nothing was changed."))
        #expect(try await shop.containers().isEmpty)

        let accepted = try ProcessRunner.run(
            script, ["-qec", command, "/dev/null"], environment: shop.environment, stdin: "yes\n")
        #expect(accepted.status == 0, "\(accepted.stdout)")
        #expect(accepted.stdout.contains("customer: create succeeded in "))
        #expect(try await shop.containers().filter { $0.State == "running" }.count == 1)
        shop.cleanup()
        #expect(try shop.leftovers() == "")
    }

    @Test func statusPrintsAnAlignedSortedTable() async throws {
        let shop = try await Shop("status")
        defer { shop.cleanup() }
        try shop.service("customer", image: "shop/customer:1.0", replicas: 1)
        try shop.service("booking", image: "shop/booking:1.0", replicas: 2)
        try shop.commit("two")
        let json = try shop.status()
        let b = try #require(json.service("booking")), c = try #require(json.service("customer"))
        var r = try shop.berth("status")
        #expect(r == ProcessResult(stdout: """
            SERVICE   IMAGE              REVISION    READY  SYNC       HEALTH   MESSAGE
            booking   shop/booking:1.0   \(b.revision)  0/2    OutOfSync  Missing  no instances running (2 desired)
            customer  shop/customer:1.0  \(c.revision)  0/1    OutOfSync  Missing  no instances running (1 desired)

            """, stderr: "", status: 0))
        #expect(try shop.apply().status == 0)
        r = try shop.berth("status")
        #expect(r.stdout == """
            SERVICE   IMAGE              REVISION    READY  SYNC    HEALTH   MESSAGE
            booking   shop/booking:1.0   \(b.revision)  2/2    Synced  Healthy  2 of 2 replicas ready
            customer  shop/customer:1.0  \(c.revision)  1/1    Synced  Healthy  1 of 1 replica ready

            """)
        shop.cleanup()
        #expect(try shop.leftovers() == "")
    }
}

/// Polls the project's containers during a rollout: per sample, how many answer /healthz
/// and which `/version`s they serve.
final class RolloutSampler: Sendable {
    struct Sample: Sendable, CustomStringConvertible {
        var healthy: Int
        var versions: Set<String>
        var description: String { "\(healthy) \(versions.sorted())" }
    }
    let shop: Shop
    private let collected = Mutex<[Sample]>([])
    var samples: [Sample] { collected.withLock { $0 } }

    init(shop: Shop) { self.shop = shop }

    func run() async {
        let network = BerthNaming.network(project: shop.project)
        while !Task.isCancelled {
            guard let containers = try? await shop.containers() else {
                try? await Task.sleep(for: .milliseconds(30))
                continue
            }
            let running = containers.filter { $0.State == "running" }
            let answers = await withTaskGroup(of: Answer.self) { group in
                for c in running {
                    guard let ip = c.NetworkSettings?.Networks?[network]?.IPAddress, !ip.isEmpty else { continue }
                    group.addTask {
                        let health = await Self.get("http://\(ip):8080/healthz")
                        guard case .ok = health else { return health }
                        return await Self.get("http://\(ip):8080/version")
                    }
                }
                var out: [Answer] = []
                for await a in group { out.append(a) }
                return out
            }
            // A sample cut short by the end of the rollout (its requests cancelled) says nothing.
            if Task.isCancelled { break }
            // A probe that timed out on a loaded machine says nothing either way: only samples
            // in which every running container answered (or refused) are judged.
            if answers.contains(where: { if case .inconclusive = $0 { true } else { false } }) { continue }
            let healthy = answers.compactMap { if case .ok(let body) = $0 { body } else { nil } }
            collected.withLock { $0.append(Sample(healthy: healthy.count, versions: Set(healthy))) }
            try? await Task.sleep(for: .milliseconds(30))
        }
    }

    static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 3
        return URLSession(configuration: configuration)
    }()

    enum Answer: Sendable {
        /// 200, with the body.
        case ok(String)
        /// Refused, reset, or another status: the container does not serve.
        case failed
        /// No answer in time: the machine may just be busy.
        case inconclusive
    }

    /// A GET with a short timeout.
    static func get(_ url: String) async -> Answer {
        do {
            let (data, response) = try await session.data(from: URL(string: url)!)
            guard (response as? HTTPURLResponse)?.statusCode == 200 else { return .failed }
            return .ok(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        } catch let error as URLError where error.code == .timedOut || error.code == .cancelled {
            return .inconclusive
        } catch {
            return .failed
        }
    }
}

/// Runs blocking work (a child process) on a plain dispatch thread, not the cooperative pool.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}
