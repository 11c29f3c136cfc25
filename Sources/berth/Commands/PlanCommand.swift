import ArgumentParser
import BerthCore
import BerthEngine
import BerthGit
import Foundation
import Logging

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Compare the desired state in git with what runs, and print the ordered plan.",
        discussion: """
            Symbols: + create, ~ update, > scale, ! heal, - delete. Steps of one wave do not \
            depend on each other; deletes come last, in reverse dependency order.

            The plan is what `berth apply` and `berth watch` would do: all three prune by \
            default (--no-prune keeps services no longer in git), and the first line says \
            prune: on or off. The operator's controls in <state-dir>/controls.json hold for \
            the plan as for apply: a service pinned by berth rollback is planned at its pinned \
            revision, one scaled by berth scale at its count, a suspended one gets no step; \
            the plan says so under "Not changed", and says when a commit would end a pin or an \
            override (apply and watch end it; plan never changes the controls). berth plans the commit, never the work tree: uncommitted \
            changes to manifests get a warning that they are not in the plan.

            Exit codes: 0 success; with --detailed-exitcode 0 no changes, 2 changes present; \
            1 error (including a desired state with errors, a dependency cycle, or a refused \
            mass deletion).
            """)

    @OptionGroup var source: SourceOptions

    /// Default: the project of the --observed file, else the repository's folder name.
    @OptionGroup var projectOptions: ProjectOptions

    /// Where what runs is observed when there is no --observed.
    @OptionGroup var runtimeOptions: RuntimeOptions

    @Option(name: .long, help: ArgumentHelp(
        "Observed state: a file with the JSON of `berth status --format json`, or `none` when nothing runs yet.",
        valueName: "FILE|none"))
    var observed: String?

    @OptionGroup var pruning: PruneOptions

    /// Where the operator's controls are (`berth rollback`, `scale`, `suspend`): planned
    /// through, as apply and watch do.
    @OptionGroup var state: StateOptions

    @Flag(name: .long, help: "Allow a plan that deletes more than half of the running services.")
    var allowMassDelete = false

    @Option(name: .long, help: "Output format: text, json or markdown.")
    var format: OutputFormat = .text

    @OptionGroup var colour: ColourOptions

    @Flag(name: .long, help: "Exit 0 when there are no changes, 2 when there are, 1 on error.")
    var detailedExitcode = false

    func run() async throws {
        let observedState: ObservedState
        if let observed {
            observedState = try Self.loadObservedState(observed, project: projectOptions, source: source)
        } else {
            observedState = try await Self.observeRuntime(runtimeOptions, project: projectOptions.name(source))
        }
        let desired = try await Self.loadDesiredState(source)

        ErrorReporting.report(desired.diagnostics.sorted(), json: format == .json)
        await Self.warnAboutUncommittedChanges(source)

        let plan = try await Self.plan(
            desired, observed: observedState, stateDirectory: state.directory(project: observedState.project),
            options: PlanOptions(prune: pruning.prune, allowMassDelete: allowMassDelete))

        switch format {
        case .text: print(colour.enabled ? Colour.plan(PlanRendering.text(plan)) : PlanRendering.text(plan), terminator: "")
        case .json: print(plan.jsonText(), terminator: "")
        case .markdown: print(PlanRendering.markdown(plan), terminator: "")
        }

        if desired.hasErrors {
            let n = desired.diagnostics.filter { $0.severity == .error }.count
            throw Failure("error: the desired state has \(n) error\(n == 1 ? "" : "s") (above); the plan covers only the services that loaded, and prunes nothing")
        }
        if detailedExitcode && plan.hasChanges { throw ExitCode(ExitStatus.changes) }
    }
}

/// Where `berth plan` gets its inputs.
extension PlanCommand {
    /// The plan `berth apply` would make: the one sync pipeline, read-only (`Options.readOnly`),
    /// on what was observed — the same overlays (the operator's controls in
    /// `<state-dir>/controls.json`; autoscaled services at what runs, within their bounds),
    /// the same filter (a suspended service gets no step) and the same planner. It writes
    /// nothing: no controls file, journal or lease.
    static func plan(
        _ desired: DesiredState, observed: ObservedState, stateDirectory: String, options plan: PlanOptions
    ) async throws -> Plan {
        var options = SyncPipeline.Options()
        options.plan = plan
        options.readOnly = true
        let pipeline = SyncPipeline(
            project: observed.project, provider: ReadDesiredState(desired), runtime: ObservedSnapshot(observed),
            journal: nil, logger: Logger(label: "berth.plan") { _ in SwiftLogNoOpLogHandler() }, options: options,
            controls: ControlsStore(stateDirectory: stateDirectory))
        do {
            return try await pipeline.prepare().plan
        } catch {
            switch error {
            case .source(let cause), .plan(let cause), .observe(let cause): throw Failure("error: \(cause)")
            case .invalid: throw Failure("error: the desired state has errors")
            }
        }
    }

