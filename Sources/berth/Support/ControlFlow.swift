import BerthCore
import BerthDocker
import BerthEngine
import BerthProxy
import Foundation
import Logging

/// The one flow of the commands that change a project by hand — `rollback`, `scale`,
/// `suspend`, `resume`:
///
/// 1. the change goes into `<state-dir>/controls.json` (under its lock) and into the journal
///    (trigger `manual`, who ran it), so it survives restarts and `history`/`journal` show it;
/// 2. then it takes effect: when no process holds the project lease, the command takes it and
///    syncs the service itself, through the one sync pipeline (`apply: true`); when
///    `berth watch` holds it, the command asks the watch to sync now (`POST /api/v1/sync`,
///    with `BERTH_API_TOKEN`) or says how, since the watch reads the controls on every sync;
///    while a `berth apply` holds it, the change waits for the next sync.
struct ControlFlow {
    let project: String
    let stateDirectory: String
    let actor: String
    let store: ControlsStore

    init(project: String, stateDirectory: String) {
        self.project = project
        self.stateDirectory = stateDirectory
        self.actor = OperatorIdentity.current()
        self.store = ControlsStore(stateDirectory: stateDirectory)
    }

    func mark(_ now: Date = Date()) -> ControlMark { ControlMark(by: actor, at: Timestamp.string(now)) }

    /// Writes the change and journals it as one step `action` of `service` with `sentence`.
    func record(
        service: String?, action: String, sentence: String, commit: String?,
        _ change: (inout ProjectControls) throws -> Void
    ) async throws {
        do {
            try store.update(change)
        } catch {
            throw CommandFailure("error: \(error)")
        }
        let journal = try StateFiles.openJournal(stateDirectory)
        let t = Timestamp.string(Date())
        do {
            try await journal.append(JournalRecord(
                started: t, ended: t, commit: commit, trigger: .manual, result: .succeeded,
                steps: [JournalStep(
                    action: action, service: service ?? "(project)", wave: 0, reason: sentence, outcome: .succeeded,
                    durationMs: 0)],
                actor: actor))
        } catch {
            throw CommandFailure("error: \(sentence), but it could not be journaled: \(error)")
        }
    }

    /// How the change took effect.
    enum Effect {
        /// Applied here: the sync's report (nil: nothing to do) and the plan it ran.
        case applied(ApplyReport?, Plan)
        /// `berth watch` holds the project: what was done to make it act, in a sentence.
        case watch(String)
        /// Another process acts on the project: the change waits for its next sync.
        case waiting(String)
        /// Nothing to apply (a suspension, a resume while nothing acts).
        case recorded
    }

    /// Takes effect as the type says: syncs `scope` here (when `apply`), or nudges the watch.
    func takeEffect(
        scope: Set<String>?, apply: Bool, desired: DesiredState, source: SourceOptions, runtimeOptions: RuntimeOptions,
        command: String, quiet: Bool
    ) async throws -> Effect {
        let attempt: ProjectLease.Attempt
        do {
            attempt = try ProjectLease.tryAcquire(stateDirectory: stateDirectory, holder: ProjectLease.Holder(command: command))
        } catch {
            throw CommandFailure("error: \(error)")
        }
        switch attempt {
        case .held(let holder?) where holder.isWatch:
            return .watch(await nudge(holder))
        case .held(let holder):
            return .waiting(
                "\(ProjectLeasing.who(holder, stateDirectory: stateDirectory)) acts on project \(project) now; the change takes effect at the next sync (berth apply, or berth watch)")
        case .acquired(let lease):
            defer { withExtendedLifetime(lease) {} }
            guard apply else { return .recorded }
            return try await sync(scope: scope, desired: desired, source: source, runtimeOptions: runtimeOptions, quiet: quiet)
        }
    }

    /// One sync of `scope` through the pipeline, as `berth apply` runs it, printing progress.
    private func sync(
        scope: Set<String>?, desired: DesiredState, source: SourceOptions, runtimeOptions: RuntimeOptions, quiet: Bool
    ) async throws -> Effect {
        var runtime = try await runtimeOptions.connectRuntime()
        if var docker = runtime as? DockerRuntime {
            // Secrets (`secrets/NAME.age`) are read from the repository, as berth apply does.
            docker.secretSource = AgeSecretSource.fromEnvironment(ProcessInfo.processInfo.environment) {
                try await source.openRepository()
            }
            runtime = docker
        }
        var options = SyncPipeline.Options()
        // Only the service in scope is planned: nothing else is pruned or changed.
        options.plan = PlanOptions(prune: false)
        let pipeline = SyncPipeline(
            project: project, provider: ReadDesiredState(desired), runtime: runtime,
            router: ProxyRouter(stateDirectory: stateDirectory, project: project),
            journal: try StateFiles.openJournal(stateDirectory),
            logger: Logger(label: "berth.control") { _ in SwiftLogNoOpLogHandler() }, options: options,
            controls: store, actor: actor)
        await pipeline.resume()
        let prepared: SyncPipeline.PreparedSync
        do {
            prepared = try await pipeline.prepare(scope: scope)
        } catch {
            switch error {
            case .source(let cause), .plan(let cause): throw CommandFailure("error: \(cause)")
            case .observe(let cause): throw CommandFailure("error: observing project \(project): \(cause)")
            case .invalid: throw CommandFailure("error: the desired state has errors; nothing was applied")
            }
        }
        guard prepared.plan.hasChanges else {
            await pipeline.record(prepared, report: nil)
            return .applied(nil, prepared.plan)
        }
        let printer = ProgressPrinter(plan: prepared.plan)
        let (subscription, events) = pipeline.events.subscribe()
        let printing = Task {
            for await event in events where !quiet {
                if case .step(let step) = event.kind { printer(step) }
            }
        }
        let report = await pipeline.execute(prepared)
        pipeline.events.cancel(subscription)
        await printing.value
        printer.finish()
        await pipeline.record(prepared, report: report)
        // No Berth process stays: Docker restarts the new containers, as after berth apply.
        do {
            try await (runtime as? DockerRuntime)?.handOverRestarts(project: project, to: .docker)
        } catch {
            printError("warning: could not hand restarts of project \(project) to Docker: \(error); after a reboot its containers may not come back until berth apply or berth watch runs")
        }
        return .applied(report, prepared.plan)
    }

