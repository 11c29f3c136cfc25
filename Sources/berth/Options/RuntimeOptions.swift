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

/// Where observed state comes from and which project it belongs to: shared by the commands
/// that talk to a runtime (`apply`, `status`).
struct RuntimeOptions: ParsableArguments {
    @Option(name: .long, help: "Container runtime: docker (the Docker Engine at DOCKER_HOST, or /var/run/docker.sock).")
    var runtime: RuntimeKind = .docker

    @Option(name: .long, help: "Project name that separates repositories on one host (default: the repository's folder name).")
    var project: String?

    func validate() throws {
        if let project, !Self.isValidProject(project) {
            throw ValidationError(
                "--project \"\(project)\": use letters, digits, '.', '_' and '-', starting with a letter or digit (it names Docker containers and a network)")
        }
    }

    /// Docker's rule for container and network names.
    static func isValidProject(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.count <= 200 else { return false }
        func ok(_ c: Unicode.Scalar) -> Bool { c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c)) }
        return ok(first) && name.unicodeScalars.allSatisfy { ok($0) || $0 == "." || $0 == "_" || $0 == "-" }
    }

    /// `--project`, else the repository's folder name (made a valid Docker name).
    func projectName(_ source: SourceOptions) -> String {
        if let project { return project }
        let name = PlanCommand.defaultProject(source)
        var cleaned = String(String.UnicodeScalarView(name.unicodeScalars.map {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "." || $0 == "_" || $0 == "-") ? $0 : "-"
        }))
        while let first = cleaned.unicodeScalars.first, !(first.properties.isAlphabetic || ("0"..."9").contains(first)) {
            cleaned.removeFirst()
        }
        return cleaned.isEmpty ? "berth" : cleaned
    }

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
    static func observeDocker(project: String?, source: SourceOptions) async throws -> ObservedState {
        var options = RuntimeOptions()
        options.project = project
        let name = options.projectName(source)
        do {
            let runtime = try await options.connect()
            return try await runtime.observe(project: name)
        } catch let failure as CommandFailure {
            throw Failure(failure.message + "\n(berth plan observes the Docker Engine unless --observed FILE|none is given)")
        } catch {
            throw Failure("error: observing project \(name): \(error)")
        }
    }
}
