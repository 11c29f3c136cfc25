import BerthCore
import BerthDocker
import Foundation
import Testing

@Suite("Docker runtime")
struct RuntimeTests {
    @Test func serviceDiscoveryByName() async throws {
        try await withProject("dns") { runtime, project in
            let customer = try await runtime.startInstance(
                .init(project: project, spec: spec("customer", image: "shop/customer:1.0", health: fastHTTP), commit: nil))
            let booking = try await runtime.startInstance(
                .init(project: project, spec: spec("booking", image: "shop/booking:1.0", health: fastHTTP), commit: nil))
            #expect(try await runtime.waitHealthy(customer, check: fastHTTP, deadline: soon()) == .healthy)
            #expect(try await runtime.waitHealthy(booking, check: fastHTTP, deadline: soon()) == .healthy)

            // From inside booking, customer answers by its service name.
            let direct = try await runtime.client.exec(booking.id, ["wget", "-qO-", "http://customer:8080/version"])
            #expect(direct == .init(exitCode: 0, stdout: "customer 1.0\n", stderr: ""))
            // And booking's own endpoint does the same call.
            let viaCGI = try await runtime.client.exec(
                booking.id, ["wget", "-qO-", "http://localhost:8080/cgi-bin/customer"])
            #expect(viaCGI == .init(exitCode: 0, stdout: "customer 1.0\n", stderr: ""))

            let network = try await runtime.client.inspectNetwork("berth-\(project)")
            #expect(network.Labels == [BerthLabel.project: project])
            #expect(Set(network.Containers?.keys.map { $0 } ?? []) == [customer.id, booking.id])
            let details = try await runtime.client.inspectContainer(booking.id)
            #expect(details.NetworkSettings?.Networks?["berth-\(project)"]?.Aliases?.contains("booking") == true)
        }
    }

