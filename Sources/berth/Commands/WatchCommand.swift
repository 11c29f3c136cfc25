import ArgumentParser
import BerthCore
import BerthDocker
import BerthEngine
import BerthGit
import BerthProxy
import Foundation
import Logging

struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Run the reconcile loop: git polling, runtime events, healing, journal, HTTP API and metrics.",
        discussion: """
            Fetches every --interval (and at once on POST /api/v1/sync); when the commit changes \
            or what runs drifts from it (an instance missing, exited, unhealthy, of another \
            revision, or a stray container with the project's labels), plans and applies. A \
            managed container that dies or disappears is replaced at once. A commit with \
            invalid manifests is not applied: the last good desired state keeps running. \
            Services no longer in git are pruned (--no-prune keeps them).

            One process acts on a project at a time: watch holds the project lease \
            (<state-dir>/lease.json) while it runs; a second watch for the project waits for \
            it, and `berth apply` for the project exits 1 pointing at POST /api/v1/sync.

            Every sync is recorded in <state-dir>/journal.sqlite (see `berth journal`). The \
            HTTP API listens on --listen (loopback by default): GET /healthz, /metrics, \
            /api/v1/status, /api/v1/plan, /api/v1/journal, /api/v1/events; POST /api/v1/sync needs \
            `Authorization: Bearer $BERTH_API_TOKEN` and is disabled when BERTH_API_TOKEN is \
            not set. The web UI is at / on the same address (Sync now there needs a log-in \
            with the same token). Logs go to standard error, one logfmt line per event. SIGTERM or SIGINT \
            finishes the step in flight and exits 0.

            When a service publishes a port, watch joins the project's `berth proxy` (the one \
            <state-dir>/proxy-<project>.json names, if it answers) or starts one: the same \
            binary, detached in its own session, logging to <state-dir>/proxy-<project>.log. \
            It outlives watch (stop it with SIGTERM to its pid). --no-proxy leaves the \
            balancer to you (e.g. its own systemd unit).
            """)

    @OptionGroup var source: SourceOptions

    @OptionGroup var projectOptions: ProjectOptions

    @OptionGroup var runtimeOptions: RuntimeOptions

    @Option(name: .long, help: "How often to fetch and check for drift (e.g. 30s, 5m, 500ms).")
    var interval: String = "30s"

    @Option(name: .customLong("state-dir"), help: StateOptions.help)
    var stateDir: String?

    @Option(name: .long, help: "Address of the HTTP API, HOST:PORT (port 0 picks a free one; `off` disables it).")
    var listen: String = "127.0.0.1:7420"

    @Flag(name: .customLong("public-read"), help: "With --listen on an address other than loopback: serve reads (status, plan, journal, metrics) without a token, to anyone who can reach it.")
    var publicRead = false

    @Option(
        name: .customLong("api-max-connections"),
        help: ArgumentHelp(
            "Most connections the HTTP API and web UI keep open at once, 1 to 1000000; a new one over it closes the one idle the longest, or is closed at once when every one has a request in flight.",
            valueName: "n"))
    var apiMaxConnections: Int = 512

    @OptionGroup var pruning: PruneOptions

    @Flag(name: .customLong("allow-mass-delete"), help: "Allow a sync that deletes more than half of the running services.")
    var allowMassDelete = false

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Flag(name: .customLong("no-proxy"), help: "Never start `berth proxy` (run it yourself, e.g. as its own systemd unit); rolling updates still go through one that runs.")
    var noProxy = false

    @Option(name: .customLong("proxy-bind"), help: "Address the published ports of a `berth proxy` that watch starts listen on.")
    var proxyBind: String = "0.0.0.0"

    func validate() throws {
        guard let ms = Millis(parsing: interval), ms.milliseconds >= 100 else {
            throw ValidationError("--interval: expected a duration of at least 100ms like 30s, 5m or 1m30s, got \"\(interval)\"")
        }
        if !ProxyCommand.connectionLimits.contains(apiMaxConnections) {
            throw ValidationError("--api-max-connections: expected a number from 1 to 1000000, found \(apiMaxConnections)")
        }
        if listen != "off" && Self.parseListen(listen) == nil {
            throw ValidationError("--listen: expected HOST:PORT such as 127.0.0.1:7420 (or `off`), got \"\(listen)\"")
        }
        if listen != "off", let (host, _) = Self.parseListen(listen), let refusal = APIExposure.refusal(
            listen: listen, host: host, publicRead: publicRead,
            tokenSet: ProcessInfo.processInfo.environment["BERTH_API_TOKEN"]?.isEmpty == false)
        {
            throw ValidationError(refusal)
        }
        if proxyBind.isEmpty || proxyBind.contains(where: \.isWhitespace) {
            throw ValidationError("--proxy-bind: expected an address such as 0.0.0.0 or 127.0.0.1, got \"\(proxyBind)\"")
        }
        if Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level: expected trace, debug, info, notice, warning, error or critical, got \"\(logLevel)\"")
        }
    }

    static func parseListen(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        return (host, port)
    }

    /// `host` as it goes in a URL: an IPv6 address in brackets; a wildcard as loopback.
    static func urlHost(_ host: String) -> String {
        switch host {
        case "0.0.0.0", "": "127.0.0.1"
        case "::": "[::1]"
        default: host.contains(":") ? "[\(host)]" : host
        }
    }

    /// The `/metrics` of the project's `berth proxy` (through the address in its state file),
    /// appended to watch's own: one scrape for both. Empty while no proxy answers (within 2 s).
    static func proxyMetrics(stateDirectory: String, project: String) async -> String {
        guard let client = try? ProxyControlClient(stateDirectory: stateDirectory, project: project) else { return "" }
        return (try? await client.metrics(timeout: .seconds(2))) ?? ""
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { LogfmtLogHandler(label: $0, level: level) }
        let project = projectOptions.name(source)
        var logger = Logger(label: "berth.watch")
        logger[metadataKey: "project"] = "\(project)"
        let stateDir = StateFolder.path(stateDir, project: project, environment: environment)
        let kind: RuntimeKind
        do {
            kind = try runtimeOptions.kind(environment: environment)
        } catch let failure as CommandFailure {
            printError(failure.message)
            throw ExitCode(ExitStatus.failure)
        }

        let journal: Journal
        do {
            journal = try Journal(path: stateDir + "/journal.sqlite", logger: logger)
        } catch {
            printError("error: cannot open the journal in \(stateDir): \(error)")
            throw ExitCode(ExitStatus.failure)
        }

        let stop = TerminationSignals.install()
        // One process acts on a project at a time: a second watch (or a running apply) is
        // waited for; `berth apply` refuses while this watch holds the lease.
        let lease: ProjectLease
        do {
            guard let taken = try await ProjectLeasing.forWatch(
                project: project, stateDirectory: stateDir, stopped: { stop.stopped },
                log: { logger.warning("\($0)") })
            else { return }
            lease = taken
        } catch let failure as CommandFailure {
            printError(failure.message)
            throw ExitCode(ExitStatus.failure)
        }
        defer { withExtendedLifetime(lease) {} }
        guard var runtime = await Self.connect(kind, logger: logger, environment: environment, stop: stop) else {
            return
        }
        // While watch runs, it heals (with its crash-loop backoff) and Docker restarts
        // nothing; when it stops, Docker restarts the containers again (RestartOwner).
        if var docker = runtime as? DockerRuntime {
            docker.secretSource = AgeSecretSource.fromEnvironment(environment) { [repo = source.repo] in
                try await SourceOptions.openRepository(repo, environment: environment)
            }
            runtime = docker
        }
        await Self.handOverRestarts(runtime, project: project, to: .berth, logger: logger)

        var options = ReconcileLoop.Options()
        options.interval = .milliseconds(Millis(parsing: interval)!.milliseconds)
        options.plan = PlanOptions(prune: pruning.prune, allowMassDelete: allowMassDelete)
        let repo = source.repo
        let git = GitDesiredStateProvider(ref: source.ref, path: source.path) {
            try await SourceOptions.openRepository(repo, environment: environment)
        }
        // A desired state that publishes a port gets its balancer before it is applied.
        let provider: any DesiredStateProvider = noProxy
            ? git
            : ProxyEnsuringProvider(
                base: git,
                attachment: ProxyAttachment(
                    launcher: ProxyLauncher(
                        project: project, stateDirectory: stateDir,
                        arguments: ["--bind", proxyBind, "--log-level", logLevel, "--runtime", kind.rawValue]),
                    logger: logger))
        // Rolling updates and scale-downs go through the project's `berth proxy`, if one runs.
        let router = ProxyRouter(stateDirectory: stateDir, project: project)
        let loop = ReconcileLoop(
            project: project, provider: provider, runtime: runtime, router: router, journal: journal, logger: logger,
            options: options, controls: ControlsStore(stateDirectory: stateDir), handDrains: router)

        var server: APIServer?
        var ui: WebUI?
        if listen != "off", let (host, port) = Self.parseListen(listen) {
            let token = environment["BERTH_API_TOKEN"]
            let exposure = APIExposure(host: host, publicRead: publicRead)
            let reader = GitUIReader(path: source.path, historyIndexRoot: SourceOptions.cacheFolder(environment: environment) + "/history") {
                try SourceOptions.repositoryForReading(repo, environment: environment)
            }
            var uiOptions = WebUI.Options()
            uiOptions.readsNeedSession = exposure.readsNeedToken
            ui = WebUI(loop: loop, journal: journal, token: token, git: reader, traffic: router, options: uiOptions)
            do {
                server = try await APIServer.start(
                    host: host, port: port, maxConnections: apiMaxConnections,
                    router: APIRouter(
                        loop: loop, journal: journal, token: token, readsNeedToken: exposure.readsNeedToken, ui: ui,
                        moreMetrics: { await Self.proxyMetrics(stateDirectory: stateDir, project: project) }))
            } catch {
                printError("error: cannot listen on \(listen): \(error); pass another --listen HOST:PORT, or --listen off")
                throw ExitCode(ExitStatus.failure)
            }
            lease.update(api: "http://\(Self.urlHost(host)):\(server!.port)")
            logger.info(
                "API listening",
                metadata: ["http.address": "\(host):\(server!.port)", "api.writes": "\(token?.isEmpty == false ? "enabled" : "disabled")",
                           "api.reads": "\(exposure.readsDescription)"])
            if exposure == .publicReads {
                logger.warning("--public-read: status, plans, the journal and metrics are served without a token to anyone who can reach \(host):\(server!.port)")
            }
            let shown = host.contains(":") ? "[\(host)]" : host
            logger.info("web UI", metadata: ["http.url": "http://\(shown):\(server!.port)/"])
        }
        logger.info(
            "watching", metadata: ["git.repo": "\(repo.map(Scrubber.scrubURLUserInfo) ?? ".")", "git.ref": "\(source.ref)", "watch.interval": "\(interval)",
                                   "state.dir": "\(stateDir)"])
        stop.onStop { _ in Task { await loop.stop() } }
        let uiWork = Task { [ui] in await ui?.run() }
        // Services with `autoscale`: counts from the balancer's request rates.
        // The balancer keeps their ports open and holds connections while they run no replica.
        let autoscaler = AutoscaleController(
            loop: loop, statistics: router, declare: { try await router.declare($0) }, logger: logger)
        let autoscaling = Task { await autoscaler.run() }
        await loop.run()
        autoscaling.cancel()
        uiWork.cancel()
        await Self.handOverRestarts(runtime, project: project, to: .docker, logger: logger)
        await server?.close()
        // Last: the WAL is checkpointed into journal.sqlite and removed.
        await journal.close()
    }

    /// Sets the restart policies of the project's containers for `owner` (Docker's runtime
    /// only: Swarm restarts tasks itself); a failure is logged (the loop still heals while
    /// it runs; `berth apply` hands them back later).
    static func handOverRestarts(_ runtime: any ContainerRuntime, project: String, to owner: RestartOwner, logger: Logger) async {
        guard let docker = runtime as? DockerRuntime else { return }
        do {
            let changed = try await docker.handOverRestarts(project: project, to: owner)
            logger.info(
                owner == .berth ? "restarts: watch heals; Docker restarts nothing while it runs" : "restarts: handed back to Docker",
                metadata: ["containers.changed": "\(changed)"])
        } catch {
            logger.error("could not set the restart policies of the project's containers", metadata: ["restarts": "\(owner.rawValue)", "error": "\(error)"])
        }
    }

    /// Connects to the runtime (Docker, or a Swarm manager), retrying with backoff (1 s
    /// doubling to 30 s) until it answers or a stop signal arrives (then nil).
    static func connect(
        _ kind: RuntimeKind, logger: Logger, environment: [String: String], stop: TerminationSignals
    ) async -> (any ContainerRuntime)? {
        var wait = 1.0
        while !stop.stopped {
            do {
                switch kind {
                case .docker:
                    return try await DockerRuntime.connect(environment: environment, logger: Logger(label: "berth.docker"))
                case .swarm:
                    return try await SwarmRuntime.connect(environment: environment, logger: Logger(label: "berth.swarm"))
                }
            } catch {
                logger.error(
                    kind == .swarm ? "cannot reach a Swarm manager; retrying" : "cannot reach the Docker daemon; retrying",
                    metadata: ["error": "\(error)", "retry.seconds": "\(Int(wait))"])
                let deadline = Date().addingTimeInterval(wait)
                while Date() < deadline && !stop.stopped { try? await Task.sleep(for: .milliseconds(100)) }
                wait = min(30, wait * 2)
            }
        }
        return nil
    }
}

/// `base`'s desired state; before it goes to the loop, the project's `berth proxy` is
/// joined or started when a service publishes a port, so the first apply already goes
/// through the balancer (and a proxy that died meanwhile is started again).
struct ProxyEnsuringProvider: DesiredStateProvider {
    let base: any DesiredStateProvider
    let attachment: ProxyAttachment

    func fetch() async throws -> DesiredState {
        let desired = try await base.fetch()
        if desired.services.values.contains(where: { $0.ports.contains { $0.publish != nil } }) {
            await attachment.ensure()
        }
        return desired
    }

    func desiredState(at commit: String) async throws -> DesiredState {
        try await base.desiredState(at: commit)
    }

    func isAncestor(_ ancestor: String, of commit: String) async throws -> Bool? {
        try await base.isAncestor(ancestor, of: commit)
    }
}
