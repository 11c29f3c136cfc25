public import BerthCore
import BerthNet
import Foundation
public import Logging

/// `ContainerRuntime` over the Docker Engine API.
///
/// - One user-defined bridge network per project, `berth-<project>`, labelled
///   `berth.project`; each container joins it with its service name as alias, so services
///   find each other by name. No host ports are published.
/// - Each container is named `<project>-<service>-<revision>-<6 hex>` and carries the labels
///   in `BerthLabel`; `observe` reads nothing else, so a crashed Berth loses nothing.
/// - Containers are created with restart policy `no`: the process that starts them waits
///   for their health, and an exit must reach it, not be restarted behind its back. Who
///   restarts them afterwards is handed over (`handOverRestarts`, `RestartOwner`): Docker
///   after `berth apply`, Berth while `berth watch` runs. A container that was created but never
///   started (Berth killed between create and start) is observed as `exited` with no exit
///   code, so the next run removes and replaces it like any dead instance.
/// - Health is Berth's own: `waitHealthy` probes until healthy; `observe` reports the last
///   verdict this process saw, or probes (with the check from the `berth.health` label)
///   containers it has not seen before: `unhealthy` only after `failureThreshold`
///   consecutive failures (see `firstSightState`).
public struct DockerRuntime: ContainerRuntime {
    /// The most processes and threads one container may have (Docker sets no limit): a fork
    /// bomb or a thread leak in one replica stops there instead of exhausting the host's
    /// pids. Generous for real services (a JVM with a few hundred threads, a pre-forking
    /// server); not yet settable per service.
    public static let defaultPidsLimit: Int64 = 4096

    public let client: DockerClient

    /// `m` rounded up to whole seconds (Docker's unit for stop timeouts), within 0 and
    /// `ManifestLimits.duration`: a grace period read back from a container's label is a
    /// number from outside, and `Int64.max + 999` would trap.
    static func wholeSeconds(_ m: Millis) -> Int {
        let ms = min(max(m.milliseconds, 0), ManifestLimits.duration.milliseconds)
        return Int((ms + 999) / 1000)
    }
    public var logger: Logger
    /// When true (the default), `observe` probes running containers this process has no
    /// verdict for, so a fresh `berth status` shows real health.
    public var probeOnObserve: Bool = true

    let verdicts = VerdictCache()
    /// Where the values of secrets come from (`berth` sets it when BERTH_AGE_KEY_FILE is set).
    public var secretSource: (any SecretSource)?
    /// Where pulls find registry credentials.
    public var credentials = RegistryCredentials()
    /// Where secrets mounted as files are written (tmpfs).
    var secretFiles = SecretFileStore.standard()

    public init(client: DockerClient, logger: Logger = Logger(label: "berth.docker")) {
        self.client = client
        self.logger = logger
    }

    /// Connects at `DOCKER_HOST` (or the default socket).
    public static func connect(
        environment: [String: String]? = nil, logger: Logger = Logger(label: "berth.docker")
    ) async throws -> DockerRuntime {
        DockerRuntime(client: try await DockerClient.connect(environment: environment, logger: logger), logger: logger)
    }

    // MARK: - Network

    /// Finds or makes the project network (see `ProjectNetwork.swift`); once per process.
    public func prepare(project: String) async throws {
        _ = try await networkReference(project: project)
    }

    /// How containers name the project network (see `ensureProjectNetwork`), found or made
    /// once per process.
    func networkReference(project: String) async throws -> String {
        try await verdicts.ensureNetwork(project: project) { try await ensureProjectNetwork(project) }
    }

    /// Removes the project's containers that were created but never started at least 10 s
    /// ago (see `sweep(project:minimumAge:)`).
    public func sweep(project: String) async throws -> [String] {
        try await sweep(project: project, minimumAge: .seconds(10))
    }

    /// Removes the project's containers that were created but never started, and whose
    /// Created time is at least `minimumAge` ago: a younger one may be another run's (a
    /// `berth watch`) start in flight, between its create and its start.
    public func sweep(project: String, minimumAge: Duration) async throws -> [String] {
        let containers = try await client.listContainers(labels: [BerthLabel.project: project])
        let now = Date().timeIntervalSince1970
        let age = Double(minimumAge.components.seconds) + Double(minimumAge.components.attoseconds) / 1e18
        var removed: [String] = []
        for container in containers where container.State == "created" {
            guard let created = container.Created, now - Double(created) >= age else { continue }
            do {
                try await client.removeContainer(container.Id)
            } catch let error as DockerError where error.code == .notFound {}
            await verdicts.forget(container.Id)
            removed.append(container.Id)
            logger.debug("removed a container an interrupted run never started", metadata: ["docker.container": "\(container.Id)"])
        }
        let existing = Set(containers.filter { !removed.contains($0.Id) }.flatMap { $0.Names ?? [] }.map { String($0.drop { $0 == "/" }) })
        secretFiles.sweep(existing: existing, project: project)
        return removed.sorted()
    }

