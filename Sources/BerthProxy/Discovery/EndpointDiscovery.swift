public import BerthCore
import BerthNet
public import Logging

/// Keeps the endpoint table in step with an `EndpointSource` for one project (Docker on one
/// host today, the tasks of a Swarm later), and probes every endpoint itself:
///
/// - at start and every `resyncInterval`: a snapshot; running instances are added
///   (`.starting`, or `.ready` when they have no health check), stopped ones retired, gone
///   ones removed;
/// - changes: `.started` adds; an instance started again after it stopped starts a new life
///   (`.starting`, probed afresh), while a late start of the life the table already follows
///   changes nothing (it never undoes a `ready` or `drain` of the control API);
///   `.stopping` retires at once (no new connections); `.removed` forgets. When the stream
///   ends or breaks, it subscribes again with back-off and resyncs;
/// - probes: every endpoint with a health check is probed on its own task by Berth's one
///   `HealthProber`, counted by `ProbeTally` (every 100 ms until it first passes, then every
///   `interval`): `failureThreshold` failures make it `.unhealthy` (no new connections),
///   one pass makes it `.ready` again.
public actor EndpointDiscovery {
    public let source: any EndpointSource
    public let project: String
    let balancer: Balancer
    let logger: Logger
    let resyncInterval: Duration
    private var probes: [String: Task<Void, Never>] = [:]
    private var known: Set<String> = []
    /// Changes handled so far; while a read of the source is under way (`reading` > 0), the
    /// number of each instance's last change: an answer the source gave before a change
    /// must not undo it (the change stream is handled while a resync waits for its list).
    private var changeCount = 0
    private var changedWhileReading: [String: Int] = [:]
    private var reading = 0

    public init(
        source: any EndpointSource, project: String, balancer: Balancer, resyncInterval: Duration = .seconds(10),
        logger: Logger = Logger(label: "berth.proxy.discovery")
    ) {
        self.source = source
        self.project = project
        self.balancer = balancer
        self.resyncInterval = resyncInterval
        self.logger = logger
    }

    var table: EndpointTable { balancer.table }

    /// Follows the source until the task is cancelled.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.followChanges() }
            group.addTask { await self.resyncLoop() }
            await group.waitForAll()
        }
        for task in probes.values { task.cancel() }
        probes = [:]
    }

    private func resyncLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: resyncInterval)
            if Task.isCancelled { return }
            do { try await resync() } catch { logger.warning("resync failed: \(error)") }
        }
    }

    private func followChanges() async {
        var backoff = Duration.milliseconds(100)
        while !Task.isCancelled {
            do {
                let changes = try await source.endpointChanges(project: project)
                // Changes from now on are seen; catch up with what happened before.
                try await resync()
                backoff = .milliseconds(100)
                for try await change in changes {
                    await handle(change)
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("runtime events interrupted, reconnecting: \(error)")
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(5))
        }
    }

    /// Brings the table in line with what runs now.
    public func resync() async throws {
        let snapshot = try await read { try await source.endpoints(project: project) }
        let changed = snapshot.changed
        var running: Set<String> = []
        for endpoint in snapshot.value.running where !changed.contains(endpoint.instanceID) {
            running.insert(endpoint.instanceID)
            if !known.contains(endpoint.instanceID) { add(endpoint) }
        }
        let stopped = Set(snapshot.value.stopped)
        for id in known.subtracting(running) where !changed.contains(id) {
            // Stopped: no new connections; removed once gone.
            if stopped.contains(id) {
                table.halted(id)
                stopProbing(id)
            } else {
                forget(id)
            }
        }
        await balancer.syncListeners()
    }

    /// Learns one instance now (the control API's `ready` for an instance not seen yet).
    public func learn(_ id: String) async throws -> Bool {
        let answer = try await read { try await source.endpoint(project: project, instanceID: id) }
        guard let endpoint = answer.value, !answer.changed.contains(id) else { return false }
        add(endpoint)
        await balancer.syncListeners()
        return true
    }

    /// Asks the source, and says which instances changed (`handle`) while it answered.
    private func read<T>(_ ask: () async throws -> T) async throws -> (value: T, changed: Set<String>) {
        let since = changeCount
        reading += 1
        defer {
            reading -= 1
            if reading == 0 { changedWhileReading = [:] }
        }
        let value = try await ask()
        return (value, Set(changedWhileReading.filter { $0.value > since }.keys))
    }

    public func handle(_ change: EndpointChange) async {
        changeCount += 1
        if reading > 0 {
            switch change {
            case .started(let endpoint): changedWhileReading[endpoint.instanceID] = changeCount
            case .stopping(let id), .removed(let id): changedWhileReading[id] = changeCount
            }
        }
        switch change {
        case .started(let endpoint):
            // A new life only after a stop; a late report of this life keeps the state that
            // `ready`, `drain` or the probes set meanwhile.
            add(endpoint, started: true)
            await balancer.syncListeners()
        case .stopping(let id):
            table.halted(id)
            stopProbing(id)
        case .removed(let id):
            forget(id)
            await balancer.syncListeners()
        }
    }

    /// Adds (or refreshes) a running endpoint and probes it. `started`: the runtime just
    /// reported it starting (see `EndpointTable.started`).
    private func add(_ endpoint: ServiceEndpoint, started: Bool = false) {
        let id = endpoint.instanceID
        known.insert(id)
        let entry = Endpoint(instance: id, service: endpoint.service, host: endpoint.host, ports: endpoint.publishedPorts)
        let state: EndpointState = endpoint.health == nil ? .ready : .starting
        if started {
            // A new life is probed from scratch (start period, first pass at 100 ms).
            if table.started(entry, state: state) == .restarted { stopProbing(id) }
        } else {
            table.upsert(entry, state: state)
        }
        logger.debug(
            "endpoint added", metadata: ["service.name": "\(endpoint.service)", "proxy.instance": "\(id.prefix(12))"])
        if let check = endpoint.health, probes[id] == nil {
            let source = self.source
            let prober = HealthProber { id, command in try await source.exec(instanceID: id, command: command) }
            probes[id] = Task { [table, logger] in
                await Self.probeLoop(endpoint: endpoint, check: check, prober: prober, table: table, logger: logger)
            }
        }
    }

    private func forget(_ id: String) {
        known.remove(id)
        stopProbing(id)
        table.remove(id)
    }

    private func stopProbing(_ id: String) {
        probes.removeValue(forKey: id)?.cancel()
    }

    static func probeLoop(
        endpoint: ServiceEndpoint, check: HealthCheck, prober: HealthProber, table: EndpointTable, logger: Logger
    ) async {
        let id = endpoint.instanceID
        let clock = ContinuousClock()
        let started = clock.now
        var tally = ProbeTally(check: check)
        while !Task.isCancelled {
            let result = await prober.probe(
                instanceID: id, host: endpoint.host, check: check, port: { endpoint.port(reaching: $0) })
            if Task.isCancelled { return }
            switch tally.record(result, elapsed: clock.now - started) {
            case .healthy:
                if table.state(of: id) != .ready {
                    logger.debug("endpoint healthy", metadata: ["proxy.instance": "\(id.prefix(12))"])
                }
                table.setState(id, .ready, probe: "pass")
            case .unhealthy(let why):
                if table.state(of: id) == .ready {
                    logger.warning("endpoint unhealthy: \(why)", metadata: ["proxy.instance": "\(id.prefix(12))"])
                }
                table.setState(id, .unhealthy, probe: why)
            case .failing(_, let why):
                table.setState(id, table.state(of: id) ?? .starting, probe: why)
            }
            try? await Task.sleep(for: tally.nextProbeDelay)
        }
    }
}
