import ArgumentParser
import BerthCore
import BerthDocker
import BerthEngine
import Foundation
import Logging

/// `--runtime docker` (one Docker Engine) or `--runtime swarm` (a Docker Swarm, through a
/// manager); `BERTH_RUNTIME` when the flag is not given.
enum RuntimeKind: String, ExpressibleByArgument, CaseIterable, Sendable {
    case docker
    case swarm
}

/// Which runtime: shared by the commands that talk to one (`plan`, `apply`, `status`,
/// `watch`, `proxy`); the project is `ProjectOptions`.
struct RuntimeOptions: ParsableArguments {
    @Option(
        name: .long,
        help: "Container runtime: docker (one Docker Engine) or swarm (a Docker Swarm manager), at DOCKER_HOST or /var/run/docker.sock. Default: $BERTH_RUNTIME, else docker.")
    var runtime: RuntimeKind?

    /// `--runtime`, else `BERTH_RUNTIME`, else docker; an unknown `BERTH_RUNTIME` is an error
    /// that names it.
    func kind(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> RuntimeKind {
        if let runtime { return runtime }
        guard let text = environment["BERTH_RUNTIME"], !text.isEmpty else { return .docker }
        guard let kind = RuntimeKind(rawValue: text) else {
            throw CommandFailure(
                "error: BERTH_RUNTIME=\(text) is not a runtime Berth knows; use docker or swarm (or unset it for docker)")
        }
        return kind
    }

    /// Connects to the Docker runtime (one engine at DOCKER_HOST); an unreachable engine is a
    /// `CommandFailure` naming it.
    func connect() async throws -> DockerRuntime {
        var logger = Logger(label: "berth.docker")
        logger.logLevel = .error
        do {
            return try await DockerRuntime.connect(logger: logger)
        } catch {
            throw CommandFailure("error: \(error)")
        }
    }

    /// Connects to the chosen runtime, for the commands that change what runs (apply): the
    /// Docker runtime, or a Swarm through a manager (a worker or a lone engine is refused
    /// with advice).
    func connectRuntime() async throws -> any ContainerRuntime {
        switch try kind() {
        case .docker: return try await connect()
        case .swarm: return try await Self.connectSwarm()
        }
    }

    static func connectSwarm(environment: [String: String]? = nil) async throws -> SwarmRuntime {
        var logger = Logger(label: "berth.swarm")
        logger.logLevel = .error
        do {
            return try await SwarmRuntime.connect(environment: environment, logger: logger)
        } catch {
            throw CommandFailure("error: \(error)")
        }
    }

    /// Connects to the chosen runtime for reading what runs.
    func connectObserver() async throws -> ObservingRuntime {
        switch try kind() {
        case .docker: return .docker(try await connect())
        case .swarm: return .swarm(try await Self.connectSwarm())
        }
    }
}

/// A runtime connected for reading: what the project runs, and (Swarm) the nodes.
enum ObservingRuntime: Sendable {
    case docker(DockerRuntime)
    case swarm(SwarmRuntime)

    func observe(project: String) async throws -> ObservedState {
        switch self {
        case .docker(let runtime): try await runtime.observe(project: project)
        case .swarm(let runtime): try await runtime.observe(project: project)
        }
    }

    /// The Swarm's nodes, sorted by hostname; none on one Docker Engine.
    func nodes() async throws -> [SwarmNodeStatus] {
        switch self {
        case .docker: []
        case .swarm(let runtime): try await runtime.nodes()
        }
    }
}

/// A failure already worded for the operator: printed to stderr as is (with `--format
/// json`, as `{"error": …}`), exit 1 (`ErrorReporting`).
struct CommandFailure: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

extension SourceOptions {
    /// The desired state at `--ref` under `--path`, read from git.
    func loadDesiredState() async throws -> DesiredState {
        try await withSourceErrors {
            let source = try await openSource()
            return try await source.desiredState(revision: ref, path: path)
        }
    }
}

/// Whether standard input and standard error are terminals (where a question can be asked).
func canAsk() -> Bool { isatty(0) == 1 && isatty(2) == 1 }

extension PlanCommand {
    /// With no `--observed`: what runs for the project on the runtime (`DOCKER_HOST`).
    static func observeRuntime(_ options: RuntimeOptions, project name: String) async throws -> ObservedState {
        do {
            let runtime = try await options.connectObserver()
            return try await runtime.observe(project: name)
        } catch let failure as CommandFailure {
            throw Failure(failure.message + "\n(berth plan observes the Docker Engine unless --observed FILE|none is given)")
        } catch {
            throw Failure("error: observing project \(name): \(error)")
        }
    }
}