    /// Removes every container of `project` (forcefully), its network, its named volumes
    /// (their data is lost) and secret files. For tests and teardown; the executor deletes
    /// instance by instance with their grace periods, and never a volume unless asked.
    public func destroyProject(_ project: String) async throws {
        let containers = try await client.listContainers(labels: [BerthLabel.project: project])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for container in containers {
                group.addTask {
                    do { try await client.removeContainer(container.Id) } catch let e as DockerError where e.code == .notFound {}
                }
            }
            try await group.waitForAll()
        }
        try await removeProjectNetworks(project)
        await verdicts.forgetNetwork(project: project)
        // Tests' teardown: the project's volumes and secret files go too.
        for volume in try await volumes(project: project) { try await removeVolume(project: project, name: volume) }
        secretFiles.sweep(existing: [], project: project)
    }

    // MARK: - Instances

    public func startInstance(_ request: InstanceRequest) async throws -> Instance {
        var request = request
        if request.secrets.isEmpty { request.secrets = try await secretValues(for: request.spec) }
        var network = try await networkReference(project: request.project)
        let spec = request.spec
        var name = BerthNaming.container(project: request.project, service: spec.name, revision: spec.revision)
        try await ensureVolumes(project: request.project, spec: spec)
        // The digest of what this instance runs (the image is there: prepareImage pulled it
        // and, through the executor, said which digest it found).
        var digest = request.imageDigest
        if digest == nil { digest = try await inspectImageIfPresent(spec.image).map { Self.digest(of: $0, reference: spec.image) } }
        func body(for name: String, network: String) throws -> Engine.ContainerCreate {
            let files = try secretFiles.write(
                project: request.project, container: name, mounts: spec.container.secretFiles, values: request.secrets,
                user: spec.container.user)
            return try Self.createBody(request, network: network, secretMounts: files, imageDigest: digest)
        }
        var config = try body(for: name, network: network)
        // While the create is under way, a container of the service that `observe` lists as
        // created (not started) may be this one: it is `starting`, not an interrupted create.
        await verdicts.beginCreate(project: request.project, service: spec.name)
        let id: String
        do {
            id = try await client.createContainer(name: name, config)
        } catch let error as DockerError
            where error.code == .notFound && (error.engineMessage ?? "").contains("network")
        {
            // The network went away behind this process's back: make it again, once.
            await verdicts.forgetNetwork(project: request.project)
            network = try await networkReference(project: request.project)
            config.HostConfig?.NetworkMode = network
            config.NetworkingConfig = .init(EndpointsConfig: [network: .init(Aliases: [spec.name])])
            id = try await endingCreate(request) { try await client.createContainer(name: name, config) }
        } catch let error as DockerError where error.code == .conflict {
            // The random suffix collided (1 in 16 million): draw again, once.
            name = BerthNaming.container(project: request.project, service: spec.name, revision: spec.revision)
            config = try body(for: name, network: network)
            id = try await endingCreate(request) { try await client.createContainer(name: name, config) }
        } catch {
            await verdicts.endCreate(project: request.project, service: spec.name)
            secretFiles.remove(project: request.project, container: name)
            throw error
        }
        await verdicts.set(id, .starting)
        await verdicts.endCreate(project: request.project, service: spec.name)
        do {
            try await client.startContainer(id)
        } catch {
            // Leave nothing half-made behind.
            try? await client.removeContainer(id)
            secretFiles.remove(project: request.project, container: name)
            await verdicts.forget(id)
            throw error
        }
        logger.debug(
            "started instance",
            metadata: ["service.name": "\(spec.name)", "docker.container": "\(name)", "berth.revision": "\(spec.revision)"])
        let details = try await client.inspectContainer(id)
        return instance(from: details, state: details.State.Running ? .starting : .exited)
    }

    /// `create`, and the end of the create under way if it fails.
    private func endingCreate(_ request: InstanceRequest, _ create: () async throws -> String) async throws -> String {
        do { return try await create() } catch {
            await verdicts.endCreate(project: request.project, service: request.spec.name)
            throw error
        }
    }

    /// Docker's stop timeout is whole seconds: the grace period is rounded up (500ms → 1s).
    /// Removing an instance that is already gone is not an error.
    public func removeInstance(id: String, grace: Millis) async throws {
        let seconds = Self.wholeSeconds(grace)
        // Its secret files go with it (the folder is named after the container).
        let details = try? await inspectIfPresent(id)
        defer {
            if let details, let project = details.Config.Labels?[BerthLabel.project] {
                secretFiles.remove(project: project, container: String(details.Name.drop { $0 == "/" }))
            }
        }
        do {
            try await client.stopContainer(id, timeoutSeconds: seconds)
        } catch let error as DockerError where error.code == .notFound {
            await verdicts.forget(id)
            return
        }
        do {
            try await client.removeContainer(id)
        } catch let error as DockerError where error.code == .notFound {
        } catch let error as DockerError where error.code == .conflict {
            // "removal already in progress": another remover won.
        }
        await verdicts.forget(id)
    }

    public func recordedSpec(instanceID: String) async throws -> ServiceSpec? {
        guard let details = try await inspectIfPresent(instanceID) else { return nil }
        return BerthLabel.recordedSpec(details.Config.Labels ?? [:], environment: details.Config.Env ?? [])
    }

    // MARK: - Observe

    public func observe(project: String) async throws -> ObservedState {
        let containers = try await client.listContainers(labels: [BerthLabel.project: project])
        let network = BerthNaming.network(project: project)
        let instances = try await withThrowingTaskGroup(of: Instance?.self) { group in
            for container in containers {
                group.addTask { await observed(container, network: network) }
            }
            var out: [Instance] = []
            for try await instance in group { if let instance { out.append(instance) } }
            return out
        }
        var byService: [String: [Instance]] = [:]
        for instance in instances { byService[instance.service, default: []].append(instance) }
        // `dependsOn` from the label, the union over the service's instances, so a pruned
        // service is deleted before the services it depended on.
        var dependencies: [String: Set<String>] = [:]
        for container in containers {
            let labels = container.Labels ?? [:]
            guard let service = labels[BerthLabel.service], labels[BerthLabel.revision] != nil, byService[service] != nil
            else { continue }
            dependencies[service, default: []].formUnion(BerthLabel.dependencies(labels))
        }
        let services = byService.keys.sorted().map { name in
            ObservedService(
                name: name, instances: byService[name]!.sorted { ($0.created ?? "", $0.id) < ($1.created ?? "", $1.id) },
                dependsOn: (dependencies[name] ?? []).sorted())
        }
        return ObservedState(project: project, services: services)
    }

    private func observed(_ container: Engine.ContainerSummary, network: String) async -> Instance? {
        let labels = container.Labels ?? [:]
        // A stray (the project's label, but no service or revision) is observed under the
        // pseudo-service `(strays)`, which a prune deletes.
        var service = ObservedService.straysName
        if let name = labels[BerthLabel.service], labels[BerthLabel.revision] != nil { service = name }
        let revision = labels[BerthLabel.revision] ?? ""
        let state: Instance.State
        var exitCode: Int? = nil
        switch container.State ?? "" {
        case "running":
            switch await verdicts.get(container.Id) {
            case .died?:
                // Docker's list can still say `running` just after the `die` event (it
                // updates the list after): ask the container itself rather than probe a
                // dead address for `failureThreshold` seconds (a heal waited 4 s on it).
                let details = try? await inspectIfPresent(container.Id)
                if let details, details.State.Running {
                    await verdicts.forget(container.Id)
                    state = .running
                } else {
                    state = .exited
                    exitCode = details?.State.ExitCode
                }
            case .healthy?: state = .running
            case .unhealthy?: state = .unhealthy
            case .starting?: state = .starting
            case nil:
                if probeOnObserve, let check = BerthLabel.healthCheck(labels) {
                    let address = container.NetworkSettings?.Networks?[network]?.IPAddress
                    state = await firstSightState(container, address: address, check: check)
                } else {
                    state = .running
                }
            }
        case "restarting": state = .starting
        case "paused": state = .unhealthy
        case "exited", "dead":
            state = .exited
            exitCode = container.exitCode
        case "created":
            // Never started: an interrupted create (exited, so it is replaced), unless this
            // process is starting it.
            // `creating` first: a start that ends its create between the two reads has marked
            // the container `starting` before, so one of them sees it.
            let creating = await verdicts.creating(project: labels[BerthLabel.project] ?? "", service: service)
            let starting = await verdicts.get(container.Id) == .starting
            state = starting || creating ? .starting : .exited
        default:  // "removing"
            state = .exited
        }
        let commit = labels[BerthLabel.commit].flatMap { $0.isEmpty ? nil : $0 }
        return Instance(
            id: container.Id, service: service, revision: Revision(revision), commit: commit, image: container.Image,
            state: state, exitCode: exitCode, created: container.Created.map(Self.rfc3339))
    }

    /// The state of a running container this process has no verdict for (after a restart:
    /// every `plan`, `status`, a restarted `watch`). One slow answer must not make a healthy
    /// container `unhealthy` (the planner would replace it: a phantom change), so it is
    /// `running` unless `failureThreshold` consecutive probes fail, as a health check
    /// counts failures; the probes are `interval` apart (at most 1 s, so `status` stays
    /// quick) and the first pass ends them. A failing container still within its
    /// `startPeriod` (by its Created time) is `starting`, which is not healed. Nothing is
    /// cached: the next observe probes afresh.
    private func firstSightState(
        _ container: Engine.ContainerSummary, address: String?, check: HealthCheck
    ) async -> Instance.State {
        let attempts = max(1, check.failureThreshold)
        let pause = Duration.milliseconds(min(max(1, check.interval.milliseconds), 1000))
        for attempt in 1...attempts {
            if await prober.probe(instanceID: container.Id, host: address, check: check).passed {
                return .running
            }
            if attempt < attempts { try? await Task.sleep(for: pause) }
        }
        if let created = container.Created,
            (Date().timeIntervalSince1970 - Double(created)) * 1000 < Double(check.startPeriod.milliseconds)
        {
            return .starting
        }
        return .unhealthy
    }

    private func instance(from details: Engine.ContainerDetails, state: Instance.State) -> Instance {
        let labels = details.Config.Labels ?? [:]
        let commit = labels[BerthLabel.commit].flatMap { $0.isEmpty ? nil : $0 }
        return Instance(
            id: details.Id, service: labels[BerthLabel.service] ?? "", revision: Revision(labels[BerthLabel.revision] ?? ""),
            commit: commit, image: details.Config.Image, state: state,
            exitCode: details.State.Running ? nil : details.State.ExitCode, restartCount: details.RestartCount ?? 0,
            created: details.Created.map(Self.trimmedTimestamp))
    }

    static func rfc3339(_ seconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    /// Docker's `2024-05-01T10:00:00.123456789Z` → `2024-05-01T10:00:00Z` (as `rfc3339`).
    static func trimmedTimestamp(_ text: String) -> String {
        guard let dot = text.firstIndex(of: ".") else { return text }
        return String(text[..<dot]) + "Z"
    }

    // MARK: - Health

    /// The instance's IP address on its project network (reachable from the host through
    /// the bridge); nil when it is not running or not attached.
    public func address(instanceID: String) async throws -> String? {
        guard let details = try await inspectIfPresent(instanceID), details.State.Running else { return nil }
        let project = details.Config.Labels?[BerthLabel.project] ?? ""
        return details.ipAddress(on: BerthNaming.network(project: project))
    }

    /// One probe of `instanceID` with `check`, right now.
    public func probe(instanceID: String, check: HealthCheck) async throws -> ProbeResult {
        let details = try await client.inspectContainer(instanceID)
        guard details.State.Running else { return .fail("the container is \(details.State.Status)") }
        let project = details.Config.Labels?[BerthLabel.project] ?? ""
        return await prober.probe(
            instanceID: instanceID, host: details.ipAddress(on: BerthNaming.network(project: project)), check: check)
    }

    /// Berth's one prober (http and tcp against the container's address on the project
    /// bridge), with exec checks through the Docker exec API.
    var prober: HealthProber {
        HealthProber { [client] id, command in
            let result = try await client.exec(id, command)
            return CommandOutput(exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr)
        }
    }

    public func waitHealthy(_ instance: Instance, check: HealthCheck?, deadline: ContinuousClock.Instant)
        async throws -> HealthOutcome
    {
        let clock = ContinuousClock()
        let started = clock.now
        var details = try await inspectIfPresent(instance.id)
        guard let first = details, first.State.Running else {
            await verdicts.set(instance.id, .died(exitCode: details?.State.ExitCode))
            return .exited(code: details?.State.ExitCode)
        }
        guard let check else {
            await verdicts.set(instance.id, .healthy)
            return .healthy
        }
        let project = first.Config.Labels?[BerthLabel.project] ?? ""
        let address = first.ipAddress(on: BerthNaming.network(project: project))
        let prober = self.prober
        var tally = ProbeTally(check: check)
        var lastFailure: String? = nil
        while true {
            let result = await prober.probe(instanceID: instance.id, host: address, check: check)
            switch tally.record(result, elapsed: clock.now - started) {
            case .healthy:
                await verdicts.set(instance.id, .healthy)
                return .healthy
            case .unhealthy(let why):
                // Gone meanwhile: that is the answer, not the probe's.
                details = try await inspectIfPresent(instance.id)
                guard let current = details, current.State.Running else {
                    await verdicts.set(instance.id, .died(exitCode: details?.State.ExitCode))
                    return .exited(code: details?.State.ExitCode)
                }
                await verdicts.set(instance.id, .unhealthy)
                return .unhealthy(lastFailure: why)
            case .failing(_, let why):
                lastFailure = why
                details = try await inspectIfPresent(instance.id)
                guard let current = details, current.State.Running else {
                    await verdicts.set(instance.id, .died(exitCode: details?.State.ExitCode))
                    return .exited(code: details?.State.ExitCode)
                }
            }
            // Until the first pass, probe often so a fast starter is seen at once.
            let next = clock.now + tally.nextProbeDelay
            if next >= deadline {
                return .timedOut(lastFailure: lastFailure)
            }
            try await clock.sleep(until: next)
        }
    }

    private func inspectIfPresent(_ id: String) async throws -> Engine.ContainerDetails? {
        do { return try await client.inspectContainer(id) } catch let error as DockerError where error.code == .notFound {
            return nil
        }
    }

    // MARK: - Events

    public func events(project: String) -> AsyncThrowingStream<RuntimeEvent, any Error> {
        let client = self.client
        let verdicts = self.verdicts
        let (stream, continuation) = AsyncThrowingStream<RuntimeEvent, any Error>.makeStream()
        // Events from the moment of this call on, even those before the connection is up.
        let since = Date().timeIntervalSince1970
        let task = Task {
            do {
                for try await event in try await client.events(labels: [BerthLabel.project: project], since: since) {
                    let attributes = event.Actor.Attributes ?? [:]
                    let kind: RuntimeEvent.Kind
                    switch event.Action {
                    case "create": kind = .created
                    case "start": kind = .started
                    case "die": kind = .died(exitCode: attributes["exitCode"].flatMap { Int($0) })
                    case "kill": kind = .killed(signal: attributes["signal"])
                    case "stop": kind = .stopped
                    case "destroy": kind = .destroyed
                    default: kind = .other(event.Action)
                    }
                    switch kind {
                    case .died(let code): await verdicts.set(event.Actor.ID, .died(exitCode: code))
                    case .started: await verdicts.forgetDeath(event.Actor.ID)
                    case .destroyed: await verdicts.forget(event.Actor.ID)
                    default: break
                    }
                    continuation.yield(
                        RuntimeEvent(
                            kind: kind, instanceID: event.Actor.ID, service: attributes[BerthLabel.service],
                            revision: attributes[BerthLabel.revision].map(Revision.init), timeNano: event.timeNano))
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}

/// What this process has learnt about its instances' health, and which project networks
/// it has already made sure of (so concurrent starts create one network, not several).
actor VerdictCache {
    /// `died`: the runtime saw it exit (its `die` event, or a health wait found it gone).
    enum Verdict: Sendable, Equatable { case starting, healthy, unhealthy, died(exitCode: Int?) }
    private var verdicts: [String: Verdict] = [:]
    private var networks: [String: Task<String, any Error>] = [:]

    func get(_ id: String) -> Verdict? { verdicts[id] }

    /// Creates under way, by "project/service".
    private var creates: [String: Int] = [:]
    func beginCreate(project: String, service: String) { creates["\(project)/\(service)", default: 0] += 1 }
    func endCreate(project: String, service: String) {
        let key = "\(project)/\(service)"
        creates[key] = (creates[key] ?? 1) > 1 ? creates[key]! - 1 : nil
    }
    func creating(project: String, service: String) -> Bool { creates["\(project)/\(service)"] != nil }
    func set(_ id: String, _ verdict: Verdict) { verdicts[id] = verdict }
    func forget(_ id: String) { verdicts[id] = nil }
    /// Started again (by hand, or a restart policy): no longer known dead.
    func forgetDeath(_ id: String) { if case .died? = verdicts[id] { verdicts[id] = nil } }

    func ensureNetwork(project: String, _ make: @escaping @Sendable () async throws -> String) async throws -> String {
        if let pending = networks[project] {
            return try await pending.value
        }
        let task = Task { try await make() }
        networks[project] = task
        do {
            return try await task.value
        } catch {
            networks[project] = nil
            throw error
        }
    }

    func forgetNetwork(project: String) { networks[project] = nil }
}