    @Test func observeRebuildsFromLabelsAlone() async throws {
        try await withProject("observe") { runtime, project in
            let customerSpec = spec("customer", image: "shop/customer:1.0", health: fastHTTP)
            var bookingSpec = spec("booking", image: "shop/booking:1.1", grace: Millis(2500))
            bookingSpec.dependsOn = ["customer", "audit"]
            bookingSpec.labels = ["team": "travel"]
            let c1 = try await runtime.startInstance(.init(project: project, spec: customerSpec, commit: "abc123"))
            let c2 = try await runtime.startInstance(.init(project: project, spec: customerSpec, commit: "abc123"))
            let b1 = try await runtime.startInstance(.init(project: project, spec: bookingSpec, commit: nil))
            #expect(c1.state == .starting)
            #expect(c1.service == "customer")
            #expect(c1.revision == customerSpec.revision)
            #expect(c1.commit == "abc123")
            #expect(c1.image == "shop/customer:1.0")
            let name = try await runtime.client.inspectContainer(c1.id).Name
            #expect(name.hasPrefix("/\(project)-customer-\(customerSpec.revision.id)-"))
            #expect(name.count == "/\(project)-customer-\(customerSpec.revision.id)-".count + 6)
            _ = try await runtime.waitHealthy(c1, check: fastHTTP, deadline: soon())
            _ = try await runtime.waitHealthy(c2, check: fastHTTP, deadline: soon())

            // A new runtime (as after a crash) knows nothing but what the labels say.
            let fresh = try await DockerRuntime.connect()
            let observed = try await fresh.observe(project: project)
            #expect(observed.project == project)
            #expect(observed.services.map(\.name) == ["booking", "customer"])
            let customers = try #require(observed.service("customer")).instances
            #expect(Set(customers.map(\.id)) == [c1.id, c2.id])
            #expect(customers.allSatisfy { $0.state == .running && $0.revision == customerSpec.revision })
            #expect(customers.allSatisfy { $0.commit == "abc123" && $0.image == "shop/customer:1.0" })
            // RFC 3339 UTC, whole seconds: 2026-11-25T02:57:04Z
            #expect(customers.allSatisfy { $0.created?.count == 20 && $0.created?.hasSuffix("Z") == true })
            let bookings = try #require(observed.service("booking")).instances
            #expect(bookings.map(\.id) == [b1.id])
            #expect(bookings.first?.commit == nil)
            #expect(bookings.first?.state == .running)

            // The labels carry everything a later run needs.
            var labels = try await runtime.client.inspectContainer(b1.id).Config.Labels ?? [:]
            labels["berth.sample.hash"] = nil  // the image's own label, inherited
            // The whole spec, for rollbacks: it reads back as the same revision.
            let recorded = labels.removeValue(forKey: BerthLabel.spec).flatMap { BerthLabel.recordedSpec([BerthLabel.spec: $0]) }
            #expect(recorded == bookingSpec && recorded?.revision == bookingSpec.revision)
            // A sample image is built here, never pulled: what runs is named by its image id.
            let imageID = try await runtime.client.inspectImage(bookingSpec.image).Id
            #expect(
                labels == [
                    "berth.project": project, "berth.service": "booking",
                    "berth.revision": bookingSpec.revision.id, "berth.commit": "",
                    "berth.stop-grace-ms": "2500", "berth.depends-on": "audit,customer", "team": "travel",
                    "berth.image-digest": imageID,
                ])
            #expect(BerthLabel.dependencies(labels) == ["audit", "customer"])
            let customerLabels = try await runtime.client.inspectContainer(c1.id).Config.Labels ?? [:]
            #expect(BerthLabel.healthCheck(customerLabels) == fastHTTP)
            #expect(BerthLabel.dependencies(customerLabels) == [])

            // Another project's view is empty.
            #expect(try await fresh.observe(project: project + "-x").services.isEmpty)

            // A killed instance is observed as exited with its code.
            try await runtime.client.killContainer(c2.id)
            let after = try await fresh.observe(project: project)
            let dead = try #require(after.service("customer")?.instances.first { $0.id == c2.id })
            #expect(dead.state == .exited)
            #expect(dead.exitCode == 137)
        }
    }

    @Test func aCreatedButNeverStartedContainerIsObservedAsExited() async throws {
        try await withProject("halfmade") { runtime, project in
            let s = spec("customer", image: "shop/customer:1.0")
            // What a Berth killed between create and start leaves behind.
            let id = try await runtime.client.createContainer(
                name: "\(project)-customer-\(s.revision.id)-abcdef",
                .init(Image: s.image, Labels: BerthLabel.labels(for: .init(project: project, spec: s, commit: "c1"))))
            let observed = try await runtime.observe(project: project)
            let instance = try #require(observed.service("customer")?.instances.first)
            #expect(instance.id == id)
            #expect(instance.state == .exited)
            #expect(instance.exitCode == nil)
            // A running instance is left alone by the sweep; the half-made one goes.
            let running = try await runtime.startInstance(.init(project: project, spec: s, commit: "c2"))
            // Younger than 10 s: maybe another run's start in flight, left alone.
            #expect(try await runtime.sweep(project: project) == [])
            #expect(try await runtime.sweep(project: project, minimumAge: .zero) == [id])
            let after = try await runtime.observe(project: project)
            #expect(after.service("customer")?.instances.map(\.id) == [running.id])
            #expect(try await runtime.sweep(project: project, minimumAge: .zero) == [])
        }
    }

    @Test func containerSettingsFollowTheSpec() async throws {
        try await withProject("settings") { runtime, project in
            var s = spec("customer", image: "shop/customer:1.0", grace: Millis(1500))
            s.env = ["GREETING": "hello world", "PORT": "8080"]
            s.resources = Resources(milliCPUs: 500, memory: 64 * 1024 * 1024)
            let instance = try await runtime.startInstance(.init(project: project, spec: s, commit: nil))
            let details = try await runtime.client.inspectContainer(instance.id)
            #expect(details.HostConfig?.RestartPolicy == .init(Name: "no", MaximumRetryCount: 0))
            #expect(details.HostConfig?.NanoCpus == 500_000_000)
            #expect(details.HostConfig?.Memory == Int64(64 << 20))
            #expect(details.HostConfig?.NetworkMode == "berth-\(project)")
            let env = try await runtime.client.exec(instance.id, ["sh", "-c", "echo \"$GREETING\""])
            #expect(env.stdout == "hello world\n")
            #expect(details.Config.Cmd == ["/entry.sh"])
        }
    }

    /// Least privilege by default (issue 18, finding 8): no process in a container can gain
    /// privileges (setuid binaries, file capabilities), and a fork bomb ends at the pids limit
    /// instead of taking the host's pids. Checked on the real container, from outside
    /// (`docker inspect`) and from inside (`/proc/self/status`, a fork past the limit).
    @Test func containersGetNoNewPrivilegesAndAPidsLimit() async throws {
        try await withProject("privileges") { runtime, project in
            let instance = try await runtime.startInstance(
                .init(project: project, spec: spec("customer", image: "shop/customer:1.0"), commit: nil))
            // What `docker inspect` shows: the engine's own record of the container.
            let details = try await runtime.client.inspectContainer(instance.id)
            #expect(details.HostConfig?.SecurityOpt == ["no-new-privileges"])
            #expect(details.HostConfig?.PidsLimit == DockerRuntime.defaultPidsLimit)
            let status = try await runtime.client.exec(instance.id, ["grep", "NoNewPrivs", "/proc/self/status"])
            #expect(status.stdout == "NoNewPrivs:\t1\n")
            let limit = try await runtime.client.exec(instance.id, ["cat", "/sys/fs/cgroup/pids.max"])
            let v1 = limit.stdout.isEmpty ? try await runtime.client.exec(instance.id, ["cat", "/sys/fs/cgroup/pids/pids.max"]).stdout : limit.stdout
            #expect(v1 == "\(DockerRuntime.defaultPidsLimit)\n")
            // A grace period read back from a label is a number from outside: 2^63 − 1 ms
            // is clamped, not added to (it trapped).
            try await runtime.removeInstance(id: instance.id, grace: Millis(.max))
            #expect(try await runtime.client.listContainers(labels: [BerthLabel.project: project]).isEmpty)
        }
    }

    @Test func httpProbes() async throws {
        try await withProject("http") { runtime, project in
            let good = try await runtime.startInstance(
                .init(project: project, spec: spec("booking", image: "shop/booking:1.0", health: fastHTTP), commit: nil))
            let broken = try await runtime.startInstance(
                .init(project: project, spec: spec("booking", image: "shop/booking:broken", health: fastHTTP), commit: nil))
            #expect(try await runtime.waitHealthy(good, check: fastHTTP, deadline: soon()) == .healthy)
            let clock = ContinuousClock()
            let start = clock.now
            let outcome = try await runtime.waitHealthy(broken, check: fastHTTP, deadline: soon())
            let address = try #require(try await runtime.address(instanceID: broken.id))
            #expect(address == (try await runtime.client.inspectContainer(broken.id).ipAddress(on: "berth-\(project)")))
            #expect(outcome == .unhealthy(lastFailure: "GET http://\(address):8080/healthz answered HTTP 404"))
            // Three failures, one interval (100ms) apart (the upper bound only catches a hang).
            #expect(clock.now - start >= .milliseconds(200))
            #expect(clock.now - start < .seconds(20))

            // observe reports what the probes found.
            let observed = try await runtime.observe(project: project)
            let states = Dictionary(
                uniqueKeysWithValues: (observed.service("booking")?.instances ?? []).map { ($0.id, $0.state) })
            #expect(states == [good.id: .running, broken.id: .unhealthy])
            // So does a fresh process, by probing (failureThreshold times for the broken one).
            let fresh = try await DockerRuntime.connect().observe(project: project)
            let freshStates = Dictionary(
                uniqueKeysWithValues: (fresh.service("booking")?.instances ?? []).map { ($0.id, $0.state) })
            #expect(freshStates == [good.id: .running, broken.id: .unhealthy])
        }
    }

    @Test func deadlineAndStartPeriod() async throws {
        try await withProject("deadline") { runtime, project in
            let patient = HealthCheck(
                probe: .http(path: "/healthz", port: 8080), interval: Millis(100), timeout: .seconds(2),
                startPeriod: .seconds(60), failureThreshold: 1)
            let broken = try await runtime.startInstance(
                .init(project: project, spec: spec("booking", image: "shop/booking:broken", health: patient), commit: nil))
            let clock = ContinuousClock()
            let start = clock.now
            // Failing probes within the start period do not count: only the deadline ends it.
            let outcome = try await runtime.waitHealthy(broken, check: patient, deadline: start + .seconds(3))
            guard case .timedOut(let last?) = outcome else {
                Issue.record("expected a timeout, got \(outcome)")
                return
            }
            #expect(last.hasSuffix(":8080/healthz answered HTTP 404"))
            // At the deadline: it gives up when the next probe (100 ms on) would be past it;
            // later by at most one probe (its timeout) and a loaded machine.
            #expect(clock.now - start >= .milliseconds(2900))
            #expect(clock.now - start < .seconds(12))
        }
    }

    @Test func tcpAndExecProbes() async throws {
        try await withProject("tcp") { runtime, project in
            let good = try await runtime.startInstance(
                .init(project: project, spec: spec("customer", image: "shop/customer:1.0"), commit: nil))
            let broken = try await runtime.startInstance(
                .init(project: project, spec: spec("booking", image: "shop/booking:broken"), commit: nil))
            let tcp = HealthCheck(probe: .tcp(port: 8080), interval: Millis(100), timeout: .seconds(2))
            #expect(try await runtime.waitHealthy(good, check: tcp, deadline: soon()) == .healthy)
            // broken listens (only /healthz is missing), so tcp passes there too.
            #expect(try await runtime.waitHealthy(broken, check: tcp, deadline: soon()) == .healthy)
            let closed = HealthCheck(probe: .tcp(port: 9999), interval: Millis(100), timeout: .seconds(2))
            let address = try #require(
                try await runtime.client.inspectContainer(good.id).ipAddress(on: "berth-\(project)"))
            #expect(
                try await runtime.waitHealthy(good, check: closed, deadline: soon())
                    == .unhealthy(lastFailure: "connect to \(address):9999: connection refused"))

            let exec = HealthCheck(
                probe: .exec(command: ["test", "-f", "/www/healthz"]), interval: Millis(100), timeout: Millis(2000))
            #expect(try await runtime.waitHealthy(good, check: exec, deadline: soon()) == .healthy)
            #expect(
                try await runtime.waitHealthy(broken, check: exec, deadline: soon())
                    == .unhealthy(lastFailure: "test -f /www/healthz exited with code 1"))
            #expect(try await runtime.probe(instanceID: good.id, check: exec) == .pass)
        }
    }

    @Test func anExitedInstanceIsNotWaitedFor() async throws {
        try await withProject("exits") { runtime, project in
            var s = spec("customer", image: "shop/customer:1.0", health: fastHTTP)
            s.command = ["sh", "-c", "exit 7"]
            let instance = try await runtime.startInstance(.init(project: project, spec: s, commit: nil))
            #expect(try await runtime.waitHealthy(instance, check: fastHTTP, deadline: soon()) == .exited(code: 7))
        }
    }

    @Test func eventsSeeAKill() async throws {
        try await withProject("events") { runtime, project in
            let events = runtime.events(project: project)
            // No wait: events between the call and the connection are replayed.
            let instance = try await runtime.startInstance(
                .init(project: project, spec: spec("customer", image: "shop/customer:1.0"), commit: nil))
            try await runtime.client.killContainer(instance.id)
            let expected: [RuntimeEvent.Kind] = [
                .created, .started, .killed(signal: "9"), .died(exitCode: 137),
            ]
            let seen = try await withTimeout(seconds: 10) {
                var seen: [RuntimeEvent.Kind] = []
                for try await event in events where event.instanceID == instance.id {
                    #expect(event.service == "customer")
                    seen.append(event.kind)
                    if case .died = event.kind { break }
                }
                return seen
            }
            #expect(seen.filter { if case .other = $0 { false } else { true } } == expected)
        }
    }

    @Test func removeHonoursTheGracePeriodAndIsIdempotent() async throws {
        try await withProject("remove") { runtime, project in
            let instance = try await runtime.startInstance(
                .init(project: project, spec: spec("customer", image: "shop/customer:1.0"), commit: nil))
            let clock = ContinuousClock()
            let took = try await clock.measure { try await runtime.removeInstance(id: instance.id, grace: .seconds(10)) }
            // entry.sh stops httpd on TERM: no waiting out the 10s.
            #expect(took < .seconds(6))
            #expect(try await runtime.observe(project: project).services.isEmpty)
            try await runtime.removeInstance(id: instance.id, grace: .seconds(1))

            // A process that ignores TERM is killed after the grace period.
            var stubborn = spec("customer", image: "shop/customer:1.0")
            stubborn.command = ["sh", "-c", "trap '' TERM; while true; do sleep 1; done"]
            let s = try await runtime.startInstance(.init(project: project, spec: stubborn, commit: nil))
            let killed = try await clock.measure { try await runtime.removeInstance(id: s.id, grace: Millis(1000)) }
            #expect(killed >= .milliseconds(900))
            #expect(killed < .seconds(8))
            #expect(try await runtime.observe(project: project).services.isEmpty)
        }
    }

    @Test func aMissingImageSaysWhatBerthWasDoing() async throws {
        try await withProject("noimage") { runtime, project in
            let s = spec("booking", image: "shop/booking:9.9")
            do {
                _ = try await runtime.startInstance(.init(project: project, spec: s, commit: nil))
                Issue.record("started an image that does not exist")
            } catch let error as DockerError {
                let prefix = "creating container \(project)-booking-\(s.revision.id)-"
                #expect(error.message.hasPrefix(prefix))
                #expect(error.message.dropFirst(prefix.count).dropFirst(6) == ": No such image: shop/booking:9.9")
            }
            #expect(try await runtime.observe(project: project).services.isEmpty)
        }
    }
}