    /// `berth plan` and `berth apply` read the commit, never the work tree: say so when the
    /// work tree's manifests differ from it (for `--ref HEAD` of a local work tree only, where
    /// the two are meant to be the same).
    static func warnAboutUncommittedChanges(_ source: SourceOptions) async {
        guard source.ref == "HEAD", source.repo.map({ !GitRepository.isRemote($0) }) ?? true,
              let repository = try? await source.openRepository(), await repository.workDirectory != nil,
              let head = try? await repository.resolve("HEAD")
        else { return }
        let src = GitDesiredStateSource(repository: repository)
        guard let path = try? await src.manifestsPath(at: head, requested: source.path, revision: "HEAD") else { return }
        let changed = await repository.uncommittedChanges(under: path).filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
        guard !changed.isEmpty else { return }
        let shown = changed.prefix(5).joined(separator: ", ") + (changed.count > 5 ? " and \(changed.count - 5) more" : "")
        Self.stderr(SafeText.escaped(
            "warning: uncommitted changes to manifests (\(shown)) are not in this plan: berth reads the commit HEAD, as berth watch does; commit them to plan them") + "\n")
    }

    /// Desired state from the git tree of `--ref` (never the working copy).
    static func loadDesiredState(_ source: SourceOptions) async throws -> DesiredState {
        try await withSourceErrors {
            try await source.openSource().desiredState(revision: source.ref, path: source.path)
        }
    }

    /// `--observed FILE|none` and `--project`.
    static func loadObservedState(_ argument: String, project options: ProjectOptions, source: SourceOptions) throws -> ObservedState {
        if argument == "none" {
            return .none(project: options.name(source))
        }
        let project = options.project
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: argument))
        } catch {
            throw Failure("error: \(argument): cannot read the observed state: \(error.localizedDescription)")
        }
        let state: ObservedState
        do {
            state = try JSONDecoder().decode(ObservedState.self, from: data)
        } catch {
            throw Failure("""
                error: \(argument): not an observed state (expected the JSON of \
                `berth status --format json`): \(Self.describe(error))
                """)
        }
        if let project, project != state.project {
            throw Failure("""
                error: \(argument) describes project \(state.project), not \(project): \
                pass --project \(state.project), or the status file of project \(project)
                """)
        }
        return state
    }

    /// The repository's folder name: the last component of `--repo` (without `.git`), or of
    /// the working tree that holds the current directory.
    static func defaultProject(_ source: SourceOptions) -> String {
        var path: String
        if let repo = source.repo {
            path = repo
        } else {
            var dir = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            while dir.path != "/" && !FileManager.default.fileExists(atPath: dir.appendingPathComponent(".git").path) {
                dir.deleteLastPathComponent()
            }
            path = dir.path == "/" ? FileManager.default.currentDirectoryPath : dir.path
        }
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        var name = String(path.split(whereSeparator: { $0 == "/" || $0 == ":" }).last ?? "berth")
        if name.hasSuffix(".git") && name.count > 4 { name.removeLast(4) }
        return name
    }

    static func describe(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?:
            return "missing field \(path(context.codingPath + [key]))"
        case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?:
            return "\(path(context.codingPath)): \(context.debugDescription)"
        case .dataCorrupted(let context)?:
            let at = context.codingPath.isEmpty ? "" : "\(path(context.codingPath)): "
            return at + context.debugDescription
        default:
            return "\(error)"
        }
    }

    static func path(_ keys: [any CodingKey]) -> String {
        var out = ""
        for k in keys {
            if let i = k.intValue { out += "[\(i)]" } else { out += out.isEmpty ? k.stringValue : ".\(k.stringValue)" }
        }
        return out
    }

    /// A failure already worded for the operator (`ErrorReporting` prints it).
    typealias Failure = CommandFailure

    static func stderr(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
