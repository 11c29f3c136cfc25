import ArgumentParser
import BerthCore
import BerthDocker
import BerthProxy
import Foundation
import Logging

struct ProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "Run Berth's load balancer for a project's published ports.",
        discussion: """
            Serves every `publish` port of the project's services on the host and forwards \
            each connection to a ready replica (least connections, ties by round robin). \
            Learns replicas from Docker labels and events (with --runtime swarm: from a Swarm \
            manager's tasks, each at its node's address and host-mode port, polled every \
            250 ms) and probes them itself, so it keeps serving while `berth watch` or \
            `berth apply` restarts. The executor retires \
            replicas through the control API (POST /v1/drain, /v1/ready; GET /v1/endpoints, \
            /metrics), found through <state-dir>/proxy-<project>.json; that file (0600) holds \
            the token every POST needs, so other local users cannot drain. Runs until SIGTERM \
            or SIGINT.
            """)

    @Option(name: .long, help: "Project whose containers to serve (default: the current directory's name).")
    var project: String?

    @Option(name: .customLong("state-dir"), help: StateOptions.help)
    var stateDir: String?

    @Option(name: .long, help: "Address the published ports listen on.")
    var bind: String = "0.0.0.0"

    @Option(name: .long, help: "Control API address, HOST:PORT (port 0: any free port, written to the state file).")
    var control: String = "127.0.0.1:0"

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Most client connections open at once on each published port, 1 to 1000000; a client over it is closed at once (default: no limit per port, only the process-wide one from the descriptor limit).",
            valueName: "n"))
    var maxConnections: Int?

    /// The range `--max-connections` (and watch's `--api-max-connections`) takes.
    static let connectionLimits = 1...1_000_000

    /// docker: the containers of one engine, at their project-network addresses; swarm: the
    /// tasks of every node, at their node's address and host-mode port.
    @OptionGroup var runtimeOptions: RuntimeOptions

    func validate() throws {
        guard Self.split(control) != nil else {
            throw ValidationError("--control: expected HOST:PORT such as 127.0.0.1:7480, found \"\(control)\"")
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError(
                "--log-level: expected one of trace, debug, info, notice, warning, error, critical; found \"\(logLevel)\"")
        }
        if let project, project.isEmpty { throw ValidationError("--project: must not be empty") }
        if let maxConnections, !Self.connectionLimits.contains(maxConnections) {
            throw ValidationError("--max-connections: expected a number from 1 to 1000000, found \(maxConnections)")
        }
    }

    static func split(_ address: String) -> (host: String, port: Int)? {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            (0...65535).contains(port), colon > address.startIndex
        else { return nil }
        return (String(address[..<colon]), port)
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel)!
        LoggingSystem.bootstrap { LogfmtLogHandler(label: $0, level: level) }
        let project = self.project ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath).lastPathComponent
        var logger = Logger(label: "berth.proxy")
        logger[metadataKey: "project"] = "\(project)"
        let stateDir = StateFolder.path(self.stateDir, project: project)
        let (controlHost, controlPort) = Self.split(control)!

        // The composition: the balancer learns endpoints from one Docker Engine, or from a
        // Swarm manager (every node's tasks).
        let signals = TerminationSignals.install()
        let endpoints: any EndpointSource
        switch try runtimeOptions.kind() {
        case .docker:
            endpoints = DockerEndpointSource(client: try await DockerClient.connect(logger: Logger(label: "berth.docker")))
        case .swarm:
            endpoints = try await SwarmRuntime.connect(logger: Logger(label: "berth.swarm")).endpointSource
        }
        let balancer = Balancer(bindHost: bind, maxConnectionsPerPort: maxConnections, logger: logger)
        let token = ControlToken.generate()
        let service = try await ProxyService.start(
            project: project, balancer: balancer, endpoints: endpoints, controlHost: controlHost,
            controlPort: controlPort, controlToken: token, logger: logger)
        let state = ProxyStateFile(
            project: project, controlHost: controlHost, controlPort: service.controlPort,
            pid: ProcessInfo.processInfo.processIdentifier, controlToken: token)
        PrivateFiles.restrict(stateDir)
        try state.write(directory: stateDir)
        logger.info(
            "berth proxy serving",
            metadata: [
                "berth.project": "\(project)", "proxy.control": "\(controlHost):\(service.controlPort)",
                "proxy.state": "\(ProxyStateFile.path(directory: stateDir, project: project))",
            ])

        let signal = await signals.wait()
        logger.info("stopping on \(signal)")
        await service.shutdown()
        // Leave the state file only if another proxy has not replaced it meanwhile.
        if let current = try? ProxyStateFile.read(directory: stateDir, project: project), current == state {
            try? FileManager.default.removeItem(atPath: ProxyStateFile.path(directory: stateDir, project: project))
        }
    }
}