struct TimedOut: Error {}

func withTimeout<T: Sendable>(seconds: Int64, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            throw TimedOut()
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

@Suite("Docker runtime: probe timeouts")
struct ProbeTimeoutTests {
    @Test func aServerThatNeverAnswersTimesOut() async throws {
        try await withProject("silent") { runtime, project in
            var silent = spec("customer", image: "shop/customer:1.0")
            // Accepts connections on 8080 and never answers.
            silent.command = ["nc", "-ll", "-p", "8080", "-e", "sleep", "3600"]
            let instance = try await runtime.startInstance(.init(project: project, spec: silent, commit: nil))
            let check = HealthCheck(
                probe: .http(path: "/healthz", port: 8080), interval: Millis(100), timeout: Millis(300),
                failureThreshold: 2)
            let address = try #require(
                try await runtime.client.inspectContainer(instance.id).ipAddress(on: "berth-\(project)"))
            // Wait until nc listens, so the failure is the timeout, not a refused connection.
            let tcp = HealthCheck(probe: .tcp(port: 8080), interval: Millis(50), timeout: .seconds(2))
            #expect(try await runtime.waitHealthy(instance, check: tcp, deadline: soon()) == .healthy)
            let clock = ContinuousClock()
            let start = clock.now
            let outcome = try await runtime.waitHealthy(instance, check: check, deadline: soon())
            #expect(outcome == .unhealthy(lastFailure: "GET http://\(address):8080/healthz: no answer within 300ms"))
            // Two timeouts of 300 ms, one interval apart: about time, so bounded, with margin.
            #expect(clock.now - start >= .milliseconds(600))
            #expect(clock.now - start < .seconds(10))
        }
    }
}

