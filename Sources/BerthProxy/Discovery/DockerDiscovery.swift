import BerthCore
public import BerthDocker
import Foundation
public import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// Keeps the endpoint table in step with Docker, for one project, from the containers'
/// labels alone (`berth.service`, the ports of the spec recorded in `berth.spec`,
/// `berth.health`) and Berth's own probes:
///
/// - at start and every `resyncInterval`: lists the project's containers; running ones
///   are added (`.starting`, or `.ready` when they have no health check), gone ones removed;
/// - Docker events: `start` adds; a container started again after the engine stopped it
///   starts a new life (`.starting`, probed afresh), while a late `start` of the life the
///   table already follows changes nothing (it never undoes a `ready` or `drain` of the
///   control API); `kill` / `stop` / `die` retire at once (no new connections from the
///   moment the engine signals the container — before it has even handled SIGTERM),
///   `destroy` removes; when the event stream breaks, it reconnects with back-off and
///   resyncs;
/// - probes: every endpoint with a health check is probed on its own task, every 100 ms
///   until it first passes, then every `interval`; `failureThreshold` failures in a row make
///   it `.unhealthy` (no new connections), one pass makes it `.ready` again.
public actor DockerDiscovery {
    public let client: DockerClient
    public let project: String
    let balancer: Balancer
    let logger: Logger
    let resyncInterval: Duration
    private var probes: [String: Task<Void, Never>] = [:]
    private var known: Set<String> = []

    public init(
        client: DockerClient, project: String, balancer: Balancer, resyncInterval: Duration = .seconds(10),
        logger: Logger = Logger(label: "berth.proxy.docker")
    ) {
        self.client = client
        self.project = project
        self.balancer = balancer
        self.resyncInterval = resyncInterval
        self.logger = logger
    }

    var network: String { BerthNaming.network(project: project) }
    var table: EndpointTable { balancer.table }

    /// Follows the engine until the task is cancelled.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.followEvents() }
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

    private func followEvents() async {
        var backoff = Duration.milliseconds(100)
        while !Task.isCancelled {
            do {
                let stream = try await client.events(labels: [BerthLabel.project: project])
                // Events from now on are seen; catch up with what happened before.
                try await resync()
                backoff = .milliseconds(100)
                for try await event in stream {
                    await handle(event)
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("Docker events interrupted, reconnecting: \(error)")
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(5))
        }
    }

    /// Brings the table in line with the running containers of the project.
    public func resync() async throws {
        let containers = try await client.listContainers(labels: [BerthLabel.project: project])
        var running: Set<String> = []
        for container in containers where container.State == "running" {
            running.insert(container.Id)
            guard !known.contains(container.Id) else { continue }
            let labels = container.Labels ?? [:]
            let address = container.NetworkSettings?.Networks?[network]?.IPAddress
            add(id: container.Id, labels: labels, address: address)
        }
        for id in known.subtracting(running) {
            // Stopped or gone: no new connections; removed once destroyed or absent.
            if containers.contains(where: { $0.Id == id }) {
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
        let details = try await client.inspectContainer(id)
        guard details.State.Running else { return false }
        add(id: details.Id, labels: details.Config.Labels ?? [:], address: details.ipAddress(on: network))
        await balancer.syncListeners()
        return true
    }

    func handle(_ event: Engine.Event) async {
        let id = event.Actor.ID
        switch event.Action {
        case "start":
            do {
                let details = try await client.inspectContainer(id)
                guard details.State.Running else { return }
                // A new life only after a stop; a late event of this life keeps the state
                // that `ready`, `drain` or the probes set meanwhile.
                add(
                    id: details.Id, labels: details.Config.Labels ?? [:], address: details.ipAddress(on: network),
                    started: true)
                await balancer.syncListeners()
            } catch {
                logger.warning("cannot inspect started container \(id): \(error)")
            }
        case "kill", "stop", "die":
            table.halted(id)
            stopProbing(id)
        case "destroy":
            forget(id)
            await balancer.syncListeners()
        default:
            break
        }
    }

    /// Adds (or refreshes) the endpoint of a running container and probes it. `started`:
    /// Docker just reported it starting (see `EndpointTable.started`).
    private func add(id: String, labels: [String: String], address: String?, started: Bool = false) {
        guard let service = labels[BerthLabel.service] else { return }
        let ports = BerthLabel.recordedSpec(labels)?.ports ?? []
        var mapping: [Int: Int] = [:]
        for port in ports { if let publish = port.publish { mapping[publish] = port.containerPort } }
        guard let address, !address.isEmpty else {
            logger.warning("container \(id.prefix(12)) of \(service) has no address on network \(network)")
            return
        }
        let check = BerthLabel.healthCheck(labels)
        known.insert(id)
        let endpoint = Endpoint(instance: id, service: service, host: address, ports: mapping)
        let state: EndpointState = check == nil ? .ready : .starting
        if started {
            // A new life is probed from scratch (start period, first pass at 100 ms).
            if table.started(endpoint, state: state) == .restarted { stopProbing(id) }
        } else {
            table.upsert(endpoint, state: state)
        }
        logger.debug("endpoint added", metadata: ["service.name": "\(service)", "proxy.instance": "\(id.prefix(12))"])
        if let check, probes[id] == nil {
            probes[id] = Task { [client, table, logger] in
                await Self.probeLoop(
                    id: id, address: address, check: check, client: client, table: table, logger: logger)
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
        id: String, address: String, check: HealthCheck, client: DockerClient, table: EndpointTable, logger: Logger
    ) async {
        let clock = ContinuousClock()
        let startPeriodEnds = clock.now + .milliseconds(check.startPeriod.milliseconds)
        let interval = Duration.milliseconds(max(1, check.interval.milliseconds))
        var passedOnce = false
        var failures = 0
        while !Task.isCancelled {
            let result = await Probe.run(check, address: address, containerID: id, client: client)
            if Task.isCancelled { return }
            switch result {
            case .pass:
                failures = 0
                if table.state(of: id) != .ready {
                    logger.debug("endpoint healthy", metadata: ["proxy.instance": "\(id.prefix(12))"])
                }
                table.setState(id, .ready, probe: "pass")
                passedOnce = true
            case .fail(let why):
                if clock.now >= startPeriodEnds || passedOnce { failures += 1 }
                if failures >= max(1, check.failureThreshold) {
                    if table.state(of: id) == .ready {
                        logger.warning("endpoint unhealthy: \(why)", metadata: ["proxy.instance": "\(id.prefix(12))"])
                    }
                    table.setState(id, .unhealthy, probe: why)
                } else {
                    table.setState(id, table.state(of: id) ?? .starting, probe: why)
                }
            }
            try? await Task.sleep(for: passedOnce ? interval : min(interval, .milliseconds(100)))
        }
    }
}

/// Berth's probes as the balancer runs them: http and tcp against the replica's address,
/// exec through the Docker exec API.
enum Probe {
    static func run(_ check: HealthCheck, address: String, containerID: String, client: DockerClient?) async
        -> ProbeResult
    {
        let timeout = TimeAmount.milliseconds(max(1, check.timeout.milliseconds))
        switch check.probe {
        case .http(let path, let port):
            do {
                let response = try await MiniHTTPClient().send(
                    host: address, port: port, method: .GET, path: path.hasPrefix("/") ? path : "/" + path,
                    timeout: timeout)
                return (200..<400).contains(response.status)
                    ? .pass : .fail("GET http://\(address):\(port)\(path) answered HTTP \(response.status)")
            } catch {
                return .fail("GET http://\(address):\(port)\(path): \(error)")
            }
        case .tcp(let port):
            do {
                let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .connectTimeout(timeout).connect(host: address, port: port).get()
                try? await channel.close()
                return .pass
            } catch {
                return .fail("connect to \(address):\(port): \(error)")
            }
        case .exec(let command):
            guard let client else { return .fail("exec probes need the Docker engine") }
            do {
                let result = try await client.exec(containerID, command)
                return result.exitCode == 0
                    ? .pass : .fail("\(command.joined(separator: " ")) exited with code \(result.exitCode)")
            } catch {
                return .fail("\(error)")
            }
        }
    }
}
