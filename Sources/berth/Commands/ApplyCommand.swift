import ArgumentParser
import BerthCore
import BerthDocker
import BerthEngine
import BerthProxy
import Foundation
import Logging

struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Compute the plan (as `berth plan` shows it), then carry it out.",
        discussion: """
            Steps run wave by wave; the steps of one wave run at once. A service is created or \
            updated only once the services it depends on are healthy. A rolling update starts a \
            new instance, waits until it is healthy, then drains and stops an old one; a new \
            instance that fails or misses progressDeadline rolls the service back (or pauses it). \
            Services no longer in git are deleted, as berth plan shows and berth watch does \
            (--no-prune keeps them).
            Progress goes to standard error, one line per event; the plan and the final status \
            to standard output.
            Exit codes: 0 converged, 1 any failure (a rolled-back or paused rollout included), \
            or nothing applied (declined, no terminal to ask on, errors in the desired state, \
            the project in use).

            One process acts on a project at a time (the lease <state-dir>/lease.json). While \
            another `berth apply` runs for the project, apply waits for it and says who it \
            waits for (--no-wait: exit 1 instead). While `berth watch` runs for the project, \
            apply exits 1 at once: the watch applies every commit itself; ask it to sync with \
            POST /api/v1/sync, or stop it first.

            Every apply that gets to its plan is recorded in <state-dir>/journal.sqlite, as \
            berth watch records its syncs (trigger manual, with who ran it: user@host): \
            `berth journal`, `berth history --applied` and `berth status` read it.
            """)

    @OptionGroup var source: SourceOptions
    @OptionGroup var runtimeOptions: RuntimeOptions
    @OptionGroup var projectOptions: ProjectOptions

    @OptionGroup var pruning: PruneOptions

    @Option(name: .customLong("delete-volume"), help: "Delete this named volume of the project and all its data, with the plan's confirmation (repeatable). Refused while a service of the desired state mounts it; a prune never deletes a volume.")
    var deleteVolumes: [String] = []

    @Flag(name: .long, help: "Allow a plan that deletes more than half of the running services.")
    var allowMassDelete = false

    @Flag(name: .long, help: "Apply without asking for confirmation (needed when there is no terminal).")
    var autoApprove = false

    @Option(name: .long, help: "Output format: text or json.")
    var format: ResultFormat = .text

    @Option(name: .customLong("state-dir"), help: StateOptions.help)
    var stateDir: String?

    @Flag(name: .customLong("no-wait"), help: "Exit 1 at once when another berth apply acts on the project, instead of waiting for it.")
    var noWait = false

    func run() async throws {
        try await apply()
    }

    private func apply() async throws {
        let project = projectOptions.name(source)
        let stateDirectory = StateFolder.path(stateDir, project: project)
        let lease = try await ProjectLeasing.forApply(project: project, stateDirectory: stateDirectory, noWait: noWait)
        defer { withExtendedLifetime(lease) {} }
        let desired = try await source.loadDesiredState()
        ErrorReporting.report(desired.diagnostics.sorted(), json: format == .json)
        if desired.hasErrors {
            let n = desired.diagnostics.filter { $0.severity == .error }.count
            throw CommandFailure("error: the desired state has \(n) error\(n == 1 ? "" : "s") (above); nothing was applied. Fix them, commit, and apply again")
        }
        var runtime = try await runtimeOptions.connectRuntime()
        if var docker = runtime as? DockerRuntime {
            // Secrets (`secrets/NAME.age`) are read from the repository being applied.
            let source = self.source
            docker.secretSource = AgeSecretSource.fromEnvironment(ProcessInfo.processInfo.environment) {
                try await source.openRepository()
            }
            runtime = docker
        }
        // The one sync pipeline, once: overlays, observe, plan (printed), ask, apply.
        var options = SyncPipeline.Options()
        options.plan = PlanOptions(prune: pruning.prune, allowMassDelete: allowMassDelete)
        let pipeline = SyncPipeline(
            project: project, provider: ReadDesiredState(desired), runtime: runtime,
            // New replicas join, and old ones drain from, the project's `berth proxy` if one runs.
            router: ProxyRouter(stateDirectory: stateDirectory, project: project),
            // Journaled as watch's syncs are (trigger manual, with who ran it), so that
            // `history --applied` and `status` know what an apply did.
            journal: try StateFiles.openJournal(stateDirectory),
            logger: Logger(label: "berth.apply") { _ in SwiftLogNoOpLogHandler() }, options: options,
            // Pins (berth rollback), replica overrides (berth scale) and suspensions hold for apply too.
            controls: ControlsStore(stateDirectory: stateDirectory), actor: OperatorIdentity.current())
        let prepared: SyncPipeline.PreparedSync
        do {
            prepared = try await pipeline.prepare()
        } catch {
            switch error {
            case .source(let cause), .plan(let cause): throw CommandFailure("error: \(cause)")
            case .observe(let cause): throw CommandFailure("error: observing project \(project): \(cause)")
            case .invalid: throw CommandFailure("error: the desired state has errors; nothing was applied")
            }
        }
        let plan = prepared.plan
        if format == .text { print(PlanRendering.text(plan), terminator: "") }
        var deletion: VolumeDeletion?
        if !deleteVolumes.isEmpty {
            guard let docker = runtime as? DockerRuntime else {
                throw CommandFailure("error: --delete-volume deletes volumes of the Docker runtime; this apply drives a Swarm")
            }
            let checked = try await VolumeDeletion.check(deleteVolumes, project: project, desired: desired, runtime: docker)
            for line in checked.lines(colour: DiagnosticsRenderer.wantsColour(fileDescriptor: 1, environment: ProcessInfo.processInfo.environment)) {
                print(line)
            }
            deletion = checked
        }

        var report = ApplyReport(plan: plan, steps: [], duration: .zero)
        if deletion != nil && !plan.hasChanges { try confirm(plan, project: project) }
        if plan.hasChanges {
            try confirm(plan, project: project)
            fflush(nil)
            // Progress is printed from the pipeline's events as they happen. What an
            // interrupted run left half-made (created, never started) is swept first; only once
            // confirmed (a declined apply changes nothing), and only containers created at
            // least 10 s ago (a younger one may be another process's start in flight).
            let printer = ProgressPrinter(plan: plan)
            let (subscription, events) = pipeline.events.subscribe()
            let printing = Task {
                for await event in events {
                    switch event.kind {
                    case .step(let step): printer(step)
                    case .swept: printer.print(event.line)
                    default: break
                    }
                }
            }
            report = await pipeline.execute(prepared)
            pipeline.events.cancel(subscription)
            await printing.value
            printer.finish()
            await pipeline.record(prepared, report: report)
        } else {
            await pipeline.record(prepared, report: nil)
        }
        // No Berth process stays: Docker restarts the containers from now on (after a crash,
        // a dockerd restart, a reboot), including any a watch killed with SIGKILL left to Berth.
        do {
            // Docker's runtime only: a Swarm restarts its tasks itself.
            try await (runtime as? DockerRuntime)?.handOverRestarts(project: project, to: .docker)
        } catch {
            printError("warning: could not hand restarts of project \(project) to Docker: \(error); after a reboot its containers may not come back until berth apply or berth watch runs")
        }
        let after = try await observe(runtime, project)
        let status = StatusReport(desired: desired, observed: after, context: await pipeline.statusContext())
        switch format {
        case .json:
            print(try encodeJSON(ApplyDocument(report: report, status: status)))
        case .text:
            print("")
            print(StatusRendering.text(status), terminator: "")
        }
        let failures = report.failures
        if let deletion, let docker = runtime as? DockerRuntime {
            if failures.isEmpty {
                try await deletion.run(docker)
            } else {
                printError("volumes kept (\(deletion.names.joined(separator: ", "))): the plan's steps did not all succeed")
            }
        }
        if let docker = runtime as? DockerRuntime,
           let unused = try? await VolumeDeletion.unused(project: project, desired: desired, runtime: docker), !unused.isEmpty
        {
            printError("note: volume\(unused.count == 1 ? "" : "s") \(unused.joined(separator: ", ")) of project \(project) no service uses any more: kept with \(unused.count == 1 ? "its" : "their") data; `berth apply --delete-volume NAME` deletes one")
        }
        if !failures.isEmpty {
            throw CommandFailure(
                (["error: \(failures.count) of \(report.steps.count) step\(report.steps.count == 1 ? "" : "s") did not succeed:"]
                    + failures.map { "  " + $0.line }).joined(separator: "\n"))
        }
        if plan.hasChanges {
            printError("Apply complete in \(formatSeconds(report.duration)): \(report.steps.count) step\(report.steps.count == 1 ? "" : "s") succeeded.")
        }
    }

    private func observe(_ runtime: any ContainerRuntime, _ project: String) async throws -> ObservedState {
        do {
            return try await runtime.observe(project: project)
        } catch {
            throw CommandFailure("error: observing project \(project): \(error)")
        }
    }

    /// Asks on a terminal unless `--auto-approve`; with no terminal, refuses.
    private func confirm(_ plan: Plan, project: String) throws {
        if autoApprove { return }
        guard canAsk() else {
            throw CommandFailure("error: berth apply asks before changing anything, and there is no terminal to ask on: pass --auto-approve to apply without asking")
        }
        fflush(nil)
        FileHandle.standardError.write(Data("Apply this plan to project \(project)? Only 'yes' is accepted: ".utf8))
        let answer = readLine(strippingNewline: true)?.trimmingCharacters(in: .whitespaces)
        guard answer == "yes" else {
            throw CommandFailure("Apply cancelled: nothing was changed.")
        }
    }
}

