import ArgumentParser
import BerthCore
import BerthDocker
import BerthEngine
import Foundation
import Logging

/// `--runtime docker` (the only one so far).
enum RuntimeKind: String, ExpressibleByArgument, CaseIterable, Sendable {
    case docker
}

/// Where observed state comes from: shared by the commands that talk to a runtime
/// (`apply`, `status`); the project is `ProjectOptions`.
struct RuntimeOptions: ParsableArguments {
    @Option(name: .long, help: "Container runtime: docker (the Docker Engine at DOCKER_HOST, or /var/run/docker.sock).")
    var runtime: RuntimeKind = .docker

    /// Connects to the runtime; an unreachable engine is a `CommandFailure` naming it.
    func connect() async throws -> DockerRuntime {
        var logger = Logger(label: "berth.docker")
        logger.logLevel = .error
        do {
            return try await DockerRuntime.connect(logger: logger)
        } catch {
            throw CommandFailure("error: \(error)")
        }
    }
}

/// A failure already worded for the operator: printed to stderr as is, exit 1.
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

/// Runs a command body: `CommandFailure` → its message on stderr, exit 1.
func runReportingFailures(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let failure as CommandFailure {
        printError(failure.message)
        throw ExitCode(ExitStatus.failure)
    }
}

/// Whether standard input and standard error are terminals (where a question can be asked).
func canAsk() -> Bool { isatty(0) == 1 && isatty(2) == 1 }

extension PlanCommand {
    /// With no `--observed`: what runs on the Docker Engine (`DOCKER_HOST`) for the project.
    static func observeDocker(project name: String) async throws -> ObservedState {
        do {
            let runtime = try await RuntimeOptions().connect()
            return try await runtime.observe(project: name)
        } catch let failure as CommandFailure {
            throw Failure(failure.message + "\n(berth plan observes the Docker Engine unless --observed FILE|none is given)")
        } catch {
            throw Failure("error: observing project \(name): \(error)")
        }
    }
}
