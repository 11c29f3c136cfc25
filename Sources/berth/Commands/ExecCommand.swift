import ArgumentParser
import BerthCore
import BerthDocker
import Foundation

struct ExecCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run a command in a running instance of a service.",
        discussion: """
            Picks the service's first running instance (by id), or the one --instance names, \
            runs CMD there (no terminal, no standard input), prints its output and exits with \
            its exit code. For an interactive shell, `docker exec -it CONTAINER sh` with the \
            container that `berth exec SERVICE -- hostname` or `berth status --format json` \
            names. --format json prints {"formatVersion", "project", "service", "instance", \
            "command", "exitCode", "stdout", "stderr"} and exits 0 when the command ran. \
            Docker runtime only.
            """)

    @Argument(help: "The service to run the command in.", completion: ServiceCompletion.kind)
    var service: String

    @Option(name: .long, help: ArgumentHelp("The instance (a container id, or its start, or its name).", valueName: "ID"))
    var instance: String?

    @Argument(parsing: .postTerminator, help: ArgumentHelp("The command and its arguments, after --.", valueName: "CMD"))
    var command: [String] = []

    @OptionGroup var source: SourceOptions
    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var runtimeOptions: RuntimeOptions

    @Option(name: .long, help: "Output format: text (the command's own output) or json.")
    var format: ResultFormat = .text

    func validate() throws {
        if command.isEmpty {
            throw ValidationError("give the command after --: berth exec \(service) -- CMD [ARG...]")
        }
    }

    struct Document: Encodable {
        var formatVersion = 1
        var project: String
        var service: String
        var instance: String
        var command: [String]
        var exitCode: Int
        var stdout: String
        var stderr: String
    }

    func run() async throws {
        var exitCode: Int32 = 0
        let project = projectOptions.name(source)
        let runtime = try await runtimeOptions.connectDocker(command: "berth exec")
        let chosen = try await InstancePicker.containers(
            of: service, project: project, instance: instance, runtime: runtime, runningOnly: true)[0]
        let result: DockerClient.ExecResult
        do {
            result = try await runtime.client.exec(chosen.Id, command)
        } catch {
            throw CommandFailure("error: running \(command.joined(separator: " ")) in \(service) \(chosen.Id.prefix(12)): \(error)")
        }
        switch format {
        case .json:
            print(try encodeJSON(Document(
                project: project, service: service, instance: String(chosen.Id.prefix(12)), command: command,
                exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr)))
        case .text:
            FileHandle.standardOutput.write(Data(result.stdout.utf8))
            FileHandle.standardError.write(Data(result.stderr.utf8))
            exitCode = Int32(clamping: result.exitCode)
        }
        if exitCode != 0 { throw ExitCode(exitCode) }
    }
}