@Suite("Docker runtime: concurrency")
struct ConcurrencyTests {
    @Test func tenConcurrentStartsShareOneNetwork() async throws {
        try await withProject("ten") { runtime, project in
            let s = spec("customer", image: "shop/customer:1.0", health: fastHTTP)
            let clock = ContinuousClock()
            let start = clock.now
            let outcomes = try await withThrowingTaskGroup(of: HealthOutcome.self) { group in
                for _ in 0..<10 {
                    group.addTask {
                        let instance = try await runtime.startInstance(.init(project: project, spec: s, commit: "c"))
                        return try await runtime.waitHealthy(instance, check: fastHTTP, deadline: soon(60))
                    }
                }
                var all: [HealthOutcome] = []
                for try await outcome in group { all.append(outcome) }
                return all
            }
            print("10 instances started and healthy in \(clock.now - start)")
            #expect(outcomes == Array(repeating: .healthy, count: 10))
            let networks = try await runtime.client.listNetworks(labels: [BerthLabel.project: project])
            #expect(networks.map(\.Name) == ["berth-\(project)"])
            let observed = try await runtime.observe(project: project)
            #expect(observed.service("customer")?.instances.count == 10)
            #expect(observed.service("customer")?.instances.allSatisfy { $0.state == .running } == true)
        }
    }
}
