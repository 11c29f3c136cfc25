import ArgumentParser
import BerthCore
import BerthDocker
import BerthEngine
import BerthProxy
import Foundation

struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Compute the plan (as `berth plan` shows it), then carry it out.",
        discussion: """
            Steps run wave by wave; the steps of one wave run at once. A service is created or \
            updated only once the services it depends on are healthy. A rolling update starts a \
            new instance, waits until it is healthy, then drains and stops an old one; a new \
            instance that fails or misses progressDeadline rolls the service back (or pauses it).
            Progress goes to standard error, one line per event; the plan and the final status \
            to standard output.
            Exit codes: 0 converged, 1 any failure (a rolled-back or paused rollout included), \
            or nothing applied (declined, no terminal to ask on, errors in the desired state).
            """)

    @OptionGroup var source: SourceOptions
    @OptionGroup var runtimeOptions: RuntimeOptions
    @OptionGroup var projectOptions: ProjectOptions

    @Flag(name: .long, help: "Delete services that are no longer in the desired state.")
    var prune = false

    @Flag(name: .long, help: "Allow a plan that deletes more than half of the running services.")
    var allowMassDelete = false

    @Flag(name: .long, help: "Apply without asking for confirmation (needed when there is no terminal).")
    var autoApprove = false

    @Option(name: .long, help: "Output format: text or json.")
    var format: OutputFormat = .text

    func validate() throws {
        if format == .markdown { throw ValidationError("--format markdown is for plan and diff; apply prints text or json") }
    }

    func run() async throws {
        try await runReportingFailures { try await apply() }
    }

    private func apply() async throws {
        let desired = try await source.loadDesiredState()
        for d in desired.diagnostics.sorted() { printError(d.rendered) }
        if desired.hasErrors {
            let n = desired.diagnostics.filter { $0.severity == .error }.count
            throw CommandFailure("error: the desired state has \(n) error\(n == 1 ? "" : "s") (above); nothing was applied. Fix them, commit, and apply again")
        }
        let runtime = try await runtimeOptions.connect(command: "berth apply")
        let project = projectOptions.name(source)
        let observed = try await observe(runtime, project)
        let plan: Plan
        do {
            plan = try Planner.plan(
                desired: desired, observed: observed, options: PlanOptions(prune: prune, allowMassDelete: allowMassDelete))
        } catch {
            throw CommandFailure("error: \(error)")
        }
        if format == .text { print(PlanRendering.text(plan), terminator: "") }

        var report = ApplyReport(plan: plan, steps: [], duration: .zero)
        if plan.hasChanges {
            try confirm(plan, project: project)
            fflush(nil)
            // What an interrupted run left half-made (created, never started) goes first; only
            // once confirmed (a declined apply changes nothing), and only containers created
            // at least 10 s ago (a younger one may be a running watch's start in flight).
            if let swept = try? await runtime.sweep(project: project, minimumAge: .seconds(10)), !swept.isEmpty {
                printError("removed \(swept.count) container\(swept.count == 1 ? "" : "s") that an interrupted run created but never started: \(swept.map(shortID).joined(separator: ", "))")
            }
            let printer = ProgressPrinter(plan: plan)
            // New replicas join, and old ones drain from, the project's `berth proxy` if one runs.
            let router = ProxyRouter(
                stateDirectory: WatchCommand.defaultStateDir(project: project, environment: ProcessInfo.processInfo.environment),
                project: project)
            report = await Executor(runtime: runtime, project: project, router: router).apply(
                plan, desired: desired, observed: observed, onEvent: { printer($0) })
            printer.finish()
        }
        let after = try await observe(runtime, project)
        let status = StatusReport(desired: desired, observed: after)
        switch format {
        case .json:
            print(try encodeJSON(ApplyDocument(report: report, status: status)))
        case .text, .markdown:
            print("")
            print(StatusRendering.text(status), terminator: "")
        }
        let failures = report.failures
        if !failures.isEmpty {
            printError("error: \(failures.count) of \(report.steps.count) step\(report.steps.count == 1 ? "" : "s") did not succeed:")
            for f in failures { printError("  " + f.line) }
            throw ExitCode(ExitStatus.failure)
        }
        if plan.hasChanges {
            printError("Apply complete in \(formatSeconds(report.duration)): \(report.steps.count) step\(report.steps.count == 1 ? "" : "s") succeeded.")
        }
    }

    private func observe(_ runtime: DockerRuntime, _ project: String) async throws -> ObservedState {
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