/// `berth apply --format json`: `{"formatVersion": 1, "project", "revision", "plan",
/// "steps": [{"service", "action", "wave", "outcome", "message", "durationMs"}],
/// "warnings": [{"service", "message"}], "converged", "status"}`.
struct ApplyDocument: Encodable {
    var report: ApplyReport
    var status: StatusReport

    struct Step: Encodable {
        var service: String
        var action: String
        var wave: Int
        var outcome: String
        var message: String?
        var durationMs: Int64
    }

    struct Warning: Encodable {
        var service: String
        var message: String
    }

    enum CodingKeys: String, CodingKey { case formatVersion, project, revision, plan, steps, warnings, converged, status }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(1, forKey: .formatVersion)
        try c.encode(status.project, forKey: .project)
        try c.encodeIfPresent(report.plan.revision, forKey: .revision)
        try c.encode(report.plan, forKey: .plan)
        try c.encode(report.steps.map { s in
            let d = s.duration.components
            return Step(
                service: s.step.service, action: s.step.action.rawValue, wave: s.step.wave, outcome: s.outcome.word,
                message: s.outcome.message, durationMs: d.seconds * 1000 + d.attoseconds / 1_000_000_000_000_000)
        }, forKey: .steps)
        try c.encode(report.warnings.map { Warning(service: $0.service, message: $0.message) }, forKey: .warnings)
        try c.encode(report.succeeded && status.services.allSatisfy { $0.sync == .synced }, forKey: .converged)
        try c.encode(status, forKey: .status)
    }
}