    /// Asks the watch to sync now when the token is at hand; else says how.
    private func nudge(_ watch: ProjectLease.Holder) async -> String {
        let later = "\(watch.description) applies it at its next sync (within its --interval)"
        guard let api = watch.api else { return later }
        let curl = "curl -X POST -H \"Authorization: Bearer $BERTH_API_TOKEN\" \(api)/api/v1/sync"
        guard let token = ProcessInfo.processInfo.environment["BERTH_API_TOKEN"], !token.isEmpty else {
            return "\(later); to apply it now: \(curl)"
        }
        if await WatchClient(api: api).requestSync(token: token) { return "asked \(watch.description) to sync now" }
        return "\(later); asking it to sync now failed: run \(curl)"
    }
}

extension ControlFlow.Effect {
    /// A line for people.
    var sentence: String? {
        switch self {
        case .applied(let report?, _):
            let failed = report.failures.count
            return failed == 0
                ? "applied: \(report.steps.count) step\(report.steps.count == 1 ? "" : "s") succeeded"
                : "applying it failed: \(failed) of \(report.steps.count) step\(report.steps.count == 1 ? "" : "s") did not succeed"
        case .applied(nil, _): return "nothing to change: what runs already matches"
        case .watch(let text), .waiting(let text): return text
        case .recorded: return nil
        }
    }

    var failed: Bool {
        if case .applied(let report?, _) = self { return !report.failures.isEmpty }
        return false
    }

    /// `{"mode": "applied|watch|waiting|recorded", "message", "steps"}` for `--format json`.
    var document: ControlEffectDocument {
        switch self {
        case .applied(let report, _):
            return ControlEffectDocument(
                mode: "applied", message: sentence,
                steps: (report?.steps ?? []).map {
                    let d = $0.duration.components
                    return ApplyDocument.Step(
                        service: $0.step.service, action: $0.step.action.rawValue, wave: $0.step.wave,
                        outcome: $0.outcome.word, message: $0.outcome.message,
                        durationMs: d.seconds * 1000 + d.attoseconds / 1_000_000_000_000_000)
                })
        case .watch(let text): return ControlEffectDocument(mode: "watch", message: text, steps: [])
        case .waiting(let text): return ControlEffectDocument(mode: "waiting", message: text, steps: [])
        case .recorded: return ControlEffectDocument(mode: "recorded", message: nil, steps: [])
        }
    }
}

struct ControlEffectDocument: Encodable {
    var mode: String
    var message: String?
    var steps: [ApplyDocument.Step]
}

/// `--format json` of `rollback`, `scale`, `suspend`, `resume`: `{"formatVersion": 1,
/// "project", "service", "action", "message", "by", "at", "effect": {"mode", "message",
/// "steps"}}` (`service` absent for the whole project).
struct ControlDocument: Encodable {
    var formatVersion = 1
    var project: String
    var service: String?
    var action: String
    var message: String
    var by: String
    var at: String
    var effect: ControlEffectDocument
}

/// The names a command may take as SERVICE: desired in git or running; an unknown one is a
/// usage error with a "did you mean".
enum ServiceNames {
    static func check(_ name: String, desired: DesiredState, observed: ObservedState?, project: String) throws {
        let known = Set(desired.services.keys).union(observed?.services.map(\.name) ?? [])
            .filter { $0 != ObservedService.straysName }
        guard !known.contains(name) else { return }
        throw CommandFailure(SafeText.escaped("error: project \(project) has no service \(name)" + hint(name, among: known)))
    }

    /// `; did you mean NAME?` when one of `known` is close to `name`, else ` (its services:
    /// A, B)`; empty when there are none.
    static func hint(_ name: String, among known: Set<String>) -> String {
        if let close = Suggestion.closest(to: name, among: known.sorted()) { return "; did you mean \(close)?" }
        return known.isEmpty ? "" : " (its services: \(known.sorted().joined(separator: ", ")))"
    }
}
