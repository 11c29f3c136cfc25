import ArgumentParser
import BerthCore
import BerthEngine

/// The options of the commands that change a project by hand — `rollback`, `scale`,
/// `suspend`, `resume` — and the steps they share: find the service in git, record the
/// change, make it take effect, print what happened.
struct ControlOptions: ParsableArguments {
    @OptionGroup var source: SourceOptions
    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var state: StateOptions
    @OptionGroup var runtimeOptions: RuntimeOptions

    @Option(name: .long, help: "Output format: text or json.")
    var format: ResultFormat = .text

    func flow() -> ControlFlow {
        let project = projectOptions.name(source)
        return ControlFlow(project: project, stateDirectory: state.directory(project: project))
    }

    /// Git's spec of `service` at `--ref`: an unknown name is an error with a "did you mean",
    /// and so is a service whose manifest has errors.
    func gitSpec(_ service: String, in desired: DesiredState, project: String) throws -> ServiceSpec {
        try ServiceNames.check(service, desired: desired, observed: nil, project: project)
        guard let spec = desired.services[service] else {
            throw CommandFailure(
                "error: \(service) has errors at \(source.ref) (berth validate says which); fix them and commit first")
        }
        return spec
    }

    /// Records `change` (controls file and journal), makes it take effect — applied here to
    /// `service` when `apply` and nothing holds the project, else the watch is asked to
    /// sync —, prints what happened; exit 1 when applying it here failed.
    func carryOut(
        _ flow: ControlFlow, service: String?, action: String, sentence: String, mark: ControlMark,
        desired: DesiredState, apply: Bool, command: String, _ change: (inout ProjectControls) throws -> Void
    ) async throws {
        try await flow.record(service: service, action: action, sentence: sentence, commit: desired.commit, change)
        let effect = try await flow.takeEffect(
            scope: service.map { [$0] }, apply: apply, desired: desired, source: source, runtimeOptions: runtimeOptions,
            command: command, quiet: format == .json)
        ControlOutput.print(
            format: format, project: flow.project, service: service, action: action, sentence: sentence, mark: mark,
            effect: effect)
        if effect.failed { throw ExitCode(ExitStatus.failure) }
    }
}
