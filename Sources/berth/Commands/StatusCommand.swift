import ArgumentParser
import BerthCore
import BerthDocker
import Foundation

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show, per service, the desired state in git against what runs: replicas, sync and health.",
        discussion: """
            SYNC is Synced when every instance runs the desired revision at the desired count. \
            HEALTH is the worst that applies: Degraded (an instance exited or is unhealthy), \
            Missing (nothing runs), Progressing (a rollout or scaling is under way), Healthy.
            The JSON (--format json) is the document that `berth plan --observed FILE` reads.
            Exit codes: 0 success (whatever the health), 1 error.
            """)

    @OptionGroup var source: SourceOptions
    @OptionGroup var runtimeOptions: RuntimeOptions

    @Option(name: .long, help: "Output format: text or json.")
    var format: OutputFormat = .text

    func validate() throws {
        if format == .markdown { throw ValidationError("--format markdown is for plan and diff; status prints text or json") }
    }

    func run() async throws {
        try await runReportingFailures {
            let desired = try await source.loadDesiredState()
            for d in desired.diagnostics.sorted() { printError(d.rendered) }
            let runtime = try await runtimeOptions.connect()
            let project = runtimeOptions.projectName(source)
            let observed: ObservedState
            do {
                observed = try await runtime.observe(project: project)
            } catch {
                throw CommandFailure("error: observing project \(project): \(error)")
            }
            let report = StatusReport(desired: desired, observed: observed)
            switch format {
            case .json: print(try encodeJSON(report))
            case .text, .markdown: print(StatusRendering.text(report), terminator: "")
            }
        }
    }
}
